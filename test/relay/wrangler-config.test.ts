/**
 * wrangler.toml as wrangler itself resolves it (`unstable_readConfig`, the reader behind
 * `wrangler deploy`): a plain deploy ships production settings only, and local development lives
 * in an environment of its own.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import { repoRoot } from '../support/config-files.ts';

const CONFIG = join(repoRoot, 'wrangler.toml');

/** The Worker configuration `wrangler deploy --env <env>` builds (no env: the top level). */
function resolved(env?: string) {
  return unstable_readConfig({ config: CONFIG, env }, { hideWarnings: true });
}

/** The names a dotenv file of the repository sets. */
async function namesIn(file: string): Promise<string[]> {
  return Object.keys(parseEnv(await readFile(join(repoRoot, file), 'utf8'))).sort();
}

const THIS_MACHINE = /localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]/i;

describe('a plain `wrangler deploy` (the top level: production)', () => {
  it('holds no address of this machine in anything it deploys', () => {
    // `dev` (the local server's ip and port) is read by `wrangler dev` only.
    const { dev: _dev, ...deployed } = resolved();
    const found = JSON.stringify(deployed, null, 1)
      .split('\n')
      .filter((line) => THIS_MACHINE.test(line));
    expect(found).toEqual([]);
  });

  it('is served on a route of its own, minified, with no workers.dev address', () => {
    const config = resolved();
    expect(config.routes?.length ?? 0).toBeGreaterThan(0);
    expect(config.minify).toBe(true);
    expect(config.workers_dev).toBe(false);
  });

  it('runs the retention job on a schedule', () => {
    expect(resolved().triggers.crons?.length ?? 0).toBeGreaterThan(0);
  });
});

describe('the local environment (`--env dev`: npm run dev and the Worker tests)', () => {
  it('has no route, so even a deploy of it by mistake is reachable nowhere', () => {
    const config = resolved('dev');
    expect(config.routes ?? []).toEqual([]);
    expect(config.workers_dev).toBe(false);
  });

  it('sets the same variables as production, and the same bindings', () => {
    const production = resolved();
    const dev = resolved('dev');
    expect(Object.keys(dev.vars).sort()).toEqual(Object.keys(production.vars).sort());
    expect(dev.durable_objects).toEqual(production.durable_objects);
    expect(dev.r2_buckets).toEqual(production.r2_buckets);
  });
});

describe('secrets', () => {
  it('production needs the secrets local development has, and none is also a variable', async () => {
    const production = await namesIn('.prod.vars.example');
    const local = await namesIn('.dev.vars.example');
    // The previous signing keys are set only during a rotation.
    expect(production).toEqual(local.filter((name) => name !== 'JWT_PREVIOUS_PUBLIC_KEYS'));
    const vars = Object.keys(resolved().vars);
    expect(production.filter((name) => vars.includes(name))).toEqual([]);
  });
});
