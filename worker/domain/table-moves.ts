import { z } from '@hono/zod-openapi';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { CONSTRAINTS, diningTables, orders, staffCalls, tableSessions } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import { recordAudit, type Actor } from './audit.ts';
import type { Database, Transaction } from './database.ts';
import { violates } from './db-errors.ts';
import { recordEvent } from './events.ts';
import { countsTowardTotals, SessionTotal } from './order-view.ts';

/** Tries at bringing the open calls along while guests at the target keep calling under us. */
const CALL_TRIES = 3;

/** What the party has ordered so far, as a move or a merge answers it (cancelled orders left out). */
const PartyTotals = {
  order_count: z.number().int().openapi({ description: 'orders not cancelled' }),
  total_amount: SessionTotal,
};

/** What a move answers: the party (session) that moved, from where, to where, and its bill. */
export const MovedSessionSchema = z
  .object({
    table_session_id: z.uuid(),
    from_table_id: z.uuid(),
    to_table_id: z.uuid(),
    ...PartyTotals,
  })
  .openapi('MovedSession');
export type MovedSession = z.infer<typeof MovedSessionSchema>;

/**
 * What a merge answers: the target's session (which now holds both parties' orders), the session
 * that joined it and ended, the two tables, and the joint bill.
 */
export const MergedSessionSchema = z
  .object({
    table_session_id: z.uuid(),
    merged_session_id: z.uuid(),
    from_table_id: z.uuid(),
    into_table_id: z.uuid(),
    ...PartyTotals,
  })
  .openapi('MergedSession');
export type MergedSession = z.infer<typeof MergedSessionSchema>;

/**
 * 자리 이동: the party seated at `fromTableId` moves to `toTableId`, which nobody occupies. Its
 * session changes table, and its orders follow in the same statement (`orders_session_fk` is
 * ON UPDATE CASCADE); its open staff calls go along (see {@link bringOpenCalls}). The source table
 * is left free. Same table → 400; either table unknown or another store's → 404; nobody seated at
 * the source → 409 NO_ACTIVE_SESSION; a party at the target → 409 TABLE_OCCUPIED. The audit
 * trail (`session.moved`) and the event `table.session_moved` name the admin.
 *
 * Lock protocol (see {@link lockBothTables}): both tables, then the party's session `for update`.
 * An order of the source table either holds the session (`for no key update`, see
 * `joinOrOpenSession`) — we wait, and it moves with the party — or waits for us and then finds
 * the session gone from its table: it opens a new party there. Either way it is in exactly one
 * session. An order opening a party at the target at the same moment collides with ours on
 * `table_sessions_one_active_per_table`: 409 TABLE_OCCUPIED, or it joins the moved party.
 */
export async function moveSession(
  db: Database,
  storeId: string,
  tables: { fromTableId: string; toTableId: string },
  actor: Actor,
): Promise<MovedSession> {
  const { fromTableId, toTableId } = tables;
  assertTwoTables(fromTableId, toTableId, 'to_table_id');
  try {
    return await db.transaction(async (tx) => {
      await lockBothTables(tx, storeId, fromTableId, toTableId);
      const sessionId = await lockActiveSession(tx, storeId, fromTableId);
      const seated = await activeSessionAt(tx, storeId, toTableId);
      if (seated) throw tableOccupied(toTableId, seated);

      await tx
        .update(tableSessions)
        .set({ tableId: toTableId })
        .where(eq(tableSessions.id, sessionId));
      await bringOpenCalls(tx, storeId, fromTableId, toTableId);
      const moved = {
        table_session_id: sessionId,
        from_table_id: fromTableId,
        to_table_id: toTableId,
      };
      await recordAudit(tx, {
        storeId,
        actor,
        action: 'session.moved',
        targetType: 'session',
        targetId: sessionId,
        details: { from_table_id: fromTableId, to_table_id: toTableId },
      });
      await recordEvent(tx, {
        type: 'table.session_moved',
        storeId,
        tableId: toTableId,
        tableSessionId: sessionId,
        data: moved,
        actor,
      });
      return { ...moved, ...(await totalsOf(tx, sessionId)) };
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.oneActiveSessionPerTable)) throw tableOccupied(toTableId);
    throw error;
  }
}

