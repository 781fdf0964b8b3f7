import { z } from '@hono/zod-openapi';
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import {
  CALL_REASONS,
  CALL_STATUSES,
  diningTables,
  staffCalls,
  tableSessions,
  type CallReason,
  type CallStatus,
  type StaffCall,
} from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import { recordAudit, type Actor } from './audit.ts';
import type { Database, Transaction } from './database.ts';
import { recordEvent } from './events.ts';
import { TableLabelText } from './tables.ts';

/** The most calls the admin's list shows at once, newest first. */
export const CALLS_LIST_LIMIT = 200;

/** Tries at answering a call while an admin keeps acknowledging the open one under us. */
const CALL_TRIES = 3;

const CallReasonSchema = z
  .enum(CALL_REASONS)
  .openapi({ description: 'water | cutlery | bill (계산) | help | other' });

/** A staff call (직원 호출) as every answer and event shows it. */
export const CallSchema = z
  .object({
    id: z.uuid(),
    table_id: z.uuid(),
    table_number: TableLabelText,
    reason: CallReasonSchema,
    note: z.string().nullable().openapi({ description: "the guest's note, or null" }),
    status: z.enum(CALL_STATUSES),
    created_at: z.string().openapi({ format: 'date-time' }),
    acknowledged_at: z.string().nullable().openapi({ format: 'date-time' }),
    acknowledged_by: z
      .uuid()
      .nullable()
      .openapi({ description: 'the admin who acknowledged it, or null' }),
  })
  .openapi('StaffCall');
export type CallView = z.infer<typeof CallSchema>;

/** A call still waiting for the staff, as the dashboard shows it on its table's card. */
export const OpenCallSchema = CallSchema.pick({
  id: true,
  reason: true,
  note: true,
  created_at: true,
}).openapi('OpenCall');
export type OpenCallView = z.infer<typeof OpenCallSchema>;

function toCallView(call: StaffCall, tableNumber: string): CallView {
  return {
    id: call.id,
    table_id: call.tableId,
    table_number: tableNumber,
    reason: call.reason,
    note: call.note,
    status: call.status,
    created_at: call.createdAt.toISOString(),
    acknowledged_at: call.acknowledgedAt?.toISOString() ?? null,
    acknowledged_by: call.acknowledgedBy,
  };
}

function tableOfStore(storeId: string, tableId: string) {
  return and(eq(diningTables.storeId, storeId), eq(diningTables.id, tableId));
}

/** What `callStaff` did: the table's open call, and whether this request made it. */
export type CallAnswer = { call: CallView; created: boolean };

/**
 * A guest calls the staff from the table: one open call per table and reason. The first press
 * makes the call and records `table.call_requested`; a press while that call is open answers it
 * and tells no one again. The partial unique index `staff_calls_one_open_per_reason` decides:
 * presses at once all try the insert, one wins and the others wait for it, then read its call.
 *
 * The party's session is read `for key share`: "이용 완료" takes it `for update` and closes the
 * table's open calls, so it waits for a call in flight and closes it too — a call never outlives
 * the party that made it. The call belongs to the party seated (or to none: a table where nobody
 * has ordered yet can call all the same).
 */
export async function callStaff(
  db: Database,
  input: { storeId: string; tableId: string; reason: CallReason; note: string | null },
): Promise<CallAnswer> {
  return db.transaction(async (tx) => {
    const [table] = await tx
      .select({ tableNumber: diningTables.tableNumber })
      .from(diningTables)
      .where(tableOfStore(input.storeId, input.tableId));
    if (!table) throw new ApiError(404, 'NOT_FOUND', '테이블을 찾을 수 없습니다.');
    const [session] = await tx
      .select({ id: tableSessions.id })
      .from(tableSessions)
      .where(and(eq(tableSessions.tableId, input.tableId), isNull(tableSessions.endedAt)))
      .for('key share');

    for (let attempt = 0; attempt < CALL_TRIES; attempt += 1) {
      const [made] = await tx
        .insert(staffCalls)
        .values(input)
        .onConflictDoNothing({
          target: [staffCalls.tableId, staffCalls.reason],
          where: sql`status = 'open'`,
        })
        .returning();
      if (made) {
        const call = toCallView(made, table.tableNumber);
        await recordEvent(tx, {
          type: 'table.call_requested',
          storeId: input.storeId,
          tableId: input.tableId,
          tableSessionId: session?.id ?? null,
          data: call,
        });
        return { call, created: true };
      }
      // A new statement sees the call we collided with, committed — unless an admin acknowledged
      // it meanwhile, and then the next round makes a new one.
      const [open] = await tx
        .select()
        .from(staffCalls)
        .where(
          and(
            eq(staffCalls.tableId, input.tableId),
            eq(staffCalls.reason, input.reason),
            eq(staffCalls.status, 'open'),
          ),
        );
      if (open) return { call: toCallView(open, table.tableNumber), created: false };
    }
    throw new Error(
      `table ${input.tableId}: no open ${input.reason} call after ${CALL_TRIES} tries`,
    );
  });
}

