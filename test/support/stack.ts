/**
 * Starts the whole local stack the way `npm run dev` does (relay/local/dev-stack.ts), beside any
 * stack a developer already runs: free ports, its own database, dev vars file and Worker state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { deleteTopology } from './relay-fixtures.ts';
import { testServices } from './services.ts';

export type Stack = {
  workerUrl: string;
  /** The environment a relay of this stack needs (for tests that run their own relay). */
  relayEnv: Record<string, string>;
  relayUrl: string;
  databaseUrl: string;
  /** This stack's own Redis (behind its REST bridge). */
  redisUrl: string;
  output(): string;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code once every part has stopped. */
  stop(): Promise<number | null>;
  process: ChildProcess;
};

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/**
 * Starts a stack and waits (up to `timeoutMs`) until the Worker's `/readyz` answers 200.
 * `relay: false` leaves the relay out, for tests that start, kill and restart it themselves;
 * `vars` sets Worker variables for this stack only.
 */
export async function startStack(
  options: { relay?: boolean; timeoutMs?: number; vars?: Record<string, string> } = {},
): Promise<Stack> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const dir = mkdtempSync(join(tmpdir(), 'table-order-stack-'));
  const devVarsPath = join(dir, '.dev.vars');
  copyFileSync('.dev.vars.example', devVarsPath);
  // Extra Worker vars for this stack (they override wrangler.toml's [vars]).
  const extra = Object.entries(options.vars ?? {}).map(([name, value]) => `${name}=${value}\n`);
  appendFileSync(devVarsPath, `\n${extra.join('')}`);
  const database = `table_order_e2e_${Math.random().toString(16).slice(2, 10)}`;
  const databaseUrl = new URL(testServices().databaseUrl);
  databaseUrl.pathname = `/${database}`;
  const [workerPort, relayPort, pgProxyPort, redisRestPort, inspectorPort, redisPort] =
    await Promise.all(Array.from({ length: 6 }, freePort));
  // A Redis of its own, as a separate deployment has: every stack seeds the same demo store id,
  // so on a shared Redis their cached menus, limits and throttles would mix.
  const redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const workerUrl = `http://127.0.0.1:${workerPort}`;
  const relayEnv = {
    DATABASE_URL: databaseUrl.toString(),
    WORKER_URL: workerUrl,
    // Its own exchange and queues, so a developer's running relay never takes its events.
    RELAY_NAMESPACE: `table_order_e2e_${database}`,
    RELAY_HMAC_SECRET: 'dev-relay-secret',
    RELAY_HTTP_PORT: String(relayPort),
  };
  const child = spawn(process.execPath, ['relay/local/dev-stack.ts'], {
    env: {
      ...process.env,
      DEV_VARS_PATH: devVarsPath,
      PERSIST_TO: join(dir, 'state'),
      WORKER_PORT: String(workerPort),
      PG_WS_PROXY_PORT: String(pgProxyPort),
      REDIS_REST_PORT: String(redisRestPort),
      INSPECTOR_PORT: String(inspectorPort),
      ...relayEnv,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      DEV_RELAY: options.relay === false ? 'off' : 'on',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
    redis.kill();
    rmSync(dir, { recursive: true, force: true });
    await deleteTopology([relayEnv.RELAY_NAMESPACE]);
    const admin = new pg.Client({ connectionString: testServices().databaseUrl });
    await admin.connect();
    await admin.query(`drop database if exists "${database}" with (force)`);
    await admin.end();
    return child.exitCode;
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ready = await fetch(`${workerUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) {
      return {
        workerUrl,
        relayEnv,
        relayUrl: `http://127.0.0.1:${relayPort}`,
        databaseUrl: databaseUrl.toString(),
        redisUrl: `redis://127.0.0.1:${redisPort}`,
        output: () => output,
        stop,
        process: child,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await stop();
  throw new Error(`the stack did not become ready in ${timeoutMs} ms:\n${output}`);
}
