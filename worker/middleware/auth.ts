import type { Redis } from '@upstash/redis/cloudflare';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { verifyToken, type Principal, type Role } from '../auth/tokens.ts';
import type { Prefetched } from '../platform/cache.ts';
import { assertAccountActive } from '../domain/accounts.ts';
import { noteTabletHeard } from '../domain/device-lease.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../api-error.ts';
import { enforceRateLimit } from './rate-limit.ts';

/**
 * Methods whose routes reach the database: every write but `POST /api/admin/stream-ticket`
 * (tickets live in the store's hub), which so opens one connection it does not use.
 */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The cache key a route reads first, for the caller `principal` and what the request asks (a
 * language, say): see {@link authorizedReading}.
 */
export type CacheKeyOf = (principal: Principal, c: Context<AppEnv>) => string;

/**
 * Requires a bearer token of one of `roles`: verifies it, checks the account is still active
 * (through the cache: no database round trip per request), and sets `c.var.principal`.
 * Missing → 401 TOKEN_MISSING; another role → 403 FORBIDDEN. A tablet let in is noted as heard
 * from after the answer (at most once a minute, see `noteTabletHeard`).
 *
 * With `cacheKeyOf`, the route's first cache read starts together with the checks (same Redis
 * round trip) and is handed to the route as `c.var.prefetched` — only once the checks passed.
 */
export function requireRole(roles: Role[], cacheKeyOf?: CacheKeyOf) {
  if (roles.length === 0) throw new Error('requireRole needs at least one role');
  const allowed = new Set<Role>(roles);
  return createMiddleware<AppEnv>(async function authenticate(c, next) {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError(401, 'TOKEN_MISSING', '로그인이 필요합니다.');
    const { principal, expiresAt } = await verifyToken(c.env, match[1]!);
    const permitted = allowed.has(principal.role);
    if (permitted && cacheKeyOf) {
      c.set('prefetched', prefetch(c.var.redis, cacheKeyOf(principal, c)));
    }
    // The rate limit and the account check are independent reads (Redis, and Redis or the
    // database): one round trip instead of two. The outcome is decided in a fixed order.
    // A write will need the database: its connection opens meanwhile (for a verified token
    // only, so that anonymous traffic never costs one).
    const [limit, account] = await Promise.allSettled([
      enforceRateLimit(c, principal),
      permitted ? assertAccountActive(c.var.db, principal, c.var.redis) : undefined,
      permitted && WRITES.has(c.req.method) ? c.var.warmUpDatabase() : undefined,
    ]);
    if (limit.status === 'rejected') throw limit.reason;
    if (!permitted) throw new ApiError(403, 'FORBIDDEN', '권한이 없습니다.');
    if (account.status === 'rejected') throw account.reason;
    c.set('principal', principal);
    c.set('tokenExpiresAt', expiresAt);
    if (principal.role === 'table') {
      const tablet = { tableId: principal.sub, deviceId: principal.device };
      c.executionCtx.waitUntil(noteTabletHeard(c.env, c.var.redis, tablet));
    }
    await next();
  });
}

/** The calling store admin or table's store; for routes that only those roles reach. */
export function storeOf(principal: Principal): string {
  if (principal.storeId === null) throw new ApiError(403, 'FORBIDDEN', '권한이 없습니다.');
  return principal.storeId;
}

/**
 * Route options for `createRoute` that require one of `roles`: the middleware, and the bearer
 * security requirement in the OpenAPI document.
 */
export function authorized(...roles: Role[]) {
  return { middleware: [requireRole(roles)], security: [{ bearer: [] }] };
}

/**
 * {@link authorized} for a route answered from the cache: its key (`cacheKeyOf` the verified
 * caller and the request) is read side by side with the rate limit and the account check, so that a cache hit
 * costs one Redis round trip instead of two. The route passes `c.var.prefetched` to `cached`.
 */
export function authorizedReading(cacheKeyOf: CacheKeyOf, ...roles: Role[]) {
  return { middleware: [requireRole(roles, cacheKeyOf)], security: [{ bearer: [] }] };
}

/**
 * Starts reading `key`. A failure is left for `cached` to report (it falls back to the
 * database); if the request is refused before the route runs, nobody awaits the read, so it is
 * marked handled here.
 */
function prefetch(redis: Redis, key: string): Prefetched {
  const value = redis.get<unknown>(key);
  value.catch(() => {});
  return { key, value };
}
