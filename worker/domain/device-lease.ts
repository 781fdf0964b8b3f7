import type { Redis } from '@upstash/redis/cloudflare';
import { and, eq, sql } from 'drizzle-orm';
import { diningTables } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import { cacheKeys, firstInWindow } from '../platform/cache.ts';
import { openDatabase } from '../platform/database.ts';
import type { Database } from './database.ts';

/**
 * How long the tablet holding a table may go unheard before another tablet may take the table
 * at login: as long as a token lives, so a tablet still in use never loses its table this way.
 */
export const DEVICE_LEASE_SILENCE_HOURS = 16;

/** The moment before which a holder not heard from since counts as silent. */
const SILENT_SINCE = sql`now() - make_interval(hours => ${DEVICE_LEASE_SILENCE_HOURS})`;

/** How often, at most, a tablet's requests note that it was heard from: once a minute a table. */
const DEVICE_SEEN_EVERY_SECONDS = 60;

/**
 * The tablet `deviceId`, whose password was right, takes or keeps the table (the device lease):
 * the table's row is locked in one transaction, so of two tablets logging in at once one holds
 * it and the other is refused. A table nobody holds, held by this very tablet, or held by one
 * silent for {@link DEVICE_LEASE_SILENCE_HOURS} (by the database's clock) is taken, and its
 * last-seen time set to now; any other holder → 409 TABLE_IN_USE, naming only when the holder
 * was last heard from. Answers whether the table changed hands (the tokens of the tablet it had
 * must then be refused: the caller revokes the cached account state), or null when the table is
 * gone.
 */
export async function holdTable(
  db: Database,
  tableId: string,
  deviceId: string,
): Promise<{ changedHands: boolean } | null> {
  return db.transaction(async (tx) => {
    const [table] = await tx
      .select({
        deviceId: diningTables.deviceId,
        seenAt: diningTables.deviceSeenAt,
        silent: sql<boolean>`${diningTables.deviceSeenAt} <= ${SILENT_SINCE}`,
      })
      .from(diningTables)
      .where(eq(diningTables.id, tableId))
      .for('no key update');
    if (!table) return null;
    const heldByAnother = table.deviceId !== null && table.deviceId !== deviceId;
    if (heldByAnother && !table.silent) throw tableInUse(table.seenAt!);
    await tx
      .update(diningTables)
      .set({ deviceId, deviceSeenAt: sql`now()` })
      .where(eq(diningTables.id, tableId));
    return { changedHands: table.deviceId !== deviceId };
  });
}

function tableInUse(lastSeenAt: Date): ApiError {
  return new ApiError(
    409,
    'TABLE_IN_USE',
    '다른 기기에서 사용 중인 테이블입니다. 관리자에게 기기 연결 해제를 요청해 주세요.',
    { details: { last_seen_at: lastSeenAt.toISOString() } },
  );
}

/**
 * Notes that the calling tablet was heard from (`device_seen_at`), at most once a minute per
 * table: a Redis gate decides (Redis down → not noted), and only then one UPDATE, of the row
 * only while this tablet still holds it. Meant to run after the answer (`waitUntil`): on a pool
 * of its own, as the request's may have ended by then; a failure is a WARN, never the tablet's.
 */
export async function noteTabletHeard(
  env: Env,
  redis: Redis,
  tablet: { tableId: string; deviceId: string },
): Promise<void> {
  const gate = cacheKeys.deviceSeen(tablet.tableId);
  if (!(await firstInWindow(redis, gate, DEVICE_SEEN_EVERY_SECONDS))) return;
  const { db, pool } = openDatabase(env);
  try {
    await db
      .update(diningTables)
      .set({ deviceSeenAt: sql`now()` })
      .where(and(eq(diningTables.id, tablet.tableId), eq(diningTables.deviceId, tablet.deviceId)));
  } catch (error) {
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'tablet not noted as heard from',
        table_id: tablet.tableId,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  } finally {
    await pool.end();
  }
}
