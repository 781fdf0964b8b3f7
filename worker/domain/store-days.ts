/**
 * Days as the restaurant counts them: `YYYY-MM-DD` in the store's own timezone. The lists an
 * owner reads by day (a table's order history, the audit trail) turn them into instants the same
 * way; the query that carries them is `StoreDaysPageQuery` (openapi.ts).
 */
import { and, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/** Store-local days (`YYYY-MM-DD`), both inclusive; a bound left out is open. */
export type StoreDays = { from?: string; to?: string };

/**
 * The condition that the instant in `column` falls on one of `days` in `timezone` (a zone name,
 * or SQL that yields one). The bounds are turned into instants by PostgreSQL
 * (`(day)::timestamp at time zone tz`), so midnight is the store's midnight whatever the
 * daylight-saving rules. Undefined when neither bound is given.
 */
export function onStoreDays(
  column: AnyPgColumn,
  days: StoreDays,
  timezone: string | SQL,
): SQL | undefined {
  return and(
    days.from ? gte(column, startOfDay(days.from, timezone)) : undefined,
    days.to ? lt(column, startOfDay(days.to, timezone, 1)) : undefined,
  );
}

/** The instant the store-local `day` (+ `plusDays`) begins, computed by PostgreSQL. */
function startOfDay(day: string, timezone: string | SQL, plusDays = 0): SQL {
  return sql`((${day}::date + ${plusDays}::int)::timestamp at time zone ${timezone})`;
}
