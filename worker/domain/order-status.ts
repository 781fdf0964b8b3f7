import { and, eq, inArray, isNull } from 'drizzle-orm';
import { diningTables, orders, tableSessions, type OrderStatus } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database, Transaction } from '../domain/database.ts';
import { recordEvent } from './events.ts';
import { loadOrders, type OrderView } from './order-view.ts';

/** The one state each kitchen state may move to; a delivered order goes nowhere. */
const NEXT_STATUS: Record<OrderStatus, OrderStatus | null> = {
  pending: 'preparing',
  preparing: 'cooked',
  cooked: 'delivered',
  delivered: null,
};

function orderNotFound(): ApiError {
  return new ApiError(404, 'NOT_FOUND', '주문을 찾을 수 없습니다.');
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
 * Moves an order of the caller's store to its next kitchen state, and only that one: the same
 * state, a skip, a step back or any move after `delivered` is `409 INVALID_STATUS_TRANSITION`.
 * The order row is locked (`for update`) before its state is read, so two admins pressing the
 * same button cannot both move it, and a concurrent session completion either waits for the new
 * state (and archives it) or has already archived the order (404).
 */
export async function changeOrderStatus(
  db: Database,
  storeId: string,
  orderId: string,
  to: OrderStatus,
): Promise<OrderView> {
  return db.transaction(async (tx) => {
    const [order] = await tx
      .select({ status: orders.status, tableId: orders.tableId, sessionId: orders.tableSessionId })
      .from(orders)
      .innerJoin(
        tableSessions,
        and(eq(tableSessions.id, orders.tableSessionId), isNull(tableSessions.endedAt)),
      )
      .where(and(eq(orders.id, orderId), eq(orders.storeId, storeId)))
      .for('update', { of: orders });
    if (!order) throw orderNotFound();
    const from = order.status;
    if (NEXT_STATUS[from] !== to) {
      throw new ApiError(
        409,
        'INVALID_STATUS_TRANSITION',
        '주문 상태는 대기중 → 준비중 → 요리완료 → 전달완료 순서로 한 단계씩만 바꿀 수 있습니다.',
        { details: { from, to } },
      );
    }
    await tx.update(orders).set({ status: to }).where(eq(orders.id, orderId));
    await recordEvent(tx, {
      type: 'order.status_changed',
      storeId,
      tableId: order.tableId,
      tableSessionId: order.sessionId,
      data: { order_id: orderId, from, to },
    });
    const [view] = await loadOrders(tx, eq(orders.id, orderId));
    return view!;
  });
}

/**
 * Deletes an order of an active session of the caller's store, whatever its state (직권 수정):
 * its lines go with it and the session's totals, computed from the remaining orders, follow.
 */
export async function deleteOrder(db: Database, storeId: string, orderId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [deleted] = await tx
      .delete(orders)
      .where(
        and(
          eq(orders.id, orderId),
          eq(orders.storeId, storeId),
          inArray(orders.tableSessionId, activeSessionsOf(tx, storeId)),
        ),
      )
      .returning({
        orderNumber: orders.orderNumber,
        tableId: orders.tableId,
        sessionId: orders.tableSessionId,
      });
    if (!deleted) throw orderNotFound();
    await recordEvent(tx, {
      type: 'order.deleted',
      storeId,
      tableId: deleted.tableId,
      tableSessionId: deleted.sessionId,
      data: {
        order_id: orderId,
        order_number: deleted.orderNumber,
        table_session_id: deleted.sessionId,
      },
    });
  });
}
