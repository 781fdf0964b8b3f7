import { z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../api-error.ts';

/** A missing or malformed `TIMEOUT_*_MS` means the default budget. */
const Budget = (fallback: number) => z.coerce.number().int().positive().catch(fallback);
const SimpleBudget = Budget(5_000);
const ComplexBudget = Budget(10_000);

/** How long a request may take before it is answered 504: `simple`, `complex`, or unbounded. */
export type RouteClass = 'simple' | 'complex' | 'unbounded';

/** The routes whose work is a large transaction (an order, 이용 완료: a 3 s budget at p95). */
const COMPLEX: ReadonlyArray<readonly [method: string, path: RegExp]> = [
  ['POST', /^\/api\/customer\/orders$/],
  ['POST', /^\/api\/admin\/tables\/[^/]+\/complete-session$/],
];
/** Event streams stay open by design. */
const STREAM = /^\/api\/(admin|customer)\/orders\/stream$/;

/**
 * The time class of a request, by method and path: here rather than on each route so that the
 * budgets sit side by side. Everything under `/api` and `/internal` is `simple` unless listed.
 */
export function routeClass(method: string, path: string): RouteClass {
  if (method === 'GET' && STREAM.test(path)) return 'unbounded';
  if (COMPLEX.some(([m, pattern]) => m === method && pattern.test(path))) return 'complex';
  return 'simple';
}

/**
 * A hard time limit per request (5 s simple, 10 s complex by default; `TIMEOUT_SIMPLE_MS`,
 * `TIMEOUT_COMPLEX_MS`): past it the client gets 504 TIMEOUT and a WARN is logged.
 *
 * The work is not cancelled: the handler may be waiting on a lock or a query, and abandoning a
 * transaction half-way is no better than letting it finish. It goes on in the background
 * (`waitUntil`, which also lets the database middleware close its pool), so a 504 means "the
 * outcome is unknown" — an order may still be placed; retrying with the same Idempotency-Key is
 * safe.
 */
export const routeTimeouts = createMiddleware<AppEnv>(async function routeTimeouts(c, next) {
  const kind = routeClass(c.req.method, c.req.path);
  if (kind === 'unbounded') return next();
  const budgetMs =
    kind === 'complex'
      ? ComplexBudget.parse(c.env.TIMEOUT_COMPLEX_MS)
      : SimpleBudget.parse(c.env.TIMEOUT_SIMPLE_MS);

  const work = next();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), budgetMs);
  });
  try {
    if ((await Promise.race([work, expired])) !== 'expired') return;
  } finally {
    clearTimeout(timer!);
  }

  c.executionCtx.waitUntil(work.catch(() => {}));
  console.warn(
    JSON.stringify({
      level: 'warn',
      msg: 'request timed out',
      request_id: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      route_class: kind,
      budget_ms: budgetMs,
    }),
  );
  throw new ApiError(504, 'TIMEOUT', '요청 처리 시간이 초과되었습니다.', {
    details: { timeout_ms: budgetMs },
  });
});
