/**
 * Fixtures for the floor (sessions, orders, history), written straight to the database so the
 * floor's tests do not depend on how guests place orders.
 */
import { asc, eq, inArray, sql } from 'drizzle-orm';
import * as schema from '../../../db/schema.ts';
import type { OrderStatus } from '../../../db/schema.ts';
import { withDb } from './fixtures.ts';

export type Session = { id: string; storeId: string; tableId: string; startedAt: Date };

/** Guests sit down: opens the table's active session. */
export async function seatGuests(
  storeId: string,
  tableId: string,
  options: { startedAt?: Date } = {},
): Promise<Session> {
  return withDb(async (db) => {
    const [session] = await db
      .insert(schema.tableSessions)
      .values({
        storeId,
        tableId,
        startedAt: options.startedAt ?? new Date(Date.now() - 3_600_000),
      })
      .returning();
    return { id: session!.id, storeId, tableId, startedAt: session!.startedAt };
  });
}

/** An ordered line: a menu (or just a name, as if the menu were deleted since), price, quantity. */
export type Line = { menuId?: string | null; name: string; price: number; quantity: number };

export type PlacedOrder = {
  id: string;
  orderNumber: number;
  status: OrderStatus;
  totalAmount: number;
  createdAt: Date;
  lines: Line[];
  /** The cancel record of an order placed as `cancelled` (by an admin the fixture made up). */
  cancelledAt: Date | null;
  cancelledBy: string | null;
};

/**
 * Orders placed in a session, in the given order (numbers from the store's daily counter).
 * `createdAt` defaults to ten seconds apart (in the past), so "newest first" is unambiguous. An
 * order placed as `cancelled` gets a cancel record: a second after it was placed, no reason.
 */
export async function placeOrders(
  session: Session,
  orders: Array<{ lines: Line[]; status?: OrderStatus; createdAt?: Date }>,
): Promise<PlacedOrder[]> {
  return withDb(async (db) => {
    const [counter] = await db
      .insert(schema.orderNumberCounters)
      .values({ storeId: session.storeId, businessDate: '2026-03-02', lastNumber: orders.length })
      .onConflictDoUpdate({
        target: [schema.orderNumberCounters.storeId, schema.orderNumberCounters.businessDate],
        set: { lastNumber: sql`${schema.orderNumberCounters.lastNumber} + ${orders.length}` },
      })
      .returning({ lastNumber: schema.orderNumberCounters.lastNumber });
    const firstNumber = counter!.lastNumber - orders.length + 1;
    const base = Date.now() - 30 * 60_000;
    const rows = await db
      .insert(schema.orders)
      .values(
        orders.map((order, i) => {
          const createdAt = order.createdAt ?? new Date(base + (firstNumber + i) * 10_000);
          const cancelled = order.status === 'cancelled';
          return {
            storeId: session.storeId,
            tableId: session.tableId,
            tableSessionId: session.id,
            orderNumber: firstNumber + i,
            status: order.status ?? 'pending',
            totalAmount: order.lines.reduce((sum, line) => sum + line.price * line.quantity, 0),
            businessDate: '2026-03-02',
            createdAt,
            cancelledAt: cancelled ? new Date(createdAt.getTime() + 1_000) : null,
            cancelledBy: cancelled ? crypto.randomUUID() : null,
          };
        }),
      )
      .returning();
    const lines = orders.flatMap((order, i) =>
      order.lines.map((line, position) => ({
        orderId: rows[i]!.id,
        menuId: line.menuId ?? null,
        position,
        menuName: line.name,
        unitPrice: line.price,
        quantity: line.quantity,
        subtotal: line.price * line.quantity,
      })),
    );
    if (lines.length > 0) await db.insert(schema.orderItems).values(lines);
    return rows.map((row, i) => ({
      id: row.id,
      orderNumber: row.orderNumber,
      status: row.status,
      totalAmount: row.totalAmount,
      createdAt: row.createdAt,
      lines: orders[i]!.lines,
      cancelledAt: row.cancelledAt,
      cancelledBy: row.cancelledBy,
    }));
  });
}

/** One order of a session (a shortcut for {@link placeOrders}). */
export async function placeOrder(
  session: Session,
  lines: Line[],
  options: { status?: OrderStatus; createdAt?: Date } = {},
): Promise<PlacedOrder> {
  const [order] = await placeOrders(session, [{ lines, ...options }]);
  return order!;
}

