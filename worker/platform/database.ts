import { Pool, neonConfig, type PoolClient } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import { ApiError } from '../api-error.ts';

/** Connection attempts per query: 3 tries, with exponential backoff between them. */
const CONNECT_TRIES = 3;
const CONNECT_BACKOFF_MS = 100;

/**
 * A pool whose connections are retried with exponential backoff and jitter before giving up: a
 * burst of requests (every dashboard reconnecting after a deploy) can briefly exhaust the
 * server's connections, which is worth a short wait rather than an error. Only the connect step
 * is retried — nothing has been sent yet, so a retry cannot repeat a write. When every try fails
 * the caller gets 503 SERVICE_UNAVAILABLE with `Retry-After`, never a 500.
 */
class RetryingPool extends Pool {
  override connect(): Promise<PoolClient>;
  override connect(
    callback: (
      err: Error | undefined,
      client: PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): void;
  override connect(
    callback?: (
      err: Error | undefined,
      client: PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): Promise<PoolClient> | void {
    const connected = this.#connectWithRetry();
    if (!callback) return connected;
    connected.then(
      (client) =>
        callback(undefined, client, (release) => client.release(release as Error | boolean)),
      (error: Error) => callback(error, undefined, () => {}),
    );
  }

  /**
   * Opens one connection ahead of the first query and leaves it idle in the pool, where that
   * query finds it. One attempt, no error: if it fails, the query's own connect retries and
   * reports.
   */
  async warmUp(): Promise<void> {
    await super.connect().then(
      (client) => client.release(),
      () => undefined,
    );
  }

  async #connectWithRetry(): Promise<PoolClient> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await super.connect();
      } catch (cause) {
        if (attempt >= CONNECT_TRIES) {
          throw new ApiError(
            503,
            'SERVICE_UNAVAILABLE',
            '일시적으로 서비스를 이용할 수 없습니다. 잠시 후 다시 시도해 주세요.',
            {
              headers: { 'Retry-After': '1' },
              cause,
            },
          );
        }
        const delay = CONNECT_BACKOFF_MS * 2 ** (attempt - 1);
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * delay));
      }
    }
  }
}

/**
 * Points the Neon driver at a plain-WebSocket proxy (`NEON_WS_PROXY`, e.g. `127.0.0.1:8791/v1`)
 * for local PostgreSQL; TLS WebSockets to Neon when the variable is empty.
 * The settings are global to the isolate, and identical for every request of one deployment.
 *
 * Writes go out at once (`coalesceWrites: false`): coalescing holds every write for a
 * `setTimeout(0)` turn so that it can share a WebSocket frame with the next one, and that turn
 * cost ~1.5 ms per round trip in workerd (select 1: 2.0 → 0.5 ms; begin/select/commit:
 * 5 → 1 ms). Our queries are round-trip bound, and an order is ~10 of them.
 */
function configureNeon(proxy: string): void {
  neonConfig.coalesceWrites = false;
  if (!proxy) return;
  neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

/**
 * Opens a pool for one request, and drizzle over it (the domain's `Database`). Workers forbid
 * sharing I/O objects across requests, so each request gets its own pool (connections open
 * lazily on the first query); whoever opens it ends it (`pool.end()`).
 */
export function openDatabase(env: Env) {
  configureNeon(env.NEON_WS_PROXY);
  const pool = new RetryingPool({ connectionString: env.DATABASE_URL, max: 4 });
  // An idle connection that drops emits 'error' on the pool; unheard, it would crash the isolate.
  // The query that needs the connection fails on its own and is answered there. Once the pool is
  // ending (the response is sent), its connections going away is the expected end, not news.
  pool.on('error', (error: Error) => {
    if (pool.ending) return;
    console.warn(
      JSON.stringify({ level: 'warn', msg: 'database pool error', error: error.message }),
    );
  });
  return { db: drizzle({ client: pool }), pool };
}
