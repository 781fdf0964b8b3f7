/**
 * The GitHub Actions workflow (.github/workflows/ci.yml), read as YAML for what CI and deployment
 * must do; `npm run check:ops` lints the YAML itself.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readYaml, repoRoot } from '../support/config-files.ts';

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
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

let workflow: Workflow;

beforeAll(async () => {
  workflow = (await readYaml('.github/workflows/ci.yml')) as Workflow;
});

function job(name: string): Job {
  const found = workflow.jobs[name];
  if (!found) throw new Error(`ci.yml has no job "${name}"`);
  return found;
}

function runs(name: string): string[] {
  return job(name).steps.flatMap((step) => (step.run ? [step.run.trim()] : []));
}

describe('test job', () => {
  it('runs on every push and pull request', () => {
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
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

  it('installs exactly the lockfile, creates both databases, runs npm test, then the ops checks', () => {
    const steps = runs('test');
    const install = steps.indexOf('npm ci');
    const createDatabases = steps.findIndex((run) => /psql .*create database/s.test(run));
    const test = steps.indexOf('npm test');
    expect(install).toBeGreaterThanOrEqual(0);
    expect(steps[createDatabases]).toMatch(/table_order table_order_test/);
    expect(createDatabases).toBeGreaterThan(install);
    expect(test).toBeGreaterThan(createDatabases);
    expect(steps.at(-1)).toBe('npm run check:ops');
    expect(job('test').steps.some((step) => step.uses?.startsWith('actions/setup-node@'))).toBe(
      true,
    );
  });

  it('runs the tests with the PostgreSQL 15 client only, and installs the ops tools after them', () => {
    const steps = runs('test');
    const test = steps.indexOf('npm test');
    const before = steps.slice(0, test).join('\n');
    const after = steps.slice(test + 1).join('\n');
    expect(before, 'pg_dump 15 for the backup tests').toContain('postgresql-client-15');
    for (const tool of ['docker-compose', 'yamllint', 'prometheus']) {
      expect(before, `npm test must not need ${tool}`).not.toContain(tool);
      expect(after, `the ops checks need ${tool}`).toContain(tool);
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

  it('migrates the production database (direct URL) before deploying the top level', () => {
    const steps = job('deploy').steps;
    const migrate = steps.findIndex((step) => step.run === 'npm run db:migrate');
    const deploy = steps.findIndex((step) => step.run === 'npx wrangler deploy --env=');
    expect(migrate).toBeGreaterThan(steps.findIndex((step) => step.run === 'npm ci'));
    expect(steps[migrate]?.env?.DATABASE_URL).toBe('${{ secrets.DATABASE_DIRECT_URL }}');
    expect(deploy).toBeGreaterThan(migrate);
    expect(job('deploy').env).toMatchObject({
      CLOUDFLARE_API_TOKEN: '${{ secrets.CLOUDFLARE_API_TOKEN }}',
      CLOUDFLARE_ACCOUNT_ID: '${{ secrets.CLOUDFLARE_ACCOUNT_ID }}',
    });
  });

  it("puts every Worker secret from GitHub's secrets in one call, through stdin, never on a command line", () => {
    const secrets = [
      'DATABASE_URL',
      'UPSTASH_REDIS_REST_URL',
      'UPSTASH_REDIS_REST_TOKEN',
      'JWT_PRIVATE_KEY',
      'JWT_KEY_ID',
      'RELAY_HMAC_SECRET',
    ];
    const steps = job('deploy').steps;
    const put = steps.findIndex((candidate) => candidate.run?.includes('wrangler secret'));
    const step = steps[put];
    expect(step?.run?.trim()).toMatch(/\| npx wrangler secret bulk --env=$/);
    expect(step?.run).not.toContain('${{');
    expect(Object.keys(step?.env ?? {}).sort()).toEqual([...secrets].sort());
    for (const name of secrets) {
      expect(step?.run).toContain(name);
      expect(step?.env?.[name]).toBe(`\${{ secrets.${name} }}`);
    }
    expect(put).toBeLessThan(
      steps.findIndex((candidate) => candidate.name === 'Deploy the Worker'),
    );
  });
});

describe('.ci/run', () => {
  it('runs npm test, then installs docker-compose, yamllint and promtool and runs the ops checks', async () => {
    const script = await readFile(join(repoRoot, '.ci/run'), 'utf8');
    const test = script.search(/^npm test$/m);
    const checks = script.search(/^npm run check:ops$/m);
    expect(test).toBeGreaterThan(script.search(/^npm ci$/m));
    for (const install of [
      /command -v docker-compose.*?apt-get install -y -qq docker-compose/s,
      /command -v yamllint.*?apt-get install -y -qq yamllint/s,
      /command -v promtool.*?apt-get install -y -qq prometheus/s,
    ]) {
      const at = script.search(install);
      expect(at, String(install)).toBeGreaterThan(test);
      expect(at, String(install)).toBeLessThan(checks);
    }
  });

  it('checks the production bundle size after npm test, as the test job does', async () => {
    const script = await readFile(join(repoRoot, '.ci/run'), 'utf8');
    expect(script.search(/^npm run check:bundle$/m)).toBeGreaterThan(script.search(/^npm test$/m));
    const steps = runs('test');
    expect(steps.indexOf('npm run check:bundle')).toBeGreaterThan(steps.indexOf('npm test'));
  });

  it('installs Chromium and runs the browser tests after npm test', async () => {
    const script = await readFile(join(repoRoot, '.ci/run'), 'utf8');
    const test = script.search(/^npm test$/m);
    const install = script.search(/command -v chromium.*?apt-get install -y -qq chromium/s);
    const browser = script.search(/^npm run test:browser$/m);
    expect(install).toBeGreaterThan(test);
    expect(browser).toBeGreaterThan(install);
  });
});
