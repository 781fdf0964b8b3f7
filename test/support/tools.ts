/**
 * Command-line tools that configuration tests run (yamllint, promtool): finding them with a clear
 * install hint, running them, and reading YAML. The repository has no YAML library; yamllint is
 * written in Python on top of PyYAML, so its own interpreter parses YAML for the tests.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** How to get each tool; `.ci/run` installs the same packages. */
const INSTALL_HINTS: Record<string, string> = {
  yamllint: 'yamllint is required for this test: `apt-get install yamllint` (.ci/run installs it).',
  'docker-compose':
    'docker-compose is required for this test: `apt-get install docker-compose` (CI installs it).',
  promtool:
    'promtool is required for this test: `apt-get install prometheus` (.ci/run installs it).',
};

/** The absolute path of `program` on PATH; throws the install hint when it is missing. */
export async function requireTool(program: string): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(INSTALL_HINTS[program] ?? `${program} is required for this test.`);
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program from the repository root and resolves with its exit code and output; `env`
 * replaces the inherited environment.
 */
export function runTool(
  file: string,
  args: string[],
  input = '',
  env?: NodeJS.ProcessEnv,
): Promise<ToolResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      file,
      args,
      { cwd: repoRoot, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr: error && !stderr ? error.message : stderr });
      },
    );
    child.stdin?.end(input);
  });
}

/**
 * Parses YAML as PyYAML (YAML 1.1) reads it. Note the 1.1 booleans: a GitHub workflow's `on:` key
 * comes back as `true`.
 */
export async function parseYaml(text: string, origin = 'YAML'): Promise<unknown> {
  const yamllint = await requireTool('yamllint');
  const firstLine = (await readFile(yamllint, 'latin1')).split('\n', 1)[0] ?? '';
  const [interpreter, ...interpreterArgs] = firstLine.replace(/^#!/, '').trim().split(/\s+/);
  if (!firstLine.startsWith('#!') || interpreter === undefined) {
    throw new Error(`${yamllint} is not the Python yamllint (no #! line leading to PyYAML)`);
  }
  const script = 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)';
  const result = await runTool(interpreter, [...interpreterArgs, '-c', script], text);
  if (result.code !== 0) throw new Error(`cannot parse ${origin}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Parses a YAML file of the repository (see {@link parseYaml}). */
export async function readYaml(relativePath: string): Promise<unknown> {
  return parseYaml(await readFile(join(repoRoot, relativePath), 'utf8'), relativePath);
}
