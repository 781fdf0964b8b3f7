import { createMiddleware } from 'hono/factory';
import { verifyToken, type Principal, type Role } from '../auth/tokens.ts';
import { assertAccountActive } from '../domain/accounts.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../api-error.ts';
import { enforceRateLimit } from './rate-limit.ts';

/**
 * Requires a bearer token of one of `roles`: verifies it, checks the account is still active
 * (through the cache: no database round trip per request), and sets `c.var.principal`.
 * Missing → 401 TOKEN_MISSING; another role → 403 FORBIDDEN.
 */
export function requireRole(...roles: Role[]) {
  if (roles.length === 0) throw new Error('requireRole needs at least one role');
  const allowed = new Set<Role>(roles);
  return createMiddleware<AppEnv>(async function authenticate(c, next) {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError(401, 'TOKEN_MISSING', '로그인이 필요합니다.');
    const principal = await verifyToken(c.env, match[1]!);
    const permitted = allowed.has(principal.role);
    // The rate limit and the account check are independent reads (Redis, and Redis or the
    // database): one round trip instead of two. The outcome is decided in a fixed order.
    const [limit, account] = await Promise.allSettled([
      enforceRateLimit(c, principal),
      permitted ? assertAccountActive(c.var.db, principal, c.var.redis) : undefined,
    ]);
    if (limit.status === 'rejected') throw limit.reason;
    if (!permitted) throw new ApiError(403, 'FORBIDDEN', '권한이 없습니다.');
    if (account.status === 'rejected') throw account.reason;
    c.set('principal', principal);
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
  return { middleware: [requireRole(...roles)], security: [{ bearer: [] }] };
}
