import { Redis } from '@upstash/redis/cloudflare';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './env.ts';

/** How long one Redis call may take before the caller treats Redis as unavailable. */
const REDIS_TIMEOUT_MS = 1_000;

/**
 * The Upstash REST client for this request. Calls fail fast (one retry, bounded time) because
 * every use of Redis has a database fallback: a slow cache must not make a slow API.
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

/**
 * Sets `c.var.redis`, the request's one Redis client. One client, because it pipelines: the
 * commands issued in the same tick (the rate limit and the account check of `requireRole`) travel
 * in one HTTP request to Redis instead of one each.
 */
export const redisClient = createMiddleware<AppEnv>(async function redisClient(c, next) {
  c.set('redis', createRedis(c.env));
  await next();
});
