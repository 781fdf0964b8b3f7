import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Role } from '../auth/tokens.ts';
import { assertAccountActive } from '../domain/accounts.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../api-error.ts';
import { storeHub } from '../hub/store-hub.ts';
import { storeOfTicket, ticketInvalid } from '../hub/stream-tickets.ts';
import { authorized, requireRole, storeOf } from '../middleware/auth.ts';
import { createRouter, errorResponses, jsonResponse } from '../openapi.ts';

/**
 * Authenticates a stream by its bearer token, or — for `EventSource`, which cannot send headers —
 * by a single-use `?ticket=` redeemed at the store's hub. A ticket opens only its own role's
 * stream; an unknown, used or expired one is a 401, like a bad token.
 */
function streamAuth(role: Extract<Role, 'store_admin' | 'table'>) {
  const bearer = requireRole([role]);
  return createMiddleware<AppEnv>(async function authenticateStream(c, next) {
    const ticket = c.req.query('ticket');
    if (ticket === undefined || c.req.header('authorization') !== undefined) {
      return bearer(c, next);
    }
    const principal = await storeHub(c.env, storeOfTicket(ticket)).redeemTicket(ticket);
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
  summary: 'A single-use ticket to open an event stream with `EventSource` (`?ticket=`)',
  ...authorized('store_admin', 'table'),
  responses: {
    200: jsonResponse(
      StreamTicket,
      'valid once, for `expires_in` seconds, for the caller’s stream',
    ),
    ...errorResponses(401, 403, 429),
  },
});

const StreamQuery = z.object({
  ticket: z.string().optional().openapi({
    description: 'from POST /api/admin/stream-ticket, instead of the Authorization header',
  }),
  last_event_id: z.string().optional().openapi({
    description: '`Last-Event-ID` for clients that cannot send the header',
  }),
});
const StreamHeaders = z.object({
  'Last-Event-ID': z.string().optional().openapi({
    description: 'the last `id:` received: the events after it are sent first',
  }),
});

/** An SSE stream route: documented as `text/event-stream`, authenticated by token or ticket. */
function streamRoute(path: string, role: 'store_admin' | 'table', summary: string) {
  return createRoute({
    method: 'get',
    path,
    tags: ['realtime'],
    summary,
    middleware: [streamAuth(role)] as const,
    security: [{ bearer: [] }, { streamTicket: [] }],
    request: { query: StreamQuery, headers: StreamHeaders },
    responses: {
      200: {
        description:
          '`retry:` first; then `id: <outbox id>` / `event: <type>` / `data: <envelope JSON>` per event, ' +
          '`event: resync` when the missed events are gone (reload the snapshot), `: ping` comments',
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
);
const tableStream = streamRoute(
  '/api/customer/orders/stream',
  'table',
  "The calling table's events, live (the tablet)",
);

/**
 * Hands the client to its store's hub, which answers the stream. The hub's body goes out as it
 * is (never read or buffered here); only this request's id joins its headers.
 */
async function openStream(c: Context<AppEnv>): Promise<Response> {
  const principal = c.var.principal;
  const stream = await storeHub(c.env, storeOf(principal)).openStream({
    tableId: principal.role === 'table' ? principal.sub : null,
    lastEventId: c.req.header('last-event-id') ?? c.req.query('last_event_id') ?? null,
  });
  return c.newResponse(stream.body, stream);
}

/** Real-time: stream tickets, and the admin's and tables' event streams (SPEC §3, §4). */
export const streams = createRouter()
  .openapi(createTicket, async (c) => {
    const principal = c.var.principal;
    const ticket = await storeHub(c.env, storeOf(principal)).createTicket(principal);
    return c.json(ticket, 200);
  })
  .openapi(adminStream, (c) => openStream(c))
  .openapi(tableStream, (c) => openStream(c));

streams.openAPIRegistry.registerComponent('securitySchemes', 'streamTicket', {
  type: 'apiKey',
  in: 'query',
  name: 'ticket',
  description: 'single-use, 60 s, from POST /api/admin/stream-ticket',
});
