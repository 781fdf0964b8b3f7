import { createRoute, z } from '@hono/zod-openapi';
import { LINE_NOTE_MAX_LENGTH, ORDER_REQUEST_MAX_LENGTH } from '../../db/schema.ts';
import { changingFloor } from '../platform/cache.ts';
import { createOrder, MAX_ORDER_TOTAL, MAX_SESSION_TOTAL, tableOrders } from '../domain/orders.ts';
import { OrderSchema, SessionTotal } from '../domain/order-view.ts';
import { authorized, storeOf } from '../middleware/auth.ts';
import {
  createRouter,
  errorResponses,
  jsonBody,
  jsonResponse,
  MultiLine,
  SingleLine,
  Uuid,
} from '../openapi.ts';

/** An amount as the API document writes it: `100,000,000 won`. */
const won = (amount: number) => `${amount.toLocaleString('en-US')} won`;

/** Lines per order: far more than a table orders at once, few enough to bound the work. */
const MAX_LINES = 50;
/** Options per line: more than any dish offers, few enough to bound the work. */
const MAX_OPTIONS_PER_LINE = 50;

const PlaceOrderBody = z
  .object({
    items: z
      .array(
        z.object({
          menu_id: Uuid,
          quantity: z.number().int().min(1).max(99),
          option_ids: z
            .array(Uuid)
            .max(MAX_OPTIONS_PER_LINE)
            .refine((ids) => new Set(ids).size === ids.length, 'option ids must be distinct')
            .optional()
            .openapi({ description: "the chosen options, each once; the menu's groups decide" }),
          note: SingleLine.trim()
            .max(LINE_NOTE_MAX_LENGTH)
            .nullish()
            .openapi({ description: 'for the kitchen, e.g. "덜 맵게"; blank means none' }),
        }),
      )
      .min(1)
      .max(MAX_LINES),
    request: MultiLine.trim()
      .max(ORDER_REQUEST_MAX_LENGTH)
      .nullish()
      .openapi({ description: '요청사항 for the whole order; blank means none' }),
    expected_total: z.number().int().min(0).optional().openapi({
      description: 'the total the guest saw; another server total is 409 PRICE_CHANGED',
    }),
  })
  .openapi('PlaceOrder');

/** A guest's free text as stored: trimmed by the schema, and nothing when blank. */
const textOrNull = (text: string | null | undefined) => text || null;

const IdempotencyHeader = z.object({
  // The validator matches header names case-insensitively.
  'Idempotency-Key': SingleLine.min(1).max(255).optional().openapi({
    description: 'Retry key of this table: the same key and body answer the first order again',
  }),
});

const placeOrder = createRoute({
  method: 'post',
  path: '/api/customer/orders',
  tags: ['customer'],
  summary: 'A table places an order',
  description:
    `An order comes to at most ${won(MAX_ORDER_TOTAL)} (400 VALIDATION_ERROR beyond it); one ` +
    `that would take the party's stay past ${won(MAX_SESSION_TOTAL)} is 409 ` +
    'SESSION_TOTAL_LIMIT_REACHED. Options: 404 OPTION_NOT_FOUND, 400 OPTION_SELECTION_INVALID ' +
    "(another dish's option, a group outside min_select..max_select, a unit price below 0), " +
    '409 OPTION_UNAVAILABLE. A total other than expected_total is 409 PRICE_CHANGED with the ' +
    'current lines, and nothing is written.',
  ...authorized('table'),
  request: { headers: IdempotencyHeader, body: jsonBody(PlaceOrderBody) },
  responses: {
    201: {
      ...jsonResponse(
        OrderSchema,
        'the order (the first one again for a repeated Idempotency-Key)',
      ),
      headers: {
        'Idempotent-Replayed': {
          description: '`true` when this answer repeats an order placed with the same key',
          schema: { type: 'string', enum: ['true'] },
        },
      },
    },
    ...errorResponses(400, 401, 403, 404, 409, 422, 429),
  },
});

const TableOrders = z
  .object({
    table_session_id: z.uuid().nullable(),
    total_amount: SessionTotal,
    orders: z.array(OrderSchema),
  })
  .openapi('TableOrders');

const listOrders = createRoute({
  method: 'get',
  path: '/api/customer/orders',
  tags: ['customer'],
  summary: "The table's orders in its current session, newest first",
  ...authorized('table'),
  responses: {
    200: jsonResponse(TableOrders, 'current session (null when none) with its total'),
    ...errorResponses(401, 403, 429),
  },
});

/** Ordering from the tablet: placing an order, and what the table has ordered so far. */
export const customerOrders = createRouter()
  .openapi(placeOrder, async (c) => {
    const principal = c.var.principal;
    const body = c.req.valid('json');
    const storeId = storeOf(principal);
    // The store's cached floor view will no longer show this table's totals.
    const { order, replayed } = await changingFloor(c.var.redis, storeId, () =>
      createOrder(c.var.db, {
        storeId,
        tableId: principal.sub,
        items: body.items.map((line) => ({
          menuId: line.menu_id,
          quantity: line.quantity,
          optionIds: line.option_ids,
          note: textOrNull(line.note),
        })),
        request: textOrNull(body.request),
        expectedTotal: body.expected_total,
        idempotencyKey: c.req.valid('header')['Idempotency-Key'],
      }),
    );
    return c.json(order, 201, replayed ? { 'Idempotent-Replayed': 'true' } : {});
  })
  .openapi(listOrders, async (c) => {
    const principal = c.var.principal;
    const answer = await tableOrders(c.var.db, {
      storeId: storeOf(principal),
      tableId: principal.sub,
    });
    return c.json(answer, 200);
  });
