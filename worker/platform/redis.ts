import { Redis } from '@upstash/redis/cloudflare';

/** How long one Redis call may take before the caller treats Redis as unavailable. */
const REDIS_TIMEOUT_MS = 1_000;

/**
 * An Upstash REST client. Calls fail fast (one retry, bounded time) because every use of Redis
 * has a database fallback: a slow cache must not make a slow API.
 */
export function createRedis(env: Env): Redis {
  return new Redis({
    url: env.UPSTASH_REDIS_REST_URL,
    token: env.UPSTASH_REDIS_REST_TOKEN,
    retry: { retries: 1, backoff: () => 50 },
    signal: () => AbortSignal.timeout(REDIS_TIMEOUT_MS),
    enableTelemetry: false,
  });
}