/**
 * A past order in a table's history, completed at a chosen instant (a cancelled one with a cancel
 * record: cancelled as it was ordered, no reason).
 */
export async function archiveOrder(
  table: { storeId: string; id: string; tableNumber: string },
  values: {
    completedAt: Date;
    orderNumber?: number;
    tableSessionId?: string;
    lines?: Line[];
    status?: OrderStatus;
  },
) {
  const lines = values.lines ?? [{ name: '김치찌개', price: 9000, quantity: 1 }];
  const orderedAt = new Date(values.completedAt.getTime() - 30 * 60_000);
  return withDb(async (db) => {
    const [row] = await db
      .insert(schema.orderHistory)
      .values({
        storeId: table.storeId,
        tableId: table.id,
        tableNumber: table.tableNumber,
        tableSessionId: values.tableSessionId ?? crypto.randomUUID(),
        originalOrderId: crypto.randomUUID(),
        orderNumber: values.orderNumber ?? 1,
        status: values.status ?? 'delivered',
        totalAmount: lines.reduce((sum, line) => sum + line.price * line.quantity, 0),
        cancelledAt: values.status === 'cancelled' ? orderedAt : null,
        cancelledBy: values.status === 'cancelled' ? crypto.randomUUID() : null,
        orderedAt,
        completedAt: values.completedAt,
      })
      .returning();
    await db.insert(schema.orderHistoryItems).values(
      lines.map((line, position) => ({
        orderHistoryId: row!.id,
        menuId: line.menuId ?? null,
        position,
        menuName: line.name,
        unitPrice: line.price,
        quantity: line.quantity,
        subtotal: line.price * line.quantity,
      })),
    );
    return row!;
  });
}

/** The order rows with these ids that still exist. */
export async function ordersWithIds(ids: string[]) {
  return withDb((db) => db.select().from(schema.orders).where(inArray(schema.orders.id, ids)));
}

/** The lines of these orders that still exist, by position. */
export async function linesOfOrders(ids: string[]) {
  return withDb((db) =>
    db
      .select()
      .from(schema.orderItems)
      .where(inArray(schema.orderItems.orderId, ids))
      .orderBy(asc(schema.orderItems.position)),
  );
}

/** A session row as it is now. */
export async function sessionRow(id: string) {
  return withDb(async (db) => {
    const [row] = await db
      .select()
      .from(schema.tableSessions)
      .where(eq(schema.tableSessions.id, id));
    return row!;
  });
}

/** The history of a session: its rows with their lines (by position), oldest order first. */
export async function historyOfSession(tableSessionId: string) {
  return withDb(async (db) => {
    const rows = await db
      .select()
      .from(schema.orderHistory)
      .where(eq(schema.orderHistory.tableSessionId, tableSessionId))
      .orderBy(asc(schema.orderHistory.orderNumber));
    const lines =
      rows.length === 0
        ? []
        : await db
            .select()
            .from(schema.orderHistoryItems)
            .where(
              inArray(
                schema.orderHistoryItems.orderHistoryId,
                rows.map((row) => row.id),
              ),
            )
            .orderBy(asc(schema.orderHistoryItems.position));
    return rows.map((row) => ({
      ...row,
      lines: lines.filter((line) => line.orderHistoryId === row.id),
    }));
  });
}

/** The order as the API shows it (OrderView), from what a fixture placed. */
export function orderView(session: Session, order: PlacedOrder, status = order.status) {
  return {
    id: order.id,
    order_number: order.orderNumber,
    table_id: session.tableId,
    table_session_id: session.id,
    status,
    total_amount: order.totalAmount,
    items: order.lines.map((line) => ({
      menu_id: line.menuId ?? null,
      menu_name: line.name,
      quantity: line.quantity,
      unit_price: line.price,
      options: [],
      note: null,
      subtotal: line.price * line.quantity,
    })),
    request: null,
    created_at: order.createdAt.toISOString(),
    cancelled_at: order.cancelledAt?.toISOString() ?? null,
    cancelled_by: order.cancelledBy,
    cancel_reason: null,
    acknowledged_at: null,
    acknowledged_by: null,
  };
}
