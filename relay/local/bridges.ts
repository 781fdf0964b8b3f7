/**
 * Starts the two dev-only bridges that make local services look like their hosted forms:
 * PostgreSQL behind a WebSocket proxy (Neon) and Redis behind a REST API (Upstash).
 * Used by `npm run dev` (fixed ports) and the test setup (ephemeral ports).
 */
import { startPgWsProxy } from './pg-ws-proxy.ts';
import { startRedisRestBridge } from './redis-rest-bridge.ts';

export type BridgeOptions = {
  host?: string;
  /** PostgreSQL the proxy forwards to (and the only address it will forward to). */
  postgres: { host: string; port: number };
  pgProxyPort: number;
  redisUrl: string;
  redisRestPort: number;
  redisRestToken: string;
  /** In front of every Redis key this stack's Worker uses: {@link redisKeyPrefixOf}. */
  redisKeyPrefix: string;
};

export type Bridges = {
  /** Value for the Worker's `NEON_WS_PROXY`, e.g. `127.0.0.1:8791/v1`. */
  neonWsProxy: string;
  /** Value for the Worker's `UPSTASH_REDIS_REST_URL`. */
  redisRestUrl: string;
  close(): Promise<void>;
};

/**
 * The Redis key prefix of the stack whose database `databaseUrl` names, e.g. `table_order_test:`.
 * Stacks share one local Redis but never a database, and the cache answers for one database.
 */
export function redisKeyPrefixOf(databaseUrl: string): string {
  return `${decodeURIComponent(new URL(databaseUrl).pathname.slice(1))}:`;
}

/** Starts both bridges; if the second fails the first is closed again. */
export async function startBridges(options: BridgeOptions): Promise<Bridges> {
  const host = options.host ?? '127.0.0.1';
  const pg = await startPgWsProxy({ host, port: options.pgProxyPort, target: options.postgres });
  try {
    const redis = await startRedisRestBridge({
      host,
      port: options.redisRestPort,
      redisUrl: options.redisUrl,
      token: options.redisRestToken,
      keyPrefix: options.redisKeyPrefix,
    });
    return {
      neonWsProxy: `${host}:${pg.port}/v1`,
      redisRestUrl: redis.url,
      close: async () => {
        await Promise.all([pg.close(), redis.close()]);
      },
    };
  } catch (error) {
    await pg.close();
    throw error;
  }
}
