import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import {
  diningTables,
  orders,
  tableSessions,
  type KitchenStatus,
  type OrderStatus,
} from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database, Transaction } from '../domain/database.ts';
import { recordAudit, type Actor } from './audit.ts';
import { recordEvent } from './events.ts';
import { loadOrders, type OrderView } from './order-view.ts';

/**
 * The one state each state may move to: the kitchen's next step; a delivered order goes nowhere,
 * and neither does a cancelled one (a void is final).
 */
const NEXT_STATUS: Record<OrderStatus, KitchenStatus | null> = {
  pending: 'preparing',
  preparing: 'cooked',
  cooked: 'delivered',
  delivered: null,
  cancelled: null,
};

function orderNotFound(): ApiError {
  return new ApiError(404, 'NOT_FOUND', '주문을 찾을 수 없습니다.');
}

function orderAlreadyCancelled(): ApiError {
  return new ApiError(409, 'ORDER_ALREADY_CANCELLED', '이미 취소된 주문입니다.');
}

/** The ids of the store's active sessions, as a subquery (orders of ended sessions are history). */
function activeSessionsOf(db: Database | Transaction, storeId: string) {
  return db
    .select({ id: tableSessions.id })
    .from(tableSessions)
    .where(and(eq(tableSessions.storeId, storeId), isNull(tableSessions.endedAt)));
}

/**
 * The orders of the store's active sessions, newest first, optionally of one table and/or in
 * one state. A table of another store (or none) is a 404, not an empty list.
 */
export async function adminOrders(
  db: Database,
  storeId: string,
  filter: { tableId?: string; status?: OrderStatus },
): Promise<OrderView[]> {
  if (filter.tableId) {
    const [table] = await db
      .select({ id: diningTables.id })
      .from(diningTables)
      .where(and(eq(diningTables.id, filter.tableId), eq(diningTables.storeId, storeId)));
    if (!table) throw new ApiError(404, 'NOT_FOUND', '테이블을 찾을 수 없습니다.');
  }
  return loadOrders(
    db,
    and(
      eq(orders.storeId, storeId),
      inArray(orders.tableSessionId, activeSessionsOf(db, storeId)),
      filter.tableId ? eq(orders.tableId, filter.tableId) : undefined,
      filter.status ? eq(orders.status, filter.status) : undefined,
    ),
  );
}

/**
 * Locks an order of an active session of the caller's store (`for update`) and reads what its
 * change needs. Unknown, another store's or archived → 404. The lock makes two admins pressing
 * buttons on the same order take turns, and a concurrent session completion either waits for the
 * change (and archives it) or has already archived the order (404).
 *
 * The session is checked by a subquery, not a join: when the lock waited for a move or a merge,
 * PostgreSQL re-checks the condition against the order as that write left it (in its new
 * session), where a joined session row would still be the old one and lose the order.
 */
async function lockActiveOrder(tx: Transaction, storeId: string, orderId: string) {
  // A scalar subquery, which the planner keeps as a subplan run per row (an `exists` would be
  // turned into a join, with the same problem).
  const inActiveSession = sql<boolean>`(select ${tableSessions.endedAt} is null from ${tableSessions}
    where ${tableSessions.id} = ${orders.tableSessionId})`;
  const [order] = await tx
    .select({
      orderNumber: orders.orderNumber,
      status: orders.status,
      tableId: orders.tableId,
      sessionId: orders.tableSessionId,
      acknowledgedAt: orders.acknowledgedAt,
    })
    .from(orders)
    .where(and(eq(orders.id, orderId), eq(orders.storeId, storeId), inActiveSession))
    .for('update');
  if (!order) throw orderNotFound();
  return order;
}

/** The columns that acknowledge an order, now, as `actor`'s doing. */
function acknowledgedBy(actor: Actor) {
  // clock_timestamp(): after the order was taken, even if this transaction began before.
  return { acknowledgedAt: sql`clock_timestamp()`, acknowledgedBy: actor.id };
}

/** The acknowledgement of an order as events tell it. */
function acknowledgementOf(view: OrderView) {
  return { acknowledged_at: view.acknowledged_at, acknowledged_by: view.acknowledged_by };
}

/**
 * An admin has seen to a new order (주문 확인): it records when and by whom, keeps it in the
 * audit trail and tells the floor (`order.acknowledged`, which stops the hub's alerts about it),
 * in one transaction. Acknowledging it again answers it as it is, with nothing recorded (two
 * admins pressing at once take turns on the row's lock: one records). A cancelled order → 409
 * ORDER_ALREADY_CANCELLED; unknown, another store's or archived → 404.
 */
