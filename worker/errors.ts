/**
 * The error envelope: how an ApiError (api-error.ts), a Hono HTTP error or anything
 * unexpected becomes the answer, and what is logged.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { loggableQueryError } from '../db/query-errors.ts';
import { ApiError } from './api-error.ts';
import { ERROR_FOR_STATUS, errorEnvelope } from './contracts/error-envelope.ts';
import type { AppEnv } from './env.ts';

/** Writes the error envelope. */
export function errorResponse(c: Context<AppEnv>, error: ApiError): Response {
  return c.json(
    errorEnvelope(error.code, error.message, error.details, c.get('requestId') ?? null),
    error.status,
    error.headers,
  );
}

/** `app.onError`: known errors become their envelope; anything else is logged and hidden. */
export function handleError(err: Error, c: Context<AppEnv>): Response {
  const known = apiErrorIn(err);
  if (known) {
    if (known.status >= 500) logError(c, err);
    return errorResponse(c, known);
  }
  // Statuses that Hono itself may raise (body limit, method, timeout …).
  if (err instanceof HTTPException && err.status < 500) {
    const [code, message] = ERROR_FOR_STATUS[err.status] ?? ['BAD_REQUEST', '잘못된 요청입니다.'];
    return errorResponse(c, new ApiError(err.status, code, message));
  }
  logError(c, err);
  const [code, message] = ERROR_FOR_STATUS[500]!;
  return errorResponse(c, new ApiError(500, code, message));
}

/**
 * The ApiError behind an error, if any: drizzle wraps what the driver threw (e.g. the pool's 503
 * when the database cannot be reached) in its own "Failed query" error, as `cause`.
 */
function apiErrorIn(err: unknown): ApiError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof ApiError) return e;
  }
  return undefined;
}

/** One ERROR line; a failed query is logged by its shape and SQLSTATE, never its values. */
function logError(c: Context<AppEnv>, err: Error): void {
  console.error(
    JSON.stringify({
      level: 'error',
      msg: 'request failed',
      request_id: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      error: loggableQueryError(err) ?? {
        name: err.name,
        message: err.message,
        cause: String(err.cause ?? ''),
        stack: err.stack,
      },
    }),
  );
}

/** `app.notFound`: unknown routes answer the same envelope as unknown resources. */
export function handleNotFound(c: Context<AppEnv>): Response {
  return errorResponse(c, new ApiError(404, 'NOT_FOUND', '요청한 리소스를 찾을 수 없습니다.'));
}
