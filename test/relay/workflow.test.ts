/**
 * The GitHub Actions workflow (.github/workflows/ci.yml), checked offline: yamllint for the
 * YAML itself, then the parsed workflow for what CI and deployment must do.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readYaml, repoRoot, requireTool, runTool } from '../support/tools.ts';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

interface Job {
  'runs-on': string;
  if?: string;
  needs?: string | string[];
  env?: Record<string, string>;
  services?: Record<string, { image: string; env?: Record<string, string>; ports?: string[] }>;
  steps: Step[];
}

interface Workflow {
  jobs: Record<string, Job>;
}

/** Every YAML file of the operations setup: CI, the data plane and its monitoring. */
const YAML_FILES = [
  '.github/workflows/ci.yml',
  'docker-compose.yml',
  'relay/local/docker/prometheus/prometheus.yml',
  'relay/local/docker/prometheus/alerts.yml',
  'relay/local/docker/prometheus/alerts.test.yml',
  'relay/local/docker/alertmanager/alertmanager.yml',
  'relay/local/docker/grafana/provisioning/datasources/prometheus.yml',
  'relay/local/docker/grafana/provisioning/dashboards/dashboards.yml',
];

let workflow: Workflow;
let triggers: Record<string, unknown>;

beforeAll(async () => {
  await requireTool('yamllint');
  const parsed = (await readYaml('.github/workflows/ci.yml')) as Workflow & Record<string, unknown>;
  workflow = parsed;
  // PyYAML reads the `on` key as the YAML 1.1 boolean true; GitHub reads it as "on".
  triggers = (parsed.on ?? parsed.true) as Record<string, unknown>;
});

function job(name: string): Job {
  const found = workflow.jobs[name];
  if (!found) throw new Error(`ci.yml has no job "${name}"`);
  return found;
}

function runs(name: string): string[] {
  return job(name).steps.flatMap((step) => (step.run ? [step.run.trim()] : []));
}

describe('YAML files', () => {
  it('pass yamllint (relaxed rules)', async () => {
    const yamllint = await requireTool('yamllint');
    const result = await runTool(yamllint, [
      '-d',
      'relaxed',
      '--no-warnings',
      '-f',
      'parsable',
      ...YAML_FILES,
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});

describe('test job', () => {
  it('runs on every push and pull request', () => {
    expect(Object.keys(triggers)).toEqual(expect.arrayContaining(['push', 'pull_request']));
  });

  it('gets PostgreSQL 15, Redis 7 and RabbitMQ on the ports the tests use', () => {
    const { services } = job('test');
    expect(services?.postgres?.image).toBe('postgres:15');
    expect(services?.postgres?.env).toMatchObject({
      POSTGRES_HOST_AUTH_METHOD: 'trust',
      POSTGRES_USER: 'root',
    });
    expect(services?.redis?.image).toBe('redis:7');
    expect(services?.rabbitmq?.image).toMatch(/^rabbitmq:3\.13-management$/);
    expect(services?.postgres?.ports).toContain('5432:5432');
    expect(services?.redis?.ports).toContain('6379:6379');
    expect(services?.rabbitmq?.ports).toContain('5672:5672');
  });

  it('installs exactly the lockfile, creates both databases, then runs npm test', () => {
    const steps = runs('test');
    const install = steps.indexOf('npm ci');
    const createDatabases = steps.findIndex((run) => /psql .*create database/s.test(run));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(steps[createDatabases]).toMatch(/table_order table_order_test/);
    expect(steps.at(-1)).toBe('npm test');
    expect(createDatabases).toBeLessThan(steps.length - 1);
    expect(job('test').steps.some((step) => step.uses?.startsWith('actions/setup-node@'))).toBe(
      true,
    );
  });

  it('installs the tools the backup and configuration tests call', () => {
    const installs = runs('test').join('\n');
    for (const tool of ['postgresql-client-15', 'docker-compose', 'yamllint', 'prometheus']) {
      expect(installs, `the test job does not install ${tool}`).toContain(tool);
    }
  });
});

describe('deploy job', () => {
  it('deploys only pushes to main, and only after the tests passed', () => {
    const deploy = job('deploy');
    expect([deploy.needs].flat()).toContain('test');
    expect(deploy.if).toContain("github.event_name == 'push'");
    expect(deploy.if).toContain("github.ref == 'refs/heads/main'");
  });

  it('migrates the production database before deploying the Worker', () => {
    const steps = job('deploy').steps;
    const migrate = steps.findIndex((step) => step.run === 'npm run db:migrate');
    const deploy = steps.findIndex((step) => step.run === 'npx wrangler deploy --env production');
    expect(migrate).toBeGreaterThan(steps.findIndex((step) => step.run === 'npm ci'));
    expect(steps[migrate]?.env?.DATABASE_URL).toBe('${{ secrets.DATABASE_URL }}');
    expect(deploy).toBeGreaterThan(migrate);
    expect(job('deploy').env).toMatchObject({
      CLOUDFLARE_API_TOKEN: '${{ secrets.CLOUDFLARE_API_TOKEN }}',
      CLOUDFLARE_ACCOUNT_ID: '${{ secrets.CLOUDFLARE_ACCOUNT_ID }}',
    });
  });

  it("puts every Worker secret from GitHub's secrets through stdin, never on a command line", () => {
    const secrets = [
      'JWT_PRIVATE_KEY',
      'JWT_KEY_ID',
      'UPSTASH_REDIS_REST_TOKEN',
      'RELAY_HMAC_SECRET',
      'DATABASE_URL',
    ];
    const step = job('deploy').steps.find((candidate) => candidate.run?.includes('secret put'));
    for (const name of secrets) {
      expect(step?.run).toContain(
        `echo "$${name}" | npx wrangler secret put ${name} --env production`,
      );
      expect(step?.env?.[name]).toBe(`\${{ secrets.${name} }}`);
    }
  });
});

describe('.ci/run', () => {
  it('installs yamllint and promtool when missing, like docker-compose', async () => {
    const script = await readFile(join(repoRoot, '.ci/run'), 'utf8');
    expect(script).toMatch(/command -v yamllint.*?apt-get install -y -qq yamllint/s);
    expect(script).toMatch(/command -v promtool.*?apt-get install -y -qq prometheus/s);
  });
});