/**
 * The store's calls, newest first, at most {@link CALLS_LIST_LIMIT}: those in `status`, or the
 * ones the staff still has to see to (open and acknowledged) when none is given.
 */
export async function listCalls(
  db: Database,
  storeId: string,
  status?: CallStatus,
): Promise<CallView[]> {
  const statuses: CallStatus[] = status ? [status] : ['open', 'acknowledged'];
  const rows = await db
    .select({ call: staffCalls, tableNumber: diningTables.tableNumber })
    .from(staffCalls)
    .innerJoin(diningTables, eq(diningTables.id, staffCalls.tableId))
    .where(and(eq(staffCalls.storeId, storeId), inArray(staffCalls.status, statuses)))
    .orderBy(desc(staffCalls.createdAt), desc(staffCalls.id))
    .limit(CALLS_LIST_LIMIT);
  return rows.map((row) => toCallView(row.call, row.tableNumber));
}

/**
 * An admin has seen to a call: it becomes acknowledged (when, by whom), `table.call_acknowledged`
 * tells the floor and the table, and the audit trail keeps it — all in one transaction. The call
 * is locked first, so two admins pressing at once, or "이용 완료" closing it, leave one winner;
 * a call no longer open is 409 CALL_NOT_OPEN. Another store's or an unknown call → 404. A call
 * that moved with its party while we waited is acknowledged at its new table.
 */
export async function acknowledgeCall(
  db: Database,
  storeId: string,
  callId: string,
  actor: Actor,
): Promise<CallView> {
  return db.transaction(async (tx) => {
    // The table and its party are read by subqueries, not joins: when the lock waited for a move
    // or a merge that took the call to another table, PostgreSQL re-checks the call as that write
    // left it, and a joined table row would still be the old one and lose the call.
    // (In a select list drizzle names columns unqualified, so the call's table is spelled out.)
    const callTable = sql`${staffCalls}.${sql.identifier(staffCalls.tableId.name)}`;
    const [found] = await tx
      .select({
        status: staffCalls.status,
        tableNumber: sql<string>`(select t.table_number from ${diningTables} t
          where t.id = ${callTable})`,
        sessionId: sql<string | null>`(select s.id from ${tableSessions} s
          where s.table_id = ${callTable} and s.ended_at is null)`,
      })
      .from(staffCalls)
      .where(and(eq(staffCalls.id, callId), eq(staffCalls.storeId, storeId)))
      .for('update');
    if (!found) throw new ApiError(404, 'NOT_FOUND', '호출을 찾을 수 없습니다.');
    if (found.status !== 'open') {
      throw new ApiError(409, 'CALL_NOT_OPEN', '이미 확인했거나 종료된 호출입니다.', {
        details: { status: found.status },
      });
    }
    // clock_timestamp(): after the call was made, even if this transaction began before.
    const [acknowledged] = await tx
      .update(staffCalls)
      .set({
        status: 'acknowledged',
        acknowledgedAt: sql`clock_timestamp()`,
        acknowledgedBy: actor.id,
      })
      .where(eq(staffCalls.id, callId))
      .returning();
    const call = toCallView(acknowledged!, found.tableNumber);
    await recordEvent(tx, {
      type: 'table.call_acknowledged',
      storeId,
      tableId: call.table_id,
      tableSessionId: found.sessionId,
      data: call,
      actor,
    });
    await recordAudit(tx, {
      storeId,
      actor,
      action: 'call.acknowledged',
      targetType: 'call',
      targetId: callId,
      details: { table_id: call.table_id, table_number: call.table_number, reason: call.reason },
    });
    return call;
  });
}

/**
 * "이용 완료" closes the table's calls still open: the party has left, nobody is waiting any more.
 * Runs inside `completeSession`'s transaction, after it locked the session (see `callStaff`).
 * Acknowledged calls keep their record.
 */
export async function closeOpenCalls(
  tx: Transaction,
  storeId: string,
  tableId: string,
): Promise<void> {
  await tx
    .update(staffCalls)
    .set({ status: 'closed', closedAt: sql`clock_timestamp()` })
    .where(
      and(
        eq(staffCalls.storeId, storeId),
        eq(staffCalls.tableId, tableId),
        eq(staffCalls.status, 'open'),
      ),
    );
}

/**
 * The store's open calls by table, oldest first in each, for the dashboard's cards: one query
 * whatever the number of tables.
 */
export async function openCallsByTable(
  db: Database,
  storeId: string,
): Promise<Map<string, OpenCallView[]>> {
  const rows = await db
    .select()
    .from(staffCalls)
    .where(and(eq(staffCalls.storeId, storeId), eq(staffCalls.status, 'open')))
    .orderBy(asc(staffCalls.createdAt), asc(staffCalls.id));
  const byTable = new Map<string, OpenCallView[]>();
  for (const row of rows) {
    const calls = byTable.get(row.tableId) ?? [];
    calls.push({
      id: row.id,
      reason: row.reason,
      note: row.note,
      created_at: row.createdAt.toISOString(),
    });
    byTable.set(row.tableId, calls);
  }
  return byTable;
}
