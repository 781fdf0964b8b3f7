import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../env.ts';
import { routeClass } from './timeouts.ts';

/** A missing or malformed `LOG_SLOW_*_MS` means the default budget (1 s; 3 s complex). */
const Budget = (fallback: number) => z.coerce.number().int().positive().catch(fallback);
const SlowSimple = Budget(1_000);
const SlowComplex = Budget(3_000);

/**
 * One JSON line per request, written when the response is returned (for an event stream: when it
 * opens): request id, method, the matched route pattern, status, duration, and the caller's store
 * and role once authenticated. Never headers, tokens or bodies. A request slower than its latency
 * budget (1 s; 3 s for orders and 이용 완료, `LOG_SLOW_SIMPLE_MS`/`LOG_SLOW_COMPLEX_MS`) is a WARN.
 * Unexpected failures are logged apart, as ERROR, by `handleError`.
 */
export const accessLog = createMiddleware<AppEnv>(async function accessLog(c, next) {
  const started = Date.now();
  await next();
  const durationMs = Date.now() - started;
  const settings = c.env;
  const budgetMs =
    routeClass(c.req.method, c.req.path) === 'complex'
      ? SlowComplex.parse(settings.LOG_SLOW_COMPLEX_MS)
      : SlowSimple.parse(settings.LOG_SLOW_SIMPLE_MS);
  const slow = durationMs > budgetMs;
  if (!slow && (settings.LOG_LEVEL === 'warn' || settings.LOG_LEVEL === 'error')) return;

  const principal = c.get('principal');
  const line = JSON.stringify({
    level: slow ? 'warn' : 'info',
    msg: 'request',
    request_id: c.get('requestId'),
    method: c.req.method,
    route: matchedRoute(c),
    status: c.res.status,
    duration_ms: durationMs,
    store_id: principal?.storeId ?? null,
    role: principal?.role ?? null,
    ...(slow ? { budget_ms: budgetMs } : {}),
  });
  if (slow) console.warn(line);
  else console.log(line);
});

/**
 * The pattern of the route that answered (`/api/admin/orders/:id/status`), or null when none
 * matched. App-wide middleware is registered for every method (`ALL`) before the routes, so the
 * last match with a method of its own is the route.
 */
function matchedRoute(c: Context<AppEnv>): string | null {
  const route = matchedRoutes(c).findLast((match) => match.method !== 'ALL');
  return route?.path ?? null;
}
