import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.ts';
import { createRedis } from '../platform/redis.ts';

/**
 * Sets `c.var.redis`, the request's one Redis client. One client, because it pipelines: the
 * commands issued in the same tick (the rate limit and the account check of `requireRole`) travel
 * in one HTTP request to Redis instead of one each.
 */
export const redisClient = createMiddleware<AppEnv>(async function redisClient(c, next) {
  c.set('redis', createRedis(c.env));
  await next();
});
