import { and, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { diningTables, orders, tableSessions } from '../../db/schema.ts';
import type { Database } from '../domain/database.ts';
import { openCallsByTable, type OpenCallView } from './calls.ts';
import {
  awaitsAcknowledgement,
  countsTowardTotals,
  loadOrders,
  type OrderView,
} from './order-view.ts';
import { byTableLabel } from './tables.ts';

/** How many of a table's newest orders the floor view shows on its card. */
export const LATEST_ORDERS_PER_TABLE = 3;

/** One table on the floor view: its current session, if guests are seated, with its totals. */
export type FloorTable = {
  id: string;
  table_number: string;
  session: {
    id: string;
    started_at: string;
    total_amount: number;
    order_count: number;
    /** Its orders nobody has seen to yet (see `awaitsAcknowledgement`). */
    unacknowledged_count: number;
    latest_orders: OrderView[];
  } | null;
  /** The table's staff calls still waiting, oldest first. */
  open_calls: OpenCallView[];
};

/** The floor view: every table, and how many orders on the whole floor nobody has seen to. */
export type Floor = { tables: FloorTable[]; unacknowledged_count: number };

/**
 * The store's floor at a glance: every table in natural order of its label (`byTableLabel`), and
 * for a table with an active session its running total, order count and count of orders nobody
 * has seen to (cancelled orders left out) and newest orders (cancelled ones shown). A fixed
 * number of queries whatever the number of tables: tables with their session totals (one grouped
 * join), the newest orders of every active session (ranked by a window function) and their lines,
 * and the store's open staff calls (each table's `open_calls`).
 */
export async function floorDashboard(db: Database, storeId: string): Promise<FloorTable[]> {
  const activeSession = and(
    eq(tableSessions.tableId, diningTables.id),
    eq(tableSessions.storeId, storeId),
    isNull(tableSessions.endedAt),
  );
  const tablesQuery = db
    .select({
      id: diningTables.id,
      tableNumber: diningTables.tableNumber,
      sessionId: tableSessions.id,
      startedAt: tableSessions.startedAt,
      orderCount: sql<number>`count(${orders.id})::int`,
      unacknowledgedCount: sql<number>`count(${orders.id}) filter (where ${awaitsAcknowledgement()})::int`,
      // A bigint: a session's orders can sum past 2^31 (the driver reads it as text).
      totalAmount: sql<number>`coalesce(sum(${orders.totalAmount}), 0)::bigint`.mapWith(Number),
    })
    .from(diningTables)
    .leftJoin(tableSessions, activeSession)
    .leftJoin(orders, and(eq(orders.tableSessionId, tableSessions.id), countsTowardTotals()))
    .where(eq(diningTables.storeId, storeId))
    .groupBy(diningTables.id, tableSessions.id);

  const ranked = db
    .select({
      id: orders.id,
      rank: sql<number>`row_number() over (partition by ${orders.tableSessionId}
        order by ${orders.createdAt} desc, ${orders.orderNumber} desc)`.as('rank'),
    })
    .from(orders)
    .innerJoin(
      tableSessions,
      and(eq(tableSessions.id, orders.tableSessionId), isNull(tableSessions.endedAt)),
    )
    .where(eq(orders.storeId, storeId))
    .as('ranked');
  const latestIds = db
    .select({ id: ranked.id })
    .from(ranked)
    .where(lte(ranked.rank, LATEST_ORDERS_PER_TABLE));

  const [tables, latest, openCalls] = await Promise.all([
    tablesQuery,
    loadOrders(db, inArray(orders.id, latestIds)),
    openCallsByTable(db, storeId),
  ]);
  // loadOrders answers newest first, so each session's list keeps that order.
  const latestBySession = Map.groupBy(latest, (order) => order.table_session_id);
  const floor: FloorTable[] = tables.map((table) => ({
    id: table.id,
    table_number: table.tableNumber,
    session:
      table.sessionId && table.startedAt
        ? {
            id: table.sessionId,
            started_at: table.startedAt.toISOString(),
            total_amount: table.totalAmount,
            order_count: table.orderCount,
            unacknowledged_count: table.unacknowledgedCount,
            latest_orders: latestBySession.get(table.sessionId) ?? [],
          }
        : null,
    open_calls: openCalls.get(table.id) ?? [],
  }));
  return floor.sort(byTableLabel);
}

/**
 * The floor view as the dashboard answers it: the tables of {@link floorDashboard} and the
 * floor's count of orders nobody has seen to, the sum of the tables'. Summed from the tables
 * rather than cached with them, so a cached list of an earlier version still answers this shape.
 */
export function floorView(tables: FloorTable[]): Floor {
  const unacknowledged = tables.reduce(
    (sum, table) => sum + (table.session?.unacknowledged_count ?? 0),
    0,
  );
  return { tables, unacknowledged_count: unacknowledged };
}
