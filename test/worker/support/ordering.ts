/**
 * Fixtures for the ordering tests: placing an order as a tablet, and reading back what a store's
 * ordering wrote (orders, sessions, counters, idempotency keys, outbox rows).
 */
import { asc, eq, sql } from 'drizzle-orm';
import * as schema from '../../../db/schema.ts';
import type { Database } from '../../../worker/domain/database.ts';
import { api, newMenu, newStore, newTable, withDb, type ApiResponse } from './fixtures.ts';

/** `[menu id, quantity]` per line, in the order the guest entered them. */
export type Lines = Array<[menuId: string, quantity: number]>;

/** POST /api/customer/orders as the table, optionally with an `Idempotency-Key`. */
export function placeOrder(token: string, lines: Lines, key?: string): Promise<ApiResponse> {
  return api('POST', '/api/customer/orders', {
    token,
    body: { items: lines.map(([menu_id, quantity]) => ({ menu_id, quantity })) },
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
}

/** GET /api/customer/orders as the table. */
export function ordersOfTable(token: string): Promise<ApiResponse> {
  return api('GET', '/api/customer/orders', { token });
}

/** A store (in `timezone`) with one table and a menu of 김치찌개 9,000 / 공기밥 1,000 / 소주 5,000. */
export async function diningRoom(options: { timezone?: string; soldOut?: string[] } = {}) {
  const store = await newStore({ timezone: options.timezone });
  const table = await newTable(store.id);
  const { menus } = await newMenu(
    store.id,
    [
      ['김치찌개', 9000],
      ['공기밥', 1000],
      ['소주', 5000],
    ],
    { soldOut: options.soldOut },
  );
  const [stew, rice, soju] = menus as [Menu, Menu, Menu];
  return { store, table, stew, rice, soju };
}
type Menu = { id: string; name: string; price: number };

/** Everything ordering writes for a store, to assert what a request did (or did not) leave. */
export async function orderingRowsOf(storeId: string) {
  return withDb(async (db) => {
    const orders = await db
      .select()
      .from(schema.orders)
      .where(eq(schema.orders.storeId, storeId))
      .orderBy(asc(schema.orders.orderNumber));
    const sessions = await db
      .select()
      .from(schema.tableSessions)
      .where(eq(schema.tableSessions.storeId, storeId));
    const counters = await db
      .select()
      .from(schema.orderNumberCounters)
      .where(eq(schema.orderNumberCounters.storeId, storeId));
    const keys = await db
      .select()
      .from(schema.idempotencyKeys)
      .where(eq(schema.idempotencyKeys.storeId, storeId));
    const outbox = await db
      .select()
      .from(schema.outbox)
      .where(eq(schema.outbox.storeId, storeId))
      .orderBy(asc(schema.outbox.id));
    return { orders, sessions, counters, keys, outbox };
  });
}

/** The lines stored for an order, in position order. */
export async function itemsOf(orderId: string) {
  return withDb((db) =>
    db
      .select()
      .from(schema.orderItems)
      .where(eq(schema.orderItems.orderId, orderId))
      .orderBy(asc(schema.orderItems.position)),
  );
}

/** Ends the table's active session directly, as "이용 완료" would (without moving orders). */
export async function endSession(sessionId: string): Promise<void> {
  await withDb((db) =>
    db
      .update(schema.tableSessions)
      .set({ endedAt: new Date() })
      .where(eq(schema.tableSessions.id, sessionId)),
  );
}

/** Changes a menu's price or availability straight in the database (as the admin API would). */
export async function changeMenu(
  menuId: string,
  change: { price?: number; isAvailable?: boolean; name?: string },
): Promise<void> {
  await withDb((db) => db.update(schema.menus).set(change).where(eq(schema.menus.id, menuId)));
}

/** Today's date (YYYY-MM-DD) in an IANA timezone, computed independently of the database. */
export function localDate(timeZone: string, at = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/**
 * Plays "이용 완료" slowly: locks the session `for update` (as completion does), starts `request`,
 * waits until that request is blocked by our lock, then ends the session and commits. Answers
 * the request's response once both are done.
 */
export async function completingSession(
  sessionId: string,
  request: () => Promise<ApiResponse>,
): Promise<ApiResponse> {
  // Boxed: a promise returned from the transaction callback would be awaited before the commit
  // that it is waiting for.
  const { pending } = await withDb((db) =>
    db.transaction(async (tx) => {
      const { rows } = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
      await tx
        .select({ id: schema.tableSessions.id })
        .from(schema.tableSessions)
        .where(eq(schema.tableSessions.id, sessionId))
        .for('update');
      const pending = request();
      await blockedBy(db, rows[0]!.pid);
      await tx
        .update(schema.tableSessions)
        .set({ endedAt: new Date() })
        .where(eq(schema.tableSessions.id, sessionId));
      return { pending };
    }),
  );
  return pending;
}

/**
 * Holds the store's order-number counters locked (`for update`, as an order's numbering does)
 * while `requests` start, until `waiting` backends queue behind that lock — directly, or behind
 * one that does — then lets them all go at once. Answers the requests' responses.
 */
export async function holdingOrderNumbers(
  storeId: string,
  waiting: number,
  requests: Array<() => Promise<ApiResponse>>,
): Promise<ApiResponse[]> {
  // Boxed, as in `completingSession`.
  const { pending } = await withDb((db) =>
    db.transaction(async (tx) => {
      const { rows } = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
      await tx
        .select({ storeId: schema.orderNumberCounters.storeId })
        .from(schema.orderNumberCounters)
        .where(eq(schema.orderNumberCounters.storeId, storeId))
        .for('update');
      const pending = Promise.all(requests.map((request) => request()));
      await blockedBy(db, rows[0]!.pid, waiting);
      return { pending };
    }),
  );
  return pending;
}

/** Resolves once `count` other backends wait on a lock held by backend `pid`, or by its waiters. */
export async function blockedBy(db: Database, pid: number, count = 1): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await db.execute<{ waiting: number }>(sql`
      with recursive queue(pid) as (
        select pid from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid))
        union
        select waiter.pid from pg_stat_activity waiter
        join queue on queue.pid = any(pg_blocking_pids(waiter.pid))
      )
      select count(*)::int as waiting from queue`);
    if (rows[0]!.waiting >= count) return;
    await scheduler.wait(10);
  }
  throw new Error(`fewer than ${count} backends became blocked by backend ${pid}`);
}