/**
 * 합석: the party seated at `fromTableId` joins the party at `intoTableId`. Its orders become the
 * target session's, at the target table, in one statement; its session ends; its open staff
 * calls go along (see {@link bringOpenCalls}); the source table is left free. Same table → 400;
 * either table unknown or another store's → 404; nobody seated at either → 409
 * NO_ACTIVE_SESSION naming that table. The audit trail (`session.merged`) and the event
 * `table.session_merged` name the admin.
 *
 * Lock protocol (see {@link lockBothTables}): both tables, then the source session and the target
 * session `for update`. Orders of either table that hold their session finish first, and those of
 * the source go along; an order of the source table that waited finds its session ended and
 * opens a new party there; one of the target table joins the merged party.
 */
export async function mergeSession(
  db: Database,
  storeId: string,
  tables: { fromTableId: string; intoTableId: string },
  actor: Actor,
): Promise<MergedSession> {
  const { fromTableId, intoTableId } = tables;
  assertTwoTables(fromTableId, intoTableId, 'into_table_id');
  return db.transaction(async (tx) => {
    await lockBothTables(tx, storeId, fromTableId, intoTableId);
    const mergedId = await lockActiveSession(tx, storeId, fromTableId);
    const sessionId = await lockActiveSession(tx, storeId, intoTableId);

    await tx
      .update(orders)
      .set({ tableId: intoTableId, tableSessionId: sessionId })
      .where(and(eq(orders.storeId, storeId), eq(orders.tableSessionId, mergedId)));
    // clock_timestamp(), not now(): the session may have been opened after this transaction began.
    await tx
      .update(tableSessions)
      .set({ endedAt: sql`clock_timestamp()` })
      .where(eq(tableSessions.id, mergedId));
    await bringOpenCalls(tx, storeId, fromTableId, intoTableId);
    const merged = {
      table_session_id: sessionId,
      merged_session_id: mergedId,
      from_table_id: fromTableId,
      into_table_id: intoTableId,
    };
    await recordAudit(tx, {
      storeId,
      actor,
      action: 'session.merged',
      targetType: 'session',
      targetId: sessionId,
      details: {
        from_table_id: fromTableId,
        into_table_id: intoTableId,
        merged_session_id: mergedId,
      },
    });
    await recordEvent(tx, {
      type: 'table.session_merged',
      storeId,
      tableId: intoTableId,
      tableSessionId: sessionId,
      data: merged,
      actor,
    });
    return { ...merged, ...(await totalsOf(tx, sessionId)) };
  });
}

/** A party moves or merges to another table, never to its own: 400. */
function assertTwoTables(fromTableId: string, toTableId: string, field: string): void {
  if (fromTableId !== toTableId) return;
  throw new ApiError(400, 'VALIDATION_ERROR', '같은 테이블로는 옮기거나 합칠 수 없습니다.', {
    details: { table_id: fromTableId, [field]: toTableId },
  });
}

/**
 * Locks both tables of the store, in id order, `for no key update`: the first step of every move
 * and merge, so two of them that share a table take turns (A→B and B→A at once: one waits, then
 * finds the state the other left — no deadlock), and a table being removed (`removeTable` locks it
 * `for update`) is not moved to or from. Not `for update`: that would also block the key-share
 * locks that foreign keys take on a table — 이용 완료 archiving into `order_history` while it holds
 * its session, a staff call holding its session — which then wait for us while we wait for their
 * session: a deadlock. Either table unknown or another store's → 404.
 */
