/**
 * `npm run dev`: the whole local stack in one command.
 * 1. makes the dev vars file (`.dev.vars`) from `.dev.vars.example` when missing, with a fresh
 *    JWT signing key;
 * 2. creates and migrates the database, seeds the demo data (idempotent);
 * 3. starts the dev bridges (PostgreSQL WebSocket proxy, Upstash-REST Redis bridge, which keeps
 *    this stack's keys under the database's name);
 * 4. starts the relay and `wrangler dev --env dev`;
 * and stops everything on Ctrl-C / SIGTERM, or when one part dies.
 *
 * Ports and paths come from the environment (defaults in `stackConfig`), so the end-to-end tests
 * can run a second stack beside a developer's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { ensureDatabase, migrate } from '../../db/migrate.ts';
import { describeSeed, seed } from '../../db/seed.ts';
import { redisKeyPrefixOf, startBridges } from './bridges.ts';
import { ensureDevKeys } from './dev-keys.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function stackConfig(env: NodeJS.ProcessEnv) {
  const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
  return {
    devVarsPath: env.DEV_VARS_PATH ?? `${root}.dev.vars`,
    workerPort: port('WORKER_PORT', 8787),
    inspectorPort: port('INSPECTOR_PORT', 9229),
    relayPort: port('RELAY_HTTP_PORT', 8788),
    pgProxyPort: port('PG_WS_PROXY_PORT', 8791),
    redisRestPort: port('REDIS_REST_PORT', 8792),
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    persistTo: env.PERSIST_TO ?? `${root}.wrangler/state`,
    /** `DEV_RELAY=off`: the caller runs the relay itself (the fault tests kill and restart it). */
    startRelay: env.DEV_RELAY !== 'off',
  };
}

const config = stackConfig(process.env);
if (!existsSync(config.devVarsPath)) {
  copyFileSync(`${root}.dev.vars.example`, config.devVarsPath);
  console.log(`[dev] created ${config.devVarsPath} from .dev.vars.example`);
}
if (await ensureDevKeys(config.devVarsPath)) console.log('[dev] generated a JWT signing key');
const devVars = parseEnv(readFileSync(config.devVarsPath, 'utf8'));
const databaseUrl =
  process.env.DATABASE_URL ?? devVars.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/table_order';
const redisRestToken = devVars.UPSTASH_REDIS_REST_TOKEN ?? 'dev-redis-token';

await ensureDatabase(databaseUrl);
await migrate(databaseUrl);
console.log(`[dev] database ready; demo data:\n${describeSeed(await seed(databaseUrl))}`);

const pg = new URL(databaseUrl);
const redisKeyPrefix = redisKeyPrefixOf(databaseUrl);
const bridges = await startBridges({
  postgres: { host: pg.hostname, port: Number(pg.port || 5432) },
  pgProxyPort: config.pgProxyPort,
  redisUrl: config.redisUrl,
  redisRestPort: config.redisRestPort,
  redisRestToken,
  redisKeyPrefix,
});
console.log(
  `[dev] bridges: postgres ws ${bridges.neonWsProxy}, redis rest ${bridges.redisRestUrl} ` +
    `(keys under ${redisKeyPrefix})`,
);

const children: ChildProcess[] = [];
let stopping = false;

/** Runs a part of the stack with its output prefixed; its unexpected exit stops the stack. */
function start(name: string, args: string[], env: NodeJS.ProcessEnv): void {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => `[${name}] ${line}\n`)
      .join('');
  child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[dev] ${name} exited (${signal ?? code}); stopping the stack`);
    void stop(1);
  });
  children.push(child);
}

async function stop(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await bridges.close();
  process.exit(exitCode);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

const workerUrl = `http://127.0.0.1:${config.workerPort}`;
if (config.startRelay)
  start('relay', ['relay/src/index.ts'], {
    ...process.env,
    DATABASE_URL: databaseUrl,
    WORKER_URL: workerUrl,
    RELAY_HTTP_PORT: String(config.relayPort),
    RELAY_HMAC_SECRET: devVars.RELAY_HMAC_SECRET ?? '',
  });
// Values that depend on this stack's ports and database override the dev vars file.
const workerVars = {
  DATABASE_URL: databaseUrl,
  NEON_WS_PROXY: bridges.neonWsProxy,
  UPSTASH_REDIS_REST_URL: bridges.redisRestUrl,
};
start(
  'worker',
  [
    'node_modules/wrangler/bin/wrangler.js',
    'dev',
    // wrangler.toml's top level is production; `dev` is the local environment.
    ...['--env', 'dev'],
    ...['--ip', '127.0.0.1', '--port', String(config.workerPort)],
    ...['--inspector-port', String(config.inspectorPort), '--persist-to', config.persistTo],
    ...['--env-file', config.devVarsPath, '--show-interactive-dev-session=false'],
    ...Object.entries(workerVars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ],
  { ...process.env, WRANGLER_SEND_METRICS: 'false' },
);
console.log(`[dev] starting: worker ${workerUrl}, relay http://127.0.0.1:${config.relayPort}`);
