import { Ratelimit } from '@upstash/ratelimit';
import type { Context } from 'hono';
import { z } from '@hono/zod-openapi';
import type { Principal } from '../auth/tokens.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../api-error.ts';

/** Requests per authenticated user per minute, unless `RATE_LIMIT_PER_MINUTE` says otherwise. */
const DEFAULT_PER_MINUTE = 100;
const WINDOW = '60 s';
const KEY_PREFIX = 'ratelimit:api';

/** A missing or malformed `RATE_LIMIT_PER_MINUTE` means the production figure, 100. */
const PerMinute = z.coerce.number().int().positive().catch(DEFAULT_PER_MINUTE);

/**
 * Counts one authenticated request against its user (token `sub`) in a sliding window of one
 * minute, and answers the budget in `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
 * `X-RateLimit-Reset` (epoch seconds) on whatever the route answers. Over the limit → 429
 * RATE_LIMITED with `Retry-After` (seconds).
 *
 * Called by `requireRole` right after the token is verified, so only API requests with a valid
 * token are counted: logins have their own throttle (auth/login-throttle), and an event stream
 * counts once, when it connects (a stream opened with a ticket was counted when the ticket was
 * made). Redis unreachable → fail open: a WARN, no headers, the request goes on — a cache outage
 * must not take the API down with it, and the per-request account check still runs.
 *
 * Every decision is read from Redis (no in-isolate cache): the limit comes from the request's
 * env, and every isolate must agree on what is left.
 */
export async function enforceRateLimit(c: Context<AppEnv>, principal: Principal): Promise<void> {
  const limit = PerMinute.parse(c.env.RATE_LIMIT_PER_MINUTE);
  const limiter = new Ratelimit({
    redis: c.var.redis,
    limiter: Ratelimit.slidingWindow(limit, WINDOW),
    prefix: KEY_PREFIX,
    ephemeralCache: false,
    analytics: false,
    // Our Redis client already gives up fast (platform/redis.ts); the library's own timeout
    // would answer "allowed" with a limit of 0, which we would then print in the headers.
    timeout: 0,
  });

  let decision: Awaited<ReturnType<Ratelimit['limit']>>;
  try {
    decision = await limiter.limit(principal.sub);
  } catch (error) {
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'rate limit unavailable, request let through',
        request_id: c.get('requestId'),
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    return;
  }
  c.executionCtx.waitUntil(decision.pending);

  const headers = {
    'X-RateLimit-Limit': String(decision.limit),
    'X-RateLimit-Remaining': String(Math.max(0, decision.remaining)),
    'X-RateLimit-Reset': String(Math.ceil(decision.reset / 1000)),
  };
  if (!decision.success) {
    const retryAfter = Math.max(1, Math.ceil((decision.reset - Date.now()) / 1000));
    throw new ApiError(429, 'RATE_LIMITED', '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.', {
      details: { limit: decision.limit, retry_after: retryAfter },
      headers: { ...headers, 'Retry-After': String(retryAfter) },
    });
  }
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
}
