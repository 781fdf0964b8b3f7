/**
 * The SPEC §3 error envelope: how an ApiError (api-error.ts), a Hono HTTP error or anything
 * unexpected becomes the answer, and what is logged.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { loggableQueryError } from '../db/query-errors.ts';
import { ApiError } from './api-error.ts';
import type { AppEnv } from './env.ts';

/** Codes for the statuses that Hono itself may raise (body limit, method, timeout …). */
const codeForStatus: Partial<Record<number, [string, string]>> = {
  400: ['VALIDATION_ERROR', '요청 형식이 올바르지 않습니다.'],
  401: ['TOKEN_MISSING', '인증이 필요합니다.'],
  403: ['FORBIDDEN', '권한이 없습니다.'],
  404: ['NOT_FOUND', '요청한 리소스를 찾을 수 없습니다.'],
  405: ['METHOD_NOT_ALLOWED', '허용되지 않은 메서드입니다.'],
  413: ['PAYLOAD_TOO_LARGE', '요청 본문이 너무 큽니다.'],
  415: ['UNSUPPORTED_MEDIA_TYPE', '지원하지 않는 형식입니다.'],
  429: ['RATE_LIMITED', '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.'],
  503: ['SERVICE_UNAVAILABLE', '일시적으로 서비스를 이용할 수 없습니다.'],
  504: ['TIMEOUT', '요청 처리 시간이 초과되었습니다.'],
};

/** Writes the SPEC §3 error envelope. */
export function errorResponse(c: Context<AppEnv>, error: ApiError): Response {
  return c.json(
    {
      error: {
        code: error.code,
        message: error.message,
        details: error.details,
        request_id: c.get('requestId') ?? null,
      },
    },
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
  if (err instanceof HTTPException && err.status < 500) {
    const [code, message] = codeForStatus[err.status] ?? ['BAD_REQUEST', '잘못된 요청입니다.'];
    return errorResponse(c, new ApiError(err.status, code, message));
  }
  logError(c, err);
  return errorResponse(
    c,
    new ApiError(500, 'INTERNAL_ERROR', '서버 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.'),
  );
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
