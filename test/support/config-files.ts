/**
 * The repository's YAML configuration as the configuration tests read it, with the `yaml` package
 * and no system tool: any YAML file, and docker-compose.yml resolved the way `docker-compose config`
 * resolves it for what the tests check (variables, relative paths, short forms). Validating the
 * files with the real tools (compose, promtool, yamllint) is `npm run check:ops`.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** Parses a YAML file of the repository (YAML 1.2: a workflow's `on:` key stays `"on"`). */
export async function readYaml(relativePath: string): Promise<unknown> {
  return parse(await readFile(join(repoRoot, relativePath), 'utf8'));
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  network_mode?: string;
  depends_on?: Record<string, { condition: string }>;
  extra_hosts?: string[];
  healthcheck?: { test: string[] };
  command?: string[];
}

export interface ComposeConfig {
  services: Record<string, ComposeService>;
  /** Variables used without a default and not given: compose warns "variable is not set". */
  unset: string[];
}

/**
 * docker-compose.yml with `${VAR:-default}`, `${VAR-default}`, `${VAR}` and `$VAR` taken from
 * `variables` only (never this process's environment), `$$` left as written (as compose prints
 * it), bind-mount sources and the build context made absolute, and `environment` and
 * `depends_on` lists turned into maps.
 */
export async function readCompose(variables: Record<string, string> = {}): Promise<ComposeConfig> {
  const unset = new Set<string>();
  const interpolate = (value: unknown): unknown => {
    if (typeof value === 'string') return interpolateString(value, variables, unset);
    if (Array.isArray(value)) return value.map(interpolate);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
    }
    return value;
  };
  const file = interpolate(await readYaml('docker-compose.yml')) as {
    services: Record<string, Record<string, unknown>>;
  };
  const services = Object.fromEntries(
    Object.entries(file.services).map(([name, service]) => [name, normalise(service)]),
  );
  return { services, unset: [...unset] };
}

const VARIABLE =
  /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

function interpolateString(text: string, variables: Record<string, string>, unset: Set<string>) {
  return text.replace(VARIABLE, (match, dollar, braced, colon, operator, operand, bare) => {
    if (dollar) return match;
    const name = (braced ?? bare) as string;
    const value = variables[name];
    const missing = value === undefined || (colon === ':' && value === '');
    if (!missing) return value;
    if (operator === '-') return operand as string;
    if (operator === '?') throw new Error(`docker-compose.yml requires ${name}: ${operand}`);
    unset.add(name);
    return '';
  });
}

function normalise(service: Record<string, unknown>): ComposeService {
  const result = { ...service } as ComposeService & Record<string, unknown>;
  if (Array.isArray(service.environment)) {
    result.environment = Object.fromEntries(
      (service.environment as string[]).map((entry) => {
        const [name, ...value] = entry.split('=');
        return [name, value.join('=')];
      }),
    );
  }
  if (Array.isArray(service.depends_on)) {
    result.depends_on = Object.fromEntries(
      (service.depends_on as string[]).map((name) => [name, { condition: 'service_started' }]),
    );
  }
  if (result.build)
    result.build = { ...result.build, context: resolve(repoRoot, result.build.context) };
  result.volumes &&= result.volumes.map((volume) => {
    const [source = '', ...rest] = volume.split(':');
    const bind = source.startsWith('.') || isAbsolute(source);
    return bind ? [resolve(repoRoot, source), ...rest].join(':') : volume;
  });
  return result;
}