async function lockBothTables(
  tx: Transaction,
  storeId: string,
  fromTableId: string,
  toTableId: string,
): Promise<void> {
  const ids = [fromTableId, toTableId];
  const locked = await tx
    .select({ id: diningTables.id })
    .from(diningTables)
    .where(and(eq(diningTables.storeId, storeId), inArray(diningTables.id, ids)))
    .orderBy(asc(diningTables.id))
    .for('no key update');
  const missing = ids.find((id) => !locked.some((table) => table.id === id));
  if (missing) {
    throw new ApiError(404, 'NOT_FOUND', '테이블을 찾을 수 없습니다.', {
      details: { table_id: missing },
    });
  }
}

/**
 * The table's active session, locked `for update` until commit: it waits for the orders being
 * placed in it (and for 이용 완료, a call in flight); nobody seated → 409 NO_ACTIVE_SESSION.
 */
async function lockActiveSession(
  tx: Transaction,
  storeId: string,
  tableId: string,
): Promise<string> {
  const [session] = await tx
    .select({ id: tableSessions.id })
    .from(tableSessions)
    .where(activeAt(storeId, tableId))
    .for('update');
  if (!session) {
    throw new ApiError(409, 'NO_ACTIVE_SESSION', '이용 중인 테이블이 아닙니다.', {
      details: { table_id: tableId },
    });
  }
  return session.id;
}

/** The id of the party seated at the table, read without a lock; null when it is free. */
async function activeSessionAt(
  tx: Transaction,
  storeId: string,
  tableId: string,
): Promise<string | null> {
  const [session] = await tx
    .select({ id: tableSessions.id })
    .from(tableSessions)
    .where(activeAt(storeId, tableId));
  return session?.id ?? null;
}

function activeAt(storeId: string, tableId: string) {
  return and(
    eq(tableSessions.storeId, storeId),
    eq(tableSessions.tableId, tableId),
    isNull(tableSessions.endedAt),
  );
}

function tableOccupied(tableId: string, sessionId?: string): ApiError {
  return new ApiError(409, 'TABLE_OCCUPIED', '다른 손님이 이용 중인 테이블입니다.', {
    details: { table_id: tableId, ...(sessionId && { table_session_id: sessionId }) },
  });
}

/**
 * The party's staff calls still open go with it to the other table. Where that table already
 * has an open call for the same reason (one open call per table and reason), that call answers
 * for both and the party's own is closed. A guest at the other table calling for that reason at
 * this very moment — at a free table nothing makes the call wait for us — collides with a moved
 * call; the step is then undone (a savepoint) and run again, and sees the new call.
 */
async function bringOpenCalls(
  tx: Transaction,
  storeId: string,
  fromTableId: string,
  toTableId: string,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await tx.transaction((step) => moveOpenCalls(step, storeId, fromTableId, toTableId));
      return;
    } catch (error) {
      if (attempt >= CALL_TRIES || !violates(error, CONSTRAINTS.oneOpenCallPerReason)) throw error;
    }
  }
}

async function moveOpenCalls(
  tx: Transaction,
  storeId: string,
  fromTableId: string,
  toTableId: string,
): Promise<void> {
  const openAt = (tableId: string) =>
    and(
      eq(staffCalls.storeId, storeId),
      eq(staffCalls.tableId, tableId),
      eq(staffCalls.status, 'open'),
    );
  const answeredThere = tx
    .select({ reason: staffCalls.reason })
    .from(staffCalls)
    .where(openAt(toTableId));
  await tx
    .update(staffCalls)
    .set({ status: 'closed', closedAt: sql`clock_timestamp()` })
    .where(and(openAt(fromTableId), inArray(staffCalls.reason, answeredThere)));
  await tx.update(staffCalls).set({ tableId: toTableId }).where(openAt(fromTableId));
}

/** What the session's orders that are not cancelled come to, and how many they are. */
async function totalsOf(tx: Transaction, sessionId: string) {
  const [totals] = await tx
    .select({
      order_count: sql<number>`count(*)::int`,
      // A bigint: a session's orders can sum past 2^31 (the driver reads it as text).
      total_amount: sql<number>`coalesce(sum(${orders.totalAmount}), 0)::bigint`.mapWith(Number),
    })
    .from(orders)
    .where(and(eq(orders.tableSessionId, sessionId), countsTowardTotals()));
  return totals!;
}
