import { createRoute, z } from '@hono/zod-openapi';
import { CALL_NOTE_MAX_LENGTH, CALL_REASONS } from '../../db/schema.ts';
import { CallSchema, callStaff } from '../domain/calls.ts';
import { authorized, storeOf } from '../middleware/auth.ts';
import { changingFloor } from '../platform/cache.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, SingleLine } from '../openapi.ts';

const CallStaffBody = z
  .strictObject({
    reason: z.enum(CALL_REASONS),
    note: SingleLine.trim()
      .max(CALL_NOTE_MAX_LENGTH)
      .nullish()
      .openapi({ description: 'e.g. "얼음 많이"; blank means none' }),
  })
  .openapi('CallStaff');

const callRoute = createRoute({
  method: 'post',
  path: '/api/customer/calls',
  tags: ['customer'],
  summary: 'A table calls the staff (직원 호출)',
  description:
    'One open call per table and reason: the first answers 201 and records ' +
    '`table.call_requested`; the same reason while that call is open answers it with 200 and ' +
    'tells no one again.',
  ...authorized('table'),
  request: { body: jsonBody(CallStaffBody) },
  responses: {
    201: jsonResponse(CallSchema, 'the new call'),
    200: jsonResponse(CallSchema, 'the open call of the same reason, already made'),
    ...errorResponses(400, 401, 403, 429),
  },
});

/** The tablet's call button: the staff is called, and the floor learns it at once. */
export const customerCalls = createRouter().openapi(callRoute, async (c) => {
  const principal = c.var.principal;
  const body = c.req.valid('json');
  const storeId = storeOf(principal);
  // The store's cached floor view shows each table's open calls.
  const { call, created } = await changingFloor(c.var.redis, storeId, () =>
    callStaff(c.var.db, {
      storeId,
      tableId: principal.sub,
      reason: body.reason,
      // Trimmed by the schema: blank is no note.
      note: body.note || null,
    }),
  );
  return created ? c.json(call, 201) : c.json(call, 200);
});
