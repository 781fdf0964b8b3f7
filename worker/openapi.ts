import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from './env.ts';
import { ApiError } from './api-error.ts';
import { Uuid } from './contracts/ids.ts';
import { TABLE_LABEL_MAX_LENGTH } from '../db/schema.ts';

/**
 * A router whose routes are declared with zod schemas (`createRoute`): the same schemas validate
 * requests at the edge and generate `/openapi.json`. A request that fails validation becomes one
 * `400 VALIDATION_ERROR` naming each bad field.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      throw new ApiError(400, 'VALIDATION_ERROR', '요청 값이 올바르지 않습니다.', {
        details: {
          target: result.target,
          issues: result.error.issues.map((issue) => ({
            path: issue.path.join('.'),
            message: issue.message,
          })),
        },
      });
    },
  });
}

/** The error envelope every error answers (docs/api.md), for documenting error responses. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'NOT_FOUND' }),
      message: z.string().openapi({ example: '요청한 리소스를 찾을 수 없습니다.' }),
      details: z.record(z.string(), z.unknown()),
      request_id: z.string().nullable(),
    }),
  })
  .openapi('Error');

const errorDescriptions: Record<number, string> = {
  400: 'VALIDATION_ERROR: the body, path or query is malformed',
  401: 'TOKEN_MISSING | TOKEN_INVALID | TOKEN_EXPIRED | INVALID_CREDENTIALS',
  403: 'FORBIDDEN | ACCOUNT_DISABLED',
  404: "NOT_FOUND (another store's ids too) | MENU_NOT_FOUND",
  409: 'a conflict with the current state (code names it)',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'IDEMPOTENCY_KEY_REUSED',
  429: 'RATE_LIMITED (see Retry-After)',
};

/** Documents the error responses a route can give, all in the error envelope. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: errorDescriptions[status] ?? 'error',
        content: { 'application/json': { schema: ErrorBody } },
      },
    ]),
  );
}

/** A JSON request body, required. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true } as const;
}

/** A JSON response with a description. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** Every id a request gives, read in lower case; a malformed id is a 400. */
export { Uuid };

/**
 * Text on one line: no C0 or C1 control character (PostgreSQL text cannot hold NUL, and none of
 * them belongs in a name, a username, a password or a search term).
 */
export const SingleLine = z
  .string()
  .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'control characters are not allowed');

/**
 * A table's label as the admin sets it up and the tablet logs in with: text on one line, trimmed,
 * 1..20 characters (`"7"`, `"A-1"`, `"테라스 3"`), or a whole number ≥ 0, which becomes its
 * decimal text (`7` → `"7"`). The one schema of every route that takes a table's label.
 */
export const TableLabel = z
  .union([SingleLine.trim().min(1).max(TABLE_LABEL_MAX_LENGTH), z.int().min(0).transform(String)])
  .openapi({
    description: `a label of 1..${TABLE_LABEL_MAX_LENGTH} characters, or a whole number (read as its decimal text)`,
    example: 'A-1',
  });

/** Text of several lines (a description): line breaks and tabs, no other control character. */
export const MultiLine = z
  .string()
  .regex(
    /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/,
    'control characters other than line breaks and tabs are not allowed',
  );

/** Path parameter `:id` as a uuid (a malformed id is a 400, not a database error). */
export const IdParam = z.object({
  id: Uuid.openapi({ param: { name: 'id', in: 'path' } }),
});

/** Paging query (`page` from 1, `page_size` up to 100). */
export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(20),
});

/**
 * A real calendar day (2026-02-30 is refused) of a year the service can have records in: from
 * 2000 to 9999 (PostgreSQL has no year 0, and a five-digit year is not `YYYY`).
 */
const StoreDay = z.iso
  .date()
  .refine((day) => day >= '2000-01-01', 'a day from 2000-01-01 on')
  .openapi({ description: "YYYY-MM-DD in the store's timezone, from 2000-01-01" });

/**
 * Paging query of a list read by store-local days (a table's order history, the audit trail):
 * `from` and `to` both inclusive, either left out, `from` not after `to`.
 */
export const StoreDaysPageQuery = PageQuery.extend({
  from: StoreDay.optional(),
  to: StoreDay.optional(),
}).refine((query) => !query.from || !query.to || query.from <= query.to, {
  message: 'from must not be after to',
  path: ['from'],
});

export const Pagination = z
  .object({
    page: z.number().int(),
    page_size: z.number().int(),
    total_count: z.number().int(),
    total_pages: z.number().int(),
  })
  .openapi('Pagination');

/** The pagination block for `total` rows. */
export function pagination(page: number, pageSize: number, total: number) {
  return {
    page,
    page_size: pageSize,
    total_count: total,
    total_pages: Math.ceil(total / pageSize),
  };
}
