/**
 * Redis REST bridge — DEV ONLY, never deploy it.
 *
 * Makes a local Redis look like Upstash's REST API (what hiett/serverless-redis-http does), so
 * the unmodified `@upstash/redis` and `@upstash/ratelimit` clients run against it in development
 * and tests. One shared bearer token, plain HTTP, a single Redis connection.
 *
 *   POST /            ["SET","k","v"]                 → {"result": …}, command error → 400 {"error"}
 *   POST /pipeline    [["SET","k","v"],["GET","k"]]   → [{"result": …} | {"error": "…"}, …]
 *   POST /multi-exec  same body, run inside MULTI/EXEC → same shape as /pipeline
 *
 * With `Upstash-Encoding: base64` every string reply is base64 (recursively in arrays), as the
 * client expects by default; integers and nil stay as they are. The commands themselves are run
 * by redis-rest-commands.ts.
 *
 * Key prefix: `npm run dev`, `npm test` and every stack the end-to-end tests and the benchmark
 * start share one local Redis, and all of them seed the same demo store id, so each bridge puts
 * its stack's own prefix in front of every key (`keyPrefix`). It lives here rather than in the
 * Worker: the Worker stays as deployed, and production, with one Upstash database per
 * deployment, needs nothing. It holds for every command the Worker sends — GET, SET … NX EX,
 * DEL, INCR/EXPIRE, alone, in a pipeline or in MULTI/EXEC, and EVAL/EVALSHA, whose KEYS are how
 * @upstash/ratelimit's scripts name their keys (SCRIPT LOAD names none) — because ioredis knows
 * where each command's keys are. Two things it cannot cover: a script that builds key names
 * itself (ratelimit's `resetUsedTokens` does; the Worker never calls it), and commands that go
 * by pattern or over the whole database (KEYS, SCAN, FLUSHDB …), which a prefixed bridge refuses.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis, ReplyError } from 'ioredis';
import type { Pipeline } from 'ioredis';
import { BridgeError, runBatch, runSingle } from './redis-rest-commands.ts';
import type { Framing, Outcome } from './redis-rest-commands.ts';

export type RedisRestBridgeOptions = {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** The local Redis, e.g. `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** Bearer token clients must send: `new Redis({ url, token })`. */
  token: string;
  /** Put in front of every key the clients name, e.g. `table_order_test:` (default: none). */
  keyPrefix?: string;
};

export type RedisRestBridge = {
  /** Base URL for `@upstash/redis`, e.g. `http://127.0.0.1:8792`. */
  url: string;
  port: number;
  /** Stops the HTTP server (dropping open connections) and the Redis connection. */
  close(): Promise<void>;
};

type Endpoint = (redis: Redis, body: unknown, framing: Framing) => Promise<Outcome | Outcome[]>;

const MAX_BODY_BYTES = 16 * 1024 * 1024;

// ioredis types pipeline() and multi() as a ChainableCommander; they are Pipelines, which can
// send our own Command objects.
const ENDPOINTS = new Map<string, Endpoint>([
  ['/', runSingle],
  ['/pipeline', (redis, body, framing) => runBatch(redis.pipeline() as Pipeline, body, framing)],
  // ioredis writes MULTI, the commands and EXEC in one go on the shared connection, so commands
  // of concurrent requests cannot land inside the transaction.
  ['/multi-exec', (redis, body, framing) => runBatch(redis.multi() as Pipeline, body, framing)],
]);

/**
 * Starts the dev-only Upstash-compatible REST bridge in front of a local Redis.
 *
 * Resolves once the HTTP server listens, even when Redis is unreachable: requests then fail
 * quickly with 503 until Redis is back (ioredis keeps reconnecting in the background).
 */
export async function startRedisRestBridge(
  options: RedisRestBridgeOptions,
): Promise<RedisRestBridge> {
  const host = options.host ?? '127.0.0.1';
  const redis = connectRedis(options.redisUrl);
  await redis.connect().catch(() => undefined);

  const server = createServer((req, res) => void respond(req, res, redis, options));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, resolve);
    });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      redis.disconnect();
    },
  };
}

function connectRedis(redisUrl: string): Redis {
  const redis = new Redis(redisUrl, {
    protocol: 2, // Upstash answers in RESP2 shapes: flat arrays for maps, doubles as strings
    lazyConnect: true,
    connectTimeout: 2_000,
    // While Redis is down a request fails at once (→ 503) instead of waiting in a queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let lastError = '';
  redis.on('error', (error: Error) => {
    if (error.message !== lastError) console.warn(`[redis-rest-bridge] ${error.message}`);
    lastError = error.message;
  });
  redis.on('ready', () => (lastError = ''));
  return redis;
}

type Access = Pick<RedisRestBridgeOptions, 'token' | 'keyPrefix'>;

async function respond(req: IncomingMessage, res: ServerResponse, redis: Redis, access: Access) {
  let status = 200;
  let body: Outcome | Outcome[];
  try {
    body = await answer(req, redis, access);
  } catch (error) {
    [status, body] = toFailure(error, redis);
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function answer(req: IncomingMessage, redis: Redis, { token, keyPrefix }: Access) {
  const endpoint = ENDPOINTS.get(new URL(req.url ?? '/', 'http://bridge').pathname);
  if (!endpoint) throw new BridgeError(404, 'Not found');
  if (req.method !== 'POST') throw new BridgeError(405, 'Method not allowed, use POST');
  if (req.headers.authorization !== `Bearer ${token}`) throw new BridgeError(401, 'Unauthorized');
  const body = parseJson(await readBody(req));
  const base64 = req.headers['upstash-encoding'] === 'base64';
  return endpoint(redis, body, { keyPrefix: keyPrefix ?? '', base64 });
}

/** The one place failures become answers; a Redis error reply is a 400, as on Upstash. */
function toFailure(error: unknown, redis: Redis): [number, Outcome] {
  if (error instanceof BridgeError) return [error.status, { error: error.message }];
  if (error instanceof ReplyError) return [400, { error: replyMessage(error as Error) }];
  if (redis.status !== 'ready') return [503, { error: `Redis is unavailable (${redis.status})` }];
  console.error('[redis-rest-bridge] unexpected failure', error);
  return [500, { error: 'Internal bridge error' }];
}

/** EXECABORT alone does not say which queued command was wrong; ioredis keeps those errors. */
function replyMessage(error: Error & { previousErrors?: Error[] }): string {
  const causes = error.previousErrors?.map((cause) => cause.message) ?? [];
  return causes.length > 0 ? `${error.message} ${causes.join('; ')}` : error.message;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BridgeError(413, 'Request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BridgeError(400, 'ERR request body is not valid JSON');
  }
}

if (import.meta.main) {
  const bridge = await startRedisRestBridge({
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    port: Number(process.env.REDIS_REST_PORT ?? 8792),
    token: process.env.REDIS_REST_TOKEN ?? 'dev-redis-token',
    keyPrefix: process.env.REDIS_KEY_PREFIX,
  });
  console.log(`[redis-rest-bridge] listening on ${bridge.url} (dev only)`);
  const stop = () => void bridge.close();
  process.once('SIGINT', stop).once('SIGTERM', stop);
}
