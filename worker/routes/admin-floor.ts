import { createRoute, z } from '@hono/zod-openapi';
import { CANCEL_REASON_MAX_LENGTH, KITCHEN_STATUSES, ORDER_STATUSES } from '../../db/schema.ts';
import { OpenCallSchema } from '../domain/calls.ts';
import { floorDashboard, floorView } from '../domain/dashboard.ts';
import { HistoryOrderSchema, orderHistory } from '../domain/history.ts';
import { OrderSchema, SessionTotal } from '../domain/order-view.ts';
import { actorOf } from '../domain/audit.ts';
import {
  acknowledgeOrder,
  adminOrders,
  cancelOrder,
  changeOrderStatus,
} from '../domain/order-status.ts';
import { completeSession } from '../domain/sessions.ts';
import { TableLabelText } from '../domain/tables.ts';
import {
  CACHE_TTL_SECONDS,
  cached,
  cachedVersioned,
  cacheKeys,
  changingFloor,
  historyChanged,
} from '../platform/cache.ts';
import { authorized, authorizedReading, storeOf } from '../middleware/auth.ts';
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
  MultiLine,
  Pagination,
  pagination,
  StoreDaysPageQuery,
  Uuid,
} from '../openapi.ts';

const OrderStatus = z.enum(ORDER_STATUSES);

const UnacknowledgedCount = z.number().int().openapi({
  description: 'orders nobody has seen to yet: pending, not acknowledged (cancelled ones left out)',
});

const FloorTableSchema = z
  .object({
    id: z.uuid(),
    table_number: TableLabelText,
    session: z
      .object({
        id: z.uuid(),
        started_at: z.string().openapi({ format: 'date-time' }),
        total_amount: SessionTotal,
        order_count: z.number().int().openapi({ description: 'orders not cancelled' }),
        unacknowledged_count: UnacknowledgedCount,
        latest_orders: z.array(OrderSchema).openapi({ description: 'up to 3, newest first' }),
      })
      .nullable()
      .openapi({ description: 'the active session, or null when the table is free' }),
    open_calls: z
      .array(OpenCallSchema)
      .openapi({ description: "the table's staff calls still open, oldest first" }),
  })
  .openapi('FloorTable');

const dashboard = createRoute({
  method: 'get',
  path: '/api/admin/dashboard',
  tags: ['admin: floor'],
  summary: 'Every table with its current session, totals and newest orders',
  ...authorizedReading((admin) => cacheKeys.dashboard(storeOf(admin)), 'store_admin'),
  responses: {
    200: jsonResponse(
      z.object({
        tables: z.array(FloorTableSchema),
        unacknowledged_count: UnacknowledgedCount.openapi({
          description: 'the same, on the whole floor: the sum of the seated tables’',
        }),
      }),
      'the floor',
    ),
    ...errorResponses(401, 403),
  },
});

const listOrders = createRoute({
  method: 'get',
  path: '/api/admin/orders',
  tags: ['admin: floor'],
  summary: 'Orders of the active sessions, newest first',
  ...authorized('store_admin'),
  request: {
    query: z.object({ table_id: Uuid.optional(), status: OrderStatus.optional() }),
  },
  responses: {
    200: jsonResponse(z.object({ orders: z.array(OrderSchema) }), 'current orders'),
    ...errorResponses(400, 401, 403, 404),
  },
});

