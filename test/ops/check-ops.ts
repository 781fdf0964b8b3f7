/**
 * `npm run check:ops`: the checks of the operations files that need system tools. `npm test`
 * reads the same files without them; this runs after it (`.ci/run` installs the tools first):
 * - yamllint (relaxed rules) on every YAML file of CI, the data plane and its monitoring;
 * - promtool: the alert rules checked and unit-tested, Prometheus's configuration, and every
 *   Grafana panel query parsed as PromQL;
 * - docker-compose: docker-compose.yml valid with no variable set (each has a default).
 * A missing tool fails the run, naming the package that brings it.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isolatedEnv } from '../support/child-env.ts';
import { repoRoot } from '../support/config-files.ts';

const DOCKER = 'relay/local/docker';
const PROMETHEUS = `${DOCKER}/prometheus`;

/** Every YAML file of the operations setup: CI, the data plane and its monitoring. */
const YAML_FILES = [
  '.github/workflows/ci.yml',
  'docker-compose.yml',
  `${PROMETHEUS}/prometheus.yml`,
  `${PROMETHEUS}/alerts.yml`,
  `${PROMETHEUS}/alerts.test.yml`,
  `${DOCKER}/alertmanager/alertmanager.yml`,
  `${DOCKER}/grafana/provisioning/datasources/prometheus.yml`,
  `${DOCKER}/grafana/provisioning/dashboards/dashboards.yml`,
];

/** The Debian package of each tool (`apt-get install <package>`). */
const PACKAGES = {
  yamllint: 'yamllint',
  promtool: 'prometheus',
  'docker-compose': 'docker-compose',
};
type Tool = keyof typeof PACKAGES;

interface Outcome {
  ok: boolean;
  output: string;
}

/** The absolute path of `tool` on PATH, or undefined. */
async function find(tool: Tool): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, tool);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

/** Runs a program from the repository root with only PATH and HOME of this environment. */
function run(file: string, args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: repoRoot, env: isolatedEnv() }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim() || (error?.message ?? '');
      resolve({ ok: error === null, output });
    });
  });
}

/** Every Grafana panel query as a recording rule, so that promtool parses it as PromQL. */
async function dashboardQueriesAsRules(dir: string): Promise<string> {
  const dashboard = JSON.parse(
    await readFile(join(repoRoot, `${DOCKER}/grafana/dashboards/table-order.json`), 'utf8'),
  ) as { panels: { targets: { refId: string; expr: string }[] }[] };
  const rules = dashboard.panels.flatMap((panel, index) =>
    panel.targets.map(
      (target) =>
        `      - record: dashboard:panel_${index}_${target.refId}\n` +
        `        expr: ${JSON.stringify(target.expr)}`,
    ),
  );
  const file = join(dir, 'dashboard-queries.yml');
  await writeFile(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
  return file;
}

async function main(): Promise<boolean> {
  const tools = {} as Record<Tool, string>;
  const missing: string[] = [];
  for (const tool of Object.keys(PACKAGES) as Tool[]) {
    const path = await find(tool);
    if (path) tools[tool] = path;
    else missing.push(`${tool} (apt-get install ${PACKAGES[tool]})`);
  }
  if (missing.length > 0) {
    console.error(`check:ops: missing ${missing.join(', ')}; .ci/run installs them.`);
    return false;
  }

  const dir = await mkdtemp(join(tmpdir(), 'check-ops-'));
  try {
    const emptyEnvFile = join(dir, 'empty.env');
    await writeFile(emptyEnvFile, '');
    const checks: [string, () => Promise<Outcome>][] = [
      [
        'yamllint (relaxed)',
        () =>
          run(tools.yamllint, ['-d', 'relaxed', '--no-warnings', '-f', 'parsable', ...YAML_FILES]),
      ],
      [
        'promtool check rules',
        () => run(tools.promtool, ['check', 'rules', `${PROMETHEUS}/alerts.yml`]),
      ],
      [
        'promtool test rules',
        () => run(tools.promtool, ['test', 'rules', `${PROMETHEUS}/alerts.test.yml`]),
      ],
      [
        'promtool check config',
        () => run(tools.promtool, ['check', 'config', `${PROMETHEUS}/prometheus.yml`]),
      ],
      [
        'dashboard queries are PromQL',
        async () => run(tools.promtool, ['check', 'rules', await dashboardQueriesAsRules(dir)]),
      ],
      [
        'docker-compose config, no variable set',
        async () => {
          // An empty env file instead of a developer's .env: every `${VAR:-default}` stands alone.
          const args = ['-f', 'docker-compose.yml', '--env-file', emptyEnvFile, 'config', '-q'];
          const outcome = await run(tools['docker-compose'], args);
          return { ...outcome, ok: outcome.ok && !/variable is not set/i.test(outcome.output) };
        },
      ],
    ];
    let allOk = true;
    for (const [name, check] of checks) {
      const { ok, output } = await check();
      console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}`);
      if (!ok) console.log(output.replace(/^/gm, '       '));
      allOk &&= ok;
    }
    return allOk;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (!(await main())) process.exitCode = 1;
