import { and, eq, isNull, sql } from 'drizzle-orm';
import { diningTables, tableSessions } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database } from '../domain/database.ts';
import { recordAudit, type Actor } from './audit.ts';
import { closeOpenCalls } from './calls.ts';
import { recordEvent } from './events.ts';

/**
 * What "이용 완료" answers: the session that ended, and what it came to — its orders that are
 * not cancelled, counted and summed.
 */
export type CompletedSession = {
  table_session_id: string;
  completed_at: string;
  order_count: number;
  total_amount: number;
};

/** What "이용 완료" did: the session that ended (the answer), at the table read from the database. */
export type SessionCompletion = { tableId: string; completed: CompletedSession };

/**
 * "이용 완료": ends the table's active session and moves all its orders (any state; a cancelled
 * one with its cancel record), with their requests and their lines (options and notes included),
 * to the order history — in one transaction, so the table is either cleared and archived or
 * untouched. The answer, the audit trail and the event name what the party paid for (cancelled
 * orders left out) and the admin. Unknown table or another store's → 404; no active session →
 * 409 NO_ACTIVE_SESSION.
 *
 * Lock protocol (shared with order creation): the active session is locked `for update`, which
 * waits for orders being placed (they hold it `for no key update`) and makes a second completion
 * wait and then find no active session. The orders are moved in one set-based statement whatever
 * their number; its `delete` locks each order, so a status change in flight is archived as
 * committed.
 */
export async function completeSession(
  db: Database,
  storeId: string,
  tableId: string,
  actor: Actor,
): Promise<SessionCompletion> {
  return db.transaction(async (tx) => {
    const [table] = await tx
      .select({ id: diningTables.id, tableNumber: diningTables.tableNumber })
      .from(diningTables)
      .where(and(eq(diningTables.id, tableId), eq(diningTables.storeId, storeId)));
    if (!table) throw new ApiError(404, 'NOT_FOUND', '테이블을 찾을 수 없습니다.');

    const [session] = await tx
      .select({ id: tableSessions.id })
      .from(tableSessions)
      .where(
        and(
          eq(tableSessions.tableId, tableId),
          eq(tableSessions.storeId, storeId),
          isNull(tableSessions.endedAt),
        ),
      )
      .for('update');
    if (!session) {
      throw new ApiError(409, 'NO_ACTIVE_SESSION', '이용 중인 테이블이 아닙니다.');
    }

    // clock_timestamp(), not now(): the transaction may have started before orders we waited for
    // were placed, and history requires completed_at >= ordered_at.
    const [ended] = await tx
      .update(tableSessions)
      .set({ endedAt: sql`clock_timestamp()` })
      .where(eq(tableSessions.id, session.id))
      .returning({ endedAt: tableSessions.endedAt });
    const completedAt = ended!.endedAt!;
    await closeOpenCalls(tx, storeId, table.id);

    // One statement: the sub-statements share a snapshot, so the lines are still readable while
    // their orders are deleted (the cascade runs at the end of the statement).
    // The total is a bigint (a sum of integers can pass 2^31), which the driver reads as text.
    const moved = await tx.execute<{ order_count: number; total_amount: string }>(sql`
      with moved as (
        delete from orders
        where table_session_id = ${session.id} and store_id = ${storeId}
        returning id, store_id, table_id, table_session_id, order_number, status, total_amount,
                  request, cancelled_at, cancelled_by, cancel_reason, created_at
      ), archived as (
        insert into order_history (store_id, table_id, table_number, table_session_id,
          original_order_id, order_number, status, total_amount, request, cancelled_at,
          cancelled_by, cancel_reason, ordered_at, completed_at)
        select store_id, table_id, ${table.tableNumber}, table_session_id, id, order_number,
               status, total_amount, request, cancelled_at, cancelled_by, cancel_reason,
               created_at, (select ended_at from table_sessions where id = ${session.id})
        from moved
        returning id, original_order_id
      ), archived_lines as (
        insert into order_history_items (order_history_id, menu_id, position, menu_name,
          unit_price, quantity, subtotal, options, note)
        select archived.id, line.menu_id, line.position, line.menu_name, line.unit_price,
               line.quantity, line.subtotal, line.options, line.note
        from order_items line
        join archived on archived.original_order_id = line.order_id
      )
      select count(*)::int as order_count, coalesce(sum(total_amount), 0)::bigint as total_amount
      from moved
      where status <> 'cancelled'
    `);
    const { order_count: orderCount, total_amount: totalAmount } = moved.rows[0]!;

    const completed: CompletedSession = {
      table_session_id: session.id,
      completed_at: completedAt.toISOString(),
      order_count: orderCount,
      total_amount: Number(totalAmount),
    };
    await recordAudit(tx, {
      storeId,
      actor,
      action: 'session.completed',
      targetType: 'session',
      targetId: session.id,
      details: {
        table_id: table.id,
        order_count: orderCount,
        total_amount: completed.total_amount,
      },
    });
    await recordEvent(tx, {
      type: 'table.session_completed',
      storeId,
      tableId: table.id,
      tableSessionId: session.id,
      data: completed,
      actor,
    });
    return { tableId: table.id, completed };
  });
}
