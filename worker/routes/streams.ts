import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { TOKEN_TTL_SECONDS } from '../auth/tokens.ts';
import { assertAccountActive } from '../domain/accounts.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../api-error.ts';
import { storeHub, type StreamRefusal } from '../hub/store-hub.ts';
import {
  DEFAULT_STREAMS_PER_STORE,
  STREAMS_PER_ACCOUNT,
  type StreamRole,
} from '../hub/stream-limits.ts';
import { storeOfTicket, TICKET_TTL_SECONDS, ticketInvalid } from '../hub/stream-tickets.ts';
import { authorized, requireRole, storeOf } from '../middleware/auth.ts';
import { createRouter, errorResponses, jsonResponse, SingleLine } from '../openapi.ts';

/**
 * Authenticates a stream by its bearer token, or — for `EventSource`, which cannot send headers —
 * by a `?ticket=` redeemed at the store's hub. A ticket opens one stream; `EventSource` reconnects
 * to the same URL with a `Last-Event-ID` header, and such a request may present the used ticket
 * again (see StreamTickets). A ticket opens only its own role's stream; an unknown, expired or
 * used one (not resuming) is a 401, like a bad token. Every redemption checks the account, so
 * revoked access is refused on a reconnect too.
 */
function streamAuth(role: StreamRole) {
  const bearer = requireRole([role]);
  return createMiddleware<AppEnv>(async function authenticateStream(c, next) {
    const ticket = c.req.query('ticket');
    if (ticket === undefined || c.req.header('authorization') !== undefined) {
      return bearer(c, next);
    }
    const use = c.req.header('last-event-id') ? 'resume' : 'open';
    const principal = await storeHub(c.env, storeOfTicket(ticket)).redeemTicket(ticket, use);
    if (!principal) throw ticketInvalid();
    if (principal.role !== role) throw new ApiError(403, 'FORBIDDEN', '권한이 없습니다.');
    await assertAccountActive(c.var.db, principal);
    c.set('principal', principal);
    await next();
  });
}

const StreamTicket = z
  .object({
    ticket: z.string().openapi({ description: '`<store id>.<random>`' }),
    expires_in: z.number().int().openapi({ example: 60 }),
  })
  .openapi('StreamTicket');

const createTicket = createRoute({
  method: 'post',
  path: '/api/admin/stream-ticket',
  tags: ['realtime'],
  summary: 'A ticket to open an event stream with `EventSource` (`?ticket=`)',
  description:
    `The ticket opens one stream, within ${TICKET_TTL_SECONDS} s. That stream's own reconnects — ` +
    '`EventSource` comes back to the same URL with a `Last-Event-ID` header after a cut (a ' +
    'deploy) — may present it again until the token that obtained it expires (at most ' +
    `${TOKEN_TTL_SECONDS / 3600} h), while the account stays active: a deactivated admin gets ` +
    '403 ACCOUNT_DISABLED, a ' +
    'table with a new password 401 TOKEN_INVALID. A used ticket without that header is 401 ' +
    "TOKEN_INVALID. The stream's first frame carries the newest event id, so even a stream that " +
    'received no event reconnects with `Last-Event-ID`.',
  ...authorized('store_admin', 'table'),
  responses: {
    200: jsonResponse(
      StreamTicket,
      'opens the caller’s stream once within `expires_in` seconds; that stream’s reconnects ' +
        'may present it again',
    ),
    ...errorResponses(401, 403, 429),
  },
});

const StreamQuery = z.object({
  ticket: SingleLine.optional().openapi({
    description:
      'from POST /api/admin/stream-ticket, instead of the Authorization header; once used, only ' +
      'with a `Last-Event-ID` header (the reconnect of the stream it opened)',
  }),
  last_event_id: SingleLine.optional().openapi({
    description: '`Last-Event-ID` for clients that cannot send the header',
  }),
});
const StreamHeaders = z.object({
  'Last-Event-ID': SingleLine.optional().openapi({
    description: 'the last `id:` received: the events after it are sent first',
  }),
});

/** Who holds each kind of stream, in the API description's words. */
const HOLDER: Record<StreamRole, string> = { store_admin: 'store admin', table: 'table' };

