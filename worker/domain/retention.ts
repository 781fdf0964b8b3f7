import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './database.ts';

/**
 * What the retention job keeps, and how much one run may remove. A run deletes in statements of
 * `rowsPerStatement` rows, at most `statementsPerKind` per kind, each committed on its own, so no
 * statement holds many locks or runs long; what is left over goes in the next run (hourly).
 */
export const RETENTION = {
  /** `Idempotency-Key`s: a tablet retries within seconds, never a day later. */
  idempotencyKeyHours: 24,
  /** Published events: long enough to look into a delivery problem afterwards. */
  publishedEventDays: 7,
  rowsPerStatement: 1_000,
  statementsPerKind: 20,
} as const;

export type RetentionLimits = Record<keyof typeof RETENTION, number>;

/** What one run removed; `caught_up` is false when a kind hit its statement limit. */
export type RetentionReport = {
  idempotency_keys: number;
  published_events: number;
  history_orders: number;
  history_lines: number;
  caught_up: boolean;
};

/**
 * Removes what is past its keep:
 * - idempotency keys older than `idempotencyKeyHours` (the replay window);
 * - outbox rows published more than `publishedEventDays` ago — an unpublished row is never
 *   removed, however old: it is an event the relay still owes the hubs;
 * - order history (orders and their lines) completed longer ago than its store's
 *   `history_retention_days`.
 *
 * Safe to run twice at once: each statement locks the rows it picks with `for update skip
 * locked`, so a concurrent run passes them by and picks others, and every row is removed (and
 * counted) by exactly one run. Times are the database's own `now()`, the clock that wrote them.
 */
export async function pruneExpiredRows(
  db: Database,
  limits: RetentionLimits = RETENTION,
): Promise<RetentionReport> {
  const batch = limits.rowsPerStatement;
  const idempotencyKeys = await repeatBatches(
    db,
    limits,
    sql`
      with gone as (
        delete from idempotency_keys
        where (table_id, key) in (
          select table_id, key from idempotency_keys
          where created_at < now() - make_interval(hours => ${limits.idempotencyKeyHours})
          limit ${batch}
          for update skip locked)
        returning 1)
      select count(*)::int as removed, 0 as lines from gone`,
  );
  const publishedEvents = await repeatBatches(
    db,
    limits,
    sql`
      with gone as (
        delete from outbox
        where id in (
          select id from outbox
          where published_at < now() - make_interval(days => ${limits.publishedEventDays})
          limit ${batch}
          for update skip locked)
        returning 1)
      select count(*)::int as removed, 0 as lines from gone`,
  );
  // Lines are deleted by the statement itself (not left to the cascade) so that they are counted.
  const history = await repeatBatches(
    db,
    limits,
    sql`
      with doomed as (
        select h.id from order_history h
        join stores s on s.id = h.store_id
        where h.completed_at < now() - make_interval(days => s.history_retention_days)
        limit ${batch}
        for update of h skip locked),
      lines as (
        delete from order_history_items
        where order_history_id in (select id from doomed)
        returning 1),
      orders as (
        delete from order_history
        where id in (select id from doomed)
        returning 1)
      select (select count(*) from orders)::int as removed,
             (select count(*) from lines)::int as lines`,
  );
  return {
    idempotency_keys: idempotencyKeys.removed,
    published_events: publishedEvents.removed,
    history_orders: history.removed,
    history_lines: history.lines,
    caught_up: idempotencyKeys.caughtUp && publishedEvents.caughtUp && history.caughtUp,
  };
}

/**
 * Runs one batch statement until it removes less than a full batch (nothing more is due) or the
 * statement limit is reached. Each statement answers one row: `removed` and `lines`.
 */
async function repeatBatches(
  db: Database,
  limits: RetentionLimits,
  statement: SQL,
): Promise<{ removed: number; lines: number; caughtUp: boolean }> {
  let removed = 0;
  let lines = 0;
  for (let round = 0; round < limits.statementsPerKind; round += 1) {
    const { rows } = await db.execute<{ removed: number; lines: number }>(statement);
    const batch = rows[0] ?? { removed: 0, lines: 0 };
    removed += batch.removed;
    lines += batch.lines;
    if (batch.removed < limits.rowsPerStatement) return { removed, lines, caughtUp: true };
  }
  return { removed, lines, caughtUp: false };
}