export async function acknowledgeOrder(
  db: Database,
  storeId: string,
  orderId: string,
  actor: Actor,
): Promise<OrderView> {
  return db.transaction(async (tx) => {
    const order = await lockActiveOrder(tx, storeId, orderId);
    if (order.status === 'cancelled') throw orderAlreadyCancelled();
    if (order.acknowledgedAt !== null) {
      const [view] = await loadOrders(tx, eq(orders.id, orderId));
      return view!;
    }
    await tx.update(orders).set(acknowledgedBy(actor)).where(eq(orders.id, orderId));
    const [view] = await loadOrders(tx, eq(orders.id, orderId));
    await recordAudit(tx, {
      storeId,
      actor,
      action: 'order.acknowledged',
      targetType: 'order',
      targetId: orderId,
      details: { order_number: order.orderNumber },
    });
    await recordEvent(tx, {
      type: 'order.acknowledged',
      storeId,
      tableId: order.tableId,
      tableSessionId: order.sessionId,
      data: { order_id: orderId, ...acknowledgementOf(view!) },
      actor,
    });
    return view!;
  });
}

/**
 * Moves an order of the caller's store to its next kitchen state, and only that one: the same
 * state, a skip, a step back, any move after `delivered` or of a cancelled order is
 * `409 INVALID_STATUS_TRANSITION`. The order row is locked before its state is read
 * (`lockActiveOrder`). The audit trail and the event name the admin. Starting an order nobody
 * acknowledged also acknowledges it, in the same change: the event's data then carries the
 * acknowledgement (`acknowledged_at`, `acknowledged_by`) and the audit row says
 * `acknowledged: true`.
 */
export async function changeOrderStatus(
  db: Database,
  storeId: string,
  orderId: string,
  to: KitchenStatus,
  actor: Actor,
): Promise<OrderView> {
  return db.transaction(async (tx) => {
    const order = await lockActiveOrder(tx, storeId, orderId);
    const from = order.status;
    if (NEXT_STATUS[from] !== to) {
      throw new ApiError(
        409,
        'INVALID_STATUS_TRANSITION',
        '주문 상태는 대기중 → 준비중 → 요리완료 → 전달완료 순서로 한 단계씩만 바꿀 수 있습니다.',
        { details: { from, to } },
      );
    }
    const acknowledges = from === 'pending' && order.acknowledgedAt === null;
    await tx
      .update(orders)
      .set({ status: to, ...(acknowledges ? acknowledgedBy(actor) : {}) })
      .where(eq(orders.id, orderId));
    const [view] = await loadOrders(tx, eq(orders.id, orderId));
    await recordAudit(tx, {
      storeId,
      actor,
      action: 'order.status_changed',
      targetType: 'order',
      targetId: orderId,
      details: { from, to, ...(acknowledges ? { acknowledged: true } : {}) },
    });
    await recordEvent(tx, {
      type: 'order.status_changed',
      storeId,
      tableId: order.tableId,
      tableSessionId: order.sessionId,
      data: { order_id: orderId, from, to, ...(acknowledges ? acknowledgementOf(view!) : {}) },
      actor,
    });
    return view!;
  });
}

/**
 * Cancels (voids) an order of an active session of the caller's store, from whatever state: the
 * order stays, as `cancelled`, with when, by which admin and why (`reason`, or null), and leaves
 * every total. Already cancelled → 409 ORDER_ALREADY_CANCELLED; unknown, another store's or
 * archived → 404. The row is locked first (`lockActiveOrder`), so of two cancels one wins.
 */
export async function cancelOrder(
  db: Database,
  storeId: string,
  orderId: string,
  actor: Actor,
  reason: string | null,
): Promise<OrderView> {
  return db.transaction(async (tx) => {
    const order = await lockActiveOrder(tx, storeId, orderId);
    if (order.status === 'cancelled') throw orderAlreadyCancelled();
    await tx
      .update(orders)
      .set({
        status: 'cancelled',
        cancelledAt: sql`now()`,
        cancelledBy: actor.id,
        cancelReason: reason,
      })
      .where(eq(orders.id, orderId));
    const [view] = await loadOrders(tx, eq(orders.id, orderId));
    await recordAudit(tx, {
      storeId,
      actor,
      action: 'order.cancelled',
      targetType: 'order',
      targetId: orderId,
      details: { reason, from: order.status },
    });
    await recordEvent(tx, {
      type: 'order.cancelled',
      storeId,
      tableId: order.tableId,
      tableSessionId: order.sessionId,
      data: view!,
      actor,
    });
    return view!;
  });
}
