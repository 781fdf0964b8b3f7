/**
 * Fixtures for moving and merging parties (합석, 자리 이동): the two admin requests, what a store's
 * floor holds in the database afterwards, and a way to line requests up behind a party's session
 * so that they race a move for certain.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import * as schema from '../../../db/schema.ts';
import { api, withDb, type ApiResponse } from './fixtures.ts';
import { blockedBy } from './ordering.ts';

/** POST /api/admin/tables/{id}/move as the admin: the party at `fromTableId` goes to `toTableId`. */
export function moveParty(token: string, fromTableId: string, toTableId: string) {
  return api('POST', `/api/admin/tables/${fromTableId}/move`, {
    token,
    body: { to_table_id: toTableId },
  });
}

/** POST /api/admin/tables/{id}/merge as the admin: the party at `fromTableId` joins `intoTableId`'s. */
export function mergeParty(token: string, fromTableId: string, intoTableId: string) {
  return api('POST', `/api/admin/tables/${fromTableId}/merge`, {
    token,
    body: { into_table_id: intoTableId },
  });
}

/** The store's sessions, orders (oldest first), open calls and audit rows, as they are now. */
export async function floorRowsOf(storeId: string) {
  return withDb(async (db) => {
    const sessions = await db
      .select()
      .from(schema.tableSessions)
      .where(eq(schema.tableSessions.storeId, storeId))
      .orderBy(asc(schema.tableSessions.startedAt));
    const orders = await db
      .select()
      .from(schema.orders)
      .where(eq(schema.orders.storeId, storeId))
      .orderBy(asc(schema.orders.orderNumber));
    const calls = await db
      .select()
      .from(schema.staffCalls)
      .where(eq(schema.staffCalls.storeId, storeId))
      .orderBy(asc(schema.staffCalls.createdAt));
    const audit = await db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.storeId, storeId))
      .orderBy(asc(schema.auditLog.id));
    const outbox = await db
      .select()
      .from(schema.outbox)
      .where(eq(schema.outbox.storeId, storeId))
      .orderBy(asc(schema.outbox.id));
    return { sessions, orders, calls, audit, outbox };
  });
}

/** The table's active session id, or null when it is free. */
export async function activeSessionOf(tableId: string): Promise<string | null> {
  return withDb(async (db) => {
    const [row] = await db
      .select({ id: schema.tableSessions.id })
      .from(schema.tableSessions)
      .where(
        and(
          eq(schema.tableSessions.tableId, tableId),
          sql`${schema.tableSessions.endedAt} is null`,
        ),
      );
    return row?.id ?? null;
  });
}

/**
 * Holds the session locked `for update` (as 이용 완료 does) while `batches` of requests start one
 * batch after another, each once every request started so far waits behind that lock (directly,
 * or behind one that does); then lets them all go without changing anything. The requests of a
 * batch start together; a batch of one fixes its place in the queue. Answers the responses,
 * batch by batch.
 */
export function queuedBehindSession<const Batches extends ReadonlyArray<Batch>>(
  sessionId: string,
  batches: Batches,
) {
  return queuedBehindRow(schema.tableSessions, sessionId, batches);
}

/** {@link queuedBehindSession}, behind one order's row (as a kitchen step or a merge takes it). */
export function queuedBehindOrder<const Batches extends ReadonlyArray<Batch>>(
  orderId: string,
  batches: Batches,
) {
  return queuedBehindRow(schema.orders, orderId, batches);
}

/** {@link queuedBehindSession}, behind one staff call's row (as an acknowledgement or a move takes it). */
export function queuedBehindCall<const Batches extends ReadonlyArray<Batch>>(
  callId: string,
  batches: Batches,
) {
  return queuedBehindRow(schema.staffCalls, callId, batches);
}

async function queuedBehindRow<const Batches extends ReadonlyArray<Batch>>(
  table: typeof schema.tableSessions | typeof schema.orders | typeof schema.staffCalls,
  id: string,
  batches: Batches,
): Promise<{ [K in keyof Batches]: ApiResponse[] }> {
  // Boxed: a promise returned from the transaction callback would be awaited before the commit
  // that it is waiting for.
  const { pending } = await withDb((db) =>
    db.transaction(async (tx) => {
      const { rows } = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
      await tx.select({ id: table.id }).from(table).where(eq(table.id, id)).for('update');
      const pending: Array<Promise<ApiResponse[]>> = [];
      let waiting = 0;
      for (const batch of batches) {
        pending.push(Promise.all(batch.map((request) => request())));
        waiting += batch.length;
        await blockedBy(db, rows[0]!.pid, waiting);
      }
      return { pending: Promise.all(pending) };
    }),
  );
  return (await pending) as { [K in keyof Batches]: ApiResponse[] };
}

type Batch = ReadonlyArray<() => Promise<ApiResponse>>;

/** `count` copies of `request`. */
export function times(count: number, request: () => Promise<ApiResponse>) {
  return Array.from({ length: count }, () => request);
}