const changeStatus = createRoute({
  method: 'patch',
  path: '/api/admin/orders/{id}/status',
  tags: ['admin: floor'],
  summary: 'Moves an order to its next kitchen state',
  description:
    'pending → preparing → cooked → delivered, one step at a time; anything else, and any ' +
    'change of a cancelled order, is 409 INVALID_STATUS_TRANSITION with `details: {from, to}`. ' +
    'Starting an order nobody acknowledged (→ preparing) acknowledges it too. ' +
    'Cancelling is `POST /api/admin/orders/{id}/cancel`, not a status.',
  ...authorized('store_admin'),
  request: {
    params: IdParam,
    body: jsonBody(z.strictObject({ status: z.enum(KITCHEN_STATUSES) })),
  },
  responses: {
    200: jsonResponse(OrderSchema, 'the order in its new state'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const acknowledge = createRoute({
  method: 'post',
  path: '/api/admin/orders/{id}/acknowledge',
  tags: ['admin: floor'],
  summary: 'An admin has seen to a new order (주문 확인)',
  description:
    'Sets `acknowledged_at` and `acknowledged_by` and records `order.acknowledged`, which stops ' +
    'the `order.unacknowledged` alerts. Already acknowledged → 200, the order unchanged, nothing ' +
    'recorded. Starting the order (`PATCH …/status` to `preparing`) acknowledges it too. A ' +
    'cancelled order → 409 ORDER_ALREADY_CANCELLED.',
  ...authorized('store_admin'),
  request: { params: IdParam },
  responses: {
    200: jsonResponse(OrderSchema, 'the acknowledged order'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const CancelBody = z
  .strictObject({
    reason: MultiLine.trim()
      .max(CANCEL_REASON_MAX_LENGTH)
      .nullish()
      .openapi({ description: 'why the order was voided, e.g. "손님 요청"; blank means none' }),
  })
  .openapi('CancelOrder');

const cancel = createRoute({
  method: 'post',
  path: '/api/admin/orders/{id}/cancel',
  tags: ['admin: floor'],
  summary: 'Cancels (voids) an order of an active session, whatever its state',
  description:
    'The order stays, as `cancelled` with `cancelled_at`, `cancelled_by` and `cancel_reason`, ' +
    'and leaves every total. Already cancelled → 409 ORDER_ALREADY_CANCELLED.',
  ...authorized('store_admin'),
  request: { params: IdParam, body: jsonBody(CancelBody) },
  responses: {
    200: jsonResponse(OrderSchema, 'the cancelled order'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const removeOrder = createRoute({
  method: 'delete',
  path: '/api/admin/orders/{id}',
  tags: ['admin: floor'],
  summary: 'Cancels an order without a reason (the same as POST …/cancel with no reason)',
  description: 'Already cancelled → 409 ORDER_ALREADY_CANCELLED.',
  ...authorized('store_admin'),
  request: { params: IdParam },
  responses: {
    204: { description: 'cancelled' },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const completeTableSession = createRoute({
  method: 'post',
  path: '/api/admin/tables/{id}/complete-session',
  tags: ['admin: floor'],
  summary: "이용 완료: archives the table's orders and ends its session",
  description:
    'Cancelled orders are archived as cancelled and left out of `order_count` and ' +
    '`total_amount`. No active session → 409 NO_ACTIVE_SESSION.',
  ...authorized('store_admin'),
  request: { params: IdParam },
  responses: {
    200: jsonResponse(
      z
        .object({
          table_session_id: z.uuid(),
          completed_at: z.string().openapi({ format: 'date-time' }),
          order_count: z.number().int().openapi({ description: 'orders not cancelled' }),
          total_amount: SessionTotal,
        })
        .openapi('CompletedSession'),
      'the session that ended',
    ),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const history = createRoute({
  method: 'get',
  path: '/api/admin/tables/{id}/order-history',
  tags: ['admin: floor'],
  summary: "A table's archived orders, newest completion first",
  description: '`from` and `to` are store-local days, both inclusive.',
  ...authorized('store_admin'),
  request: {
    params: IdParam,
    query: StoreDaysPageQuery,
  },
  responses: {
    200: jsonResponse(
      z.object({ data: z.array(HistoryOrderSchema), pagination: Pagination }),
      'one page of history',
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

/**
 * The floor: what a store admin watches and does while guests are seated. The dashboard and the
 * history pages are read through the cache (the dashboard's read starts with the caller's checks);
 * each write invalidates the dashboard side by side with its transaction (`changingFloor`) and
 * retires the history pages it changed once it has committed, before answering.
 */
export const adminFloor = createRouter()
  .openapi(dashboard, async (c) => {
    const storeId = storeOf(c.var.principal);
    const tables = await cached(
      c.var.redis,
      cacheKeys.dashboard(storeId),
      CACHE_TTL_SECONDS,
      () => floorDashboard(c.var.db, storeId),
      c.var.prefetched,
    );
    return c.json(floorView(tables), 200);
  })
  .openapi(listOrders, async (c) => {
    const query = c.req.valid('query');
    const orders = await adminOrders(c.var.db, storeOf(c.var.principal), {
      tableId: query.table_id,
      status: query.status,
    });
    return c.json({ orders }, 200);
  })
  .openapi(changeStatus, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const { status } = c.req.valid('json');
    const order = await changingFloor(c.var.redis, storeId, () =>
      changeOrderStatus(c.var.db, storeId, id, status, actorOf(c.var.principal)),
    );
    return c.json(order, 200);
  })
  .openapi(acknowledge, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const order = await changingFloor(c.var.redis, storeId, () =>
      acknowledgeOrder(c.var.db, storeId, id, actorOf(c.var.principal)),
    );
    return c.json(order, 200);
  })
  .openapi(cancel, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const order = await changingFloor(c.var.redis, storeId, () =>
      cancelOrder(c.var.db, storeId, id, actorOf(c.var.principal), reason || null),
    );
    return c.json(order, 200);
  })
  .openapi(removeOrder, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    await changingFloor(c.var.redis, storeId, () =>
      cancelOrder(c.var.db, storeId, id, actorOf(c.var.principal), null),
    );
    return c.body(null, 204);
  })
  .openapi(completeTableSession, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const { tableId, completed } = await changingFloor(c.var.redis, storeId, () =>
      completeSession(c.var.db, storeId, id, actorOf(c.var.principal)),
    );
    // After the commit (see historyChanged), with the table row's id, not the path's.
    await historyChanged(c.var.redis, tableId);
    return c.json(completed, 200);
  })
  .openapi(history, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const page = { from: query.from, to: query.to, page: query.page, pageSize: query.page_size };
    const result = await cachedVersioned(
      c.var.redis,
      cacheKeys.historyVersion(id),
      (version) => cacheKeys.historyPage(storeId, id, version, page),
      CACHE_TTL_SECONDS,
      () => orderHistory(c.var.db, storeId, id, page),
    );
    return c.json(
      {
        data: result.orders,
        pagination: pagination(query.page, query.page_size, result.totalCount),
      },
      200,
    );
  });
