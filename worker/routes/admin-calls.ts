import { createRoute, z } from '@hono/zod-openapi';
import { CALL_STATUSES } from '../../db/schema.ts';
import { actorOf } from '../domain/audit.ts';
import { acknowledgeCall, CallSchema, CALLS_LIST_LIMIT, listCalls } from '../domain/calls.ts';
import { authorized, storeOf } from '../middleware/auth.ts';
import { changingFloor } from '../platform/cache.ts';
import { createRouter, errorResponses, IdParam, jsonResponse } from '../openapi.ts';

const listRoute = createRoute({
  method: 'get',
  path: '/api/admin/calls',
  tags: ['admin: calls'],
  summary: "The store's staff calls, newest first",
  description:
    `At most the newest ${CALLS_LIST_LIMIT}. Without \`status\`: the open and acknowledged ` +
    'ones (not the closed).',
  ...authorized('store_admin'),
  request: { query: z.object({ status: z.enum(CALL_STATUSES).optional() }) },
  responses: {
    200: jsonResponse(z.object({ calls: z.array(CallSchema) }), 'the calls'),
    ...errorResponses(400, 401, 403),
  },
});

const acknowledgeRoute = createRoute({
  method: 'post',
  path: '/api/admin/calls/{id}/acknowledge',
  tags: ['admin: calls'],
  summary: 'An admin has seen to a call',
  description:
    'Records `table.call_acknowledged` and the audit trail. A call no longer open is 409 ' +
    "CALL_NOT_OPEN; another store's or an unknown call 404 NOT_FOUND.",
  ...authorized('store_admin'),
  request: { params: IdParam },
  responses: {
    200: jsonResponse(CallSchema, 'the call, acknowledged'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

/**
 * The staff's side of calls (직원 호출): what is waiting, and seeing to it. Acknowledging
 * invalidates the dashboard side by side with its transaction (its open calls change).
 */
export const adminCalls = createRouter()
  .openapi(listRoute, async (c) => {
    const { status } = c.req.valid('query');
    const calls = await listCalls(c.var.db, storeOf(c.var.principal), status);
    return c.json({ calls }, 200);
  })
  .openapi(acknowledgeRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const call = await changingFloor(c.var.redis, storeId, () =>
      acknowledgeCall(c.var.db, storeId, id, actorOf(c.var.principal)),
    );
    return c.json(call, 200);
  });
