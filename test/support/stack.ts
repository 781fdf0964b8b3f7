/**
 * Starts the whole local stack the way `npm run dev` does (relay/local/dev-stack.ts), beside any
 * stack a developer already runs: free ports, its own database, Redis key prefix, dev vars file
 * and Worker state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { redisKeyPrefixOf } from '../../relay/local/bridges.ts';
import { isolatedEnv } from './child-env.ts';
import { deleteTopology } from './relay-fixtures.ts';
import { testServices } from './services.ts';

export type Stack = {
  workerUrl: string;
  /** The environment a relay of this stack needs (for tests that run their own relay). */
  relayEnv: Record<string, string>;
  relayUrl: string;
  databaseUrl: string;
  /** The Redis behind this stack's REST bridge, shared with other stacks … */
  redisUrl: string;
  /** … which keeps this stack's keys under this prefix (`ioredis`'s `keyPrefix` reads them). */
  redisKeyPrefix: string;
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
  const [workerPort, relayPort, pgProxyPort, redisRestPort, inspectorPort] = await Promise.all(
    Array.from({ length: 5 }, freePort),
  );
  // The shared Redis: the stack's bridge keeps its keys apart, named after its database.
  const { redisUrl } = testServices();
  const redisKeyPrefix = redisKeyPrefixOf(databaseUrl.toString());
  const workerUrl = `http://127.0.0.1:${workerPort}`;
  const relayEnv = {
    DATABASE_URL: databaseUrl.toString(),
    AMQP_URL: testServices().amqpUrl,
    WORKER_URL: workerUrl,
    // Its own exchange and queues, so a developer's running relay never takes its events.
    RELAY_NAMESPACE: `table_order_e2e_${database}`,
    RELAY_HMAC_SECRET: 'dev-relay-secret',
    RELAY_HTTP_PORT: String(relayPort),
  };
  // Only this stack's settings: a developer's DATABASE_URL, SUPERADMIN_* or ports stay out.
  const child = spawn(process.execPath, ['relay/local/dev-stack.ts'], {
    env: isolatedEnv({
      DEV_VARS_PATH: devVarsPath,
      PERSIST_TO: join(dir, 'state'),
      WORKER_PORT: String(workerPort),
      PG_WS_PROXY_PORT: String(pgProxyPort),
      REDIS_REST_PORT: String(redisRestPort),
      INSPECTOR_PORT: String(inspectorPort),
      ...relayEnv,
      REDIS_URL: redisUrl,
      DEV_RELAY: options.relay === false ? 'off' : 'on',
    }),
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
    await forgetKeys(redisUrl, redisKeyPrefix);
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
        redisUrl,
        redisKeyPrefix,
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

/** Deletes what a stopped stack left in the shared Redis (everything under its prefix). */
async function forgetKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    const batches = redis.scanStream({ match: `${prefix}*`, count: 1000 });
    for await (const keys of batches as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}
