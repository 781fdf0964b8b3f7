import { z } from '@hono/zod-openapi';
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { CONSTRAINTS, diningTables, tableSessions } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database, Transaction } from '../domain/database.ts';
import { recordAudit, type Actor } from './audit.ts';
import { violates } from './db-errors.ts';
import { hashPassword } from '../platform/passwords.ts';

/** A table's label in every answer: always text, as stored. */
export const TableLabelText = z.string().openapi({ example: 'A-1' });

const labelOrder = new Intl.Collator('ko', { numeric: true, sensitivity: 'base' });

/**
 * The order the floor reads its tables in: labels compared naturally and ignoring case
 * (`"2"` before `"10"`, `"a-2"` before `"A-10"`) in Korean order (numbers, then Hangul, then
 * Latin letters), tables whose labels read the same (`"Cafe"`, `"Café"`) by id. Every list of
 * tables sorts with it; PostgreSQL's text order would put `"10"` before `"2"`.
 */
export function byTableLabel(
  a: { id: string; table_number: string },
  b: { id: string; table_number: string },
): number {
  const byLabel = labelOrder.compare(a.table_number, b.table_number);
  if (byLabel !== 0) return byLabel;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A table as the admin sees it; the password (hash) never leaves the database. */
export const TableSchema = z
  .object({
    id: z.uuid(),
    table_number: TableLabelText,
    created_at: z.string().openapi({ format: 'date-time' }),
    active_session_id: z
      .uuid()
      .nullable()
      .openapi({ description: 'the party now seated, or null when the table is free' }),
    device: z
      .object({
        id: z.uuid().openapi({ description: 'the device id the tablet logged in with' }),
        last_seen_at: z.string().openapi({
          format: 'date-time',
          description: 'when the tablet was last heard from (to the minute)',
        }),
      })
      .nullable()
      .openapi('TableDevice', {
        description: 'the tablet that holds the table, or null when none does',
      }),
  })
  .openapi('Table');
export type TableView = z.infer<typeof TableSchema>;

/** The tables matching `where` (which must name the store) with their active session, by label. */
async function loadTables(
  db: Database | Transaction,
  where: SQL | undefined,
): Promise<TableView[]> {
  const rows = await db
    .select({
      id: diningTables.id,
      tableNumber: diningTables.tableNumber,
      createdAt: diningTables.createdAt,
      activeSessionId: tableSessions.id,
      deviceId: diningTables.deviceId,
      deviceSeenAt: diningTables.deviceSeenAt,
    })
    .from(diningTables)
    .leftJoin(
      tableSessions,
      and(eq(tableSessions.tableId, diningTables.id), isNull(tableSessions.endedAt)),
    )
    .where(where);
  return rows
    .map((row) => ({
      id: row.id,
      table_number: row.tableNumber,
      created_at: row.createdAt.toISOString(),
      active_session_id: row.activeSessionId,
      device: row.deviceId
        ? { id: row.deviceId, last_seen_at: row.deviceSeenAt!.toISOString() }
        : null,
    }))
    .sort(byTableLabel);
}

const ofStore = (storeId: string, tableId: string) =>
  and(eq(diningTables.storeId, storeId), eq(diningTables.id, tableId));

function tableNotFound(): ApiError {
  return new ApiError(404, 'NOT_FOUND', '테이블을 찾을 수 없습니다.');
}

function tableNumberTaken(tableNumber: string | undefined): ApiError {
  return new ApiError(409, 'TABLE_NUMBER_TAKEN', '이미 사용 중인 테이블 번호입니다.', {
    details: { table_number: tableNumber },
  });
}

/** Every table of the store, in natural order of their labels. */
export function listTables(db: Database, storeId: string): Promise<TableView[]> {
  return loadTables(db, eq(diningTables.storeId, storeId));
}

/**
 * Sets up a new table, and records it in the audit trail (its label, never its password). The
 * label's uniqueness, ignoring case, is the database's to decide
 * (`dining_tables_store_table_number_unique` on `lower(table_number)`), so two admins adding
 * "b-7" and "B-7" at once get one table and one 409.
 */
export async function addTable(
  db: Database,
  storeId: string,
  actor: Actor,
  input: { tableNumber: string; password: string },
): Promise<TableView> {
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.transaction(async (tx) => {
      const [table] = await tx
        .insert(diningTables)
        .values({ storeId, tableNumber: input.tableNumber, passwordHash })
        .returning();
      await tableAudited(tx, { storeId, actor, tableId: table!.id }, 'created', {
        table_number: table!.tableNumber,
      });
      return {
        id: table!.id,
        table_number: table!.tableNumber,
        created_at: table!.createdAt.toISOString(),
        active_session_id: null,
        device: null,
      };
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.tableNumberTaken)) throw tableNumberTaken(input.tableNumber);
    throw error;
  }
}