/** An SSE stream route: documented as `text/event-stream`, authenticated by token or ticket. */
function streamRoute(path: string, role: StreamRole, summary: string, description: string) {
  return createRoute({
    method: 'get',
    path,
    tags: ['realtime'],
    summary,
    description:
      `${description} Open streams are capped: ${STREAMS_PER_ACCOUNT[role]} per ${HOLDER[role]} ` +
      `(its account) and ${DEFAULT_STREAMS_PER_STORE} per store (\`STREAM_LIMIT_PER_STORE\`); ` +
      'one more answers 429 RATE_LIMITED with `Retry-After` until one closes. A stream ends at ' +
      'once when its account loses access (admin deactivated, new table password, table ' +
      'removed); the reconnect is then refused.',
    middleware: [streamAuth(role)] as const,
    security: [{ bearer: [] }, { streamTicket: [] }],
    request: { query: StreamQuery, headers: StreamHeaders },
    responses: {
      200: {
        description:
          '`retry:` first — on a first connect (no `Last-Event-ID`) with `id: <outbox id of ' +
          'the newest event>` (0: none yet), which dispatches no event but sets the client’s ' +
          'last event ID, so its reconnect resumes from there; then `id: <outbox id>` / ' +
          '`event: <type>` / `data: <envelope JSON>` per event, `event: resync` when the missed ' +
          'events are gone (reload the snapshot), `: ping` comments',
        content: { 'text/event-stream': { schema: z.string() } },
      },
      ...errorResponses(401, 403, 429),
    },
  });
}

const adminStream = streamRoute(
  '/api/admin/orders/stream',
  'store_admin',
  "The store's events, live (the admin dashboard)",
  'Every event of the store.',
);
const tableStream = streamRoute(
  '/api/customer/orders/stream',
  'table',
  "The calling table's events, live (the tablet)",
  "The store's store-wide events (the menu: `menu.*`, a dish sold out) and the events of the " +
    'party now seated at the table: a `Last-Event-ID` from before its last ' +
    '이용 완료 gets `event: resync` (reload the order list), never an earlier party’s events.',
);

/**
 * Hands the client to its store's hub, which answers the stream. The hub's body goes out as it
 * is (never read or buffered here); only this request's id joins its headers.
 */
async function openStream(c: Context<AppEnv>, role: StreamRole): Promise<Response> {
  const principal = c.var.principal;
  const opened = await storeHub(c.env, storeOf(principal)).openStream({
    role,
    accountId: principal.sub,
    lastEventId: c.req.header('last-event-id') ?? c.req.query('last_event_id') ?? null,
  });
  if (!(opened instanceof Response)) throw tooManyStreams(opened);
  return c.newResponse(opened.body, opened);
}

/** 429 for a stream over its account's or its store's cap, in the rate limit's words. */
function tooManyStreams(refusal: StreamRefusal): ApiError {
  return new ApiError(
    429,
    'RATE_LIMITED',
    '열려 있는 실시간 연결이 너무 많습니다. 잠시 후 다시 시도해 주세요.',
    {
      details: { per: refusal.per, limit: refusal.limit, retry_after: refusal.retryAfterSeconds },
      headers: { 'Retry-After': String(refusal.retryAfterSeconds) },
    },
  );
}

/** Real-time: stream tickets, and the admin's and tables' event streams (docs/realtime.md). */
export const streams = createRouter()
  .openapi(createTicket, async (c) => {
    const principal = c.var.principal;
    const hub = storeHub(c.env, storeOf(principal));
    const ticket = await hub.createTicket(principal, c.var.tokenExpiresAt);
    return c.json(ticket, 200);
  })
  .openapi(adminStream, (c) => openStream(c, 'store_admin'))
  .openapi(tableStream, (c) => openStream(c, 'table'));

streams.openAPIRegistry.registerComponent('securitySchemes', 'streamTicket', {
  type: 'apiKey',
  in: 'query',
  name: 'ticket',
  description:
    `from POST /api/admin/stream-ticket: opens one stream within ${TICKET_TTL_SECONDS} s; that ` +
    'stream’s reconnects (with `Last-Event-ID`) may present it again',
});