/**
 * Relabels a table and/or gives it a new password. A new password bumps `password_version`,
 * which every table token carries: the tablet's existing tokens stop working at once and it must
 * log in again with the new password. The audit trail keeps the label before and after, and
 * whether the password changed (never the password).
 */
export async function changeTable(
  db: Database,
  storeId: string,
  tableId: string,
  actor: Actor,
  input: { tableNumber?: string; password?: string },
): Promise<TableView> {
  const passwordHash =
    input.password === undefined ? undefined : await hashPassword(input.password);
  try {
    return await db.transaction(async (tx) => {
      const [before] = await tx
        .select({ tableNumber: diningTables.tableNumber })
        .from(diningTables)
        .where(ofStore(storeId, tableId))
        .for('no key update');
      if (!before) throw tableNotFound();
      await tx
        .update(diningTables)
        .set({
          tableNumber: input.tableNumber,
          ...(passwordHash && {
            passwordHash,
            passwordVersion: sql`${diningTables.passwordVersion} + 1`,
          }),
        })
        .where(ofStore(storeId, tableId));
      const [table] = await loadTables(tx, ofStore(storeId, tableId));
      await tableAudited(tx, { storeId, actor, tableId }, 'updated', {
        table_number: table!.table_number,
        previous_table_number: before.tableNumber,
        password_changed: passwordHash !== undefined,
      });
      return table!;
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.tableNumberTaken)) throw tableNumberTaken(input.tableNumber);
    throw error;
  }
}

/**
 * Lets the table's tablet go (the device lease, worker/domain/device-lease.ts): the table is
 * held by no tablet, so the next one to log in takes it, and the one it had is refused. The
 * audit trail keeps which tablet was let go. Answers the table, and whether a tablet held it
 * (only then is anything written, and its access to revoke).
 */
export async function releaseDevice(
  db: Database,
  storeId: string,
  tableId: string,
  actor: Actor,
): Promise<{ table: TableView; released: boolean }> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ deviceId: diningTables.deviceId })
      .from(diningTables)
      .where(ofStore(storeId, tableId))
      .for('no key update');
    if (!before) throw tableNotFound();
    if (before.deviceId) {
      await tx
        .update(diningTables)
        .set({ deviceId: null, deviceSeenAt: null })
        .where(ofStore(storeId, tableId));
      await tableAudited(tx, { storeId, actor, tableId }, 'device_released', {
        device_id: before.deviceId,
      });
    }
    const [table] = await loadTables(tx, ofStore(storeId, tableId));
    return { table: table!, released: before.deviceId !== null };
  });
}

/**
 * Removes a table that nobody is seated at. The table row is locked `FOR UPDATE` first: opening
 * a session references the table (a key-share lock), so an order racing this delete either
 * finished first — and its session is seen here — or waits and then finds no table. The session
 * is read without a lock so that a concurrent 이용 완료 (which locks the session, then references
 * the table from history) cannot deadlock with us; at worst we answer 409 a moment early. The
 * schema backs this up: a table whose session still has orders cannot be deleted.
 * Completed sessions go with the table; their history stays, with `table_id` set to null.
 * The audit trail keeps the label it had. Answers the row removed.
 */
export async function removeTable(
  db: Database,
  storeId: string,
  tableId: string,
  actor: Actor,
): Promise<{ id: string; storeId: string }> {
  try {
    return await db.transaction(async (tx) => {
      const [table] = await tx
        .select({ tableNumber: diningTables.tableNumber })
        .from(diningTables)
        .where(ofStore(storeId, tableId))
        .for('update');
      if (!table) throw tableNotFound();
      const [session] = await tx
        .select({ id: tableSessions.id })
        .from(tableSessions)
        .where(and(eq(tableSessions.tableId, tableId), isNull(tableSessions.endedAt)));
      if (session) throw tableInUse(session.id);
      const [removed] = await tx
        .delete(diningTables)
        .where(ofStore(storeId, tableId))
        .returning({ id: diningTables.id, storeId: diningTables.storeId });
      await tableAudited(tx, { storeId, actor, tableId }, 'deleted', {
        table_number: table.tableNumber,
      });
      return removed!;
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.orderSession)) throw tableInUse(null);
    throw error;
  }
}

function tableInUse(sessionId: string | null): ApiError {
  return new ApiError(
    409,
    'TABLE_HAS_ACTIVE_SESSION',
    '이용 중인 테이블은 삭제할 수 없습니다. 이용 완료 후 다시 시도해 주세요.',
    { details: sessionId ? { table_session_id: sessionId } : {} },
  );
}

/** A change to the store's tables, as the audit trail keeps it (`table.created`, …). */
function tableAudited(
  tx: Transaction,
  change: { storeId: string; actor: Actor; tableId: string },
  verb: 'created' | 'updated' | 'deleted' | 'device_released',
  details: Record<string, unknown>,
): Promise<void> {
  return recordAudit(tx, {
    storeId: change.storeId,
    actor: change.actor,
    action: `table.${verb}`,
    targetType: 'table',
    targetId: change.tableId,
    details,
  });
}
