/**
 * The retention job as the Cron Trigger runs it: the Worker's `scheduled` handler, inside workerd,
 * against the real PostgreSQL. It acts on every row of its database, so it runs on a database of
 * its own (global setup): in the shared test database it would remove rows other files rely on,
 * and its counts would include them.
 */
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { inArray, sql } from 'drizzle-orm';
import { beforeEach, describe, expect, inject, it, vi, type MockInstance } from 'vitest';
import * as schema from '../../db/schema.ts';
import type { Database } from '../../worker/domain/database.ts';
import { pruneExpiredRows, RETENTION } from '../../worker/domain/retention.ts';
import worker from '../../worker/index.ts';
import { unique, withDb } from './support/fixtures.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    retentionDatabaseUrl: string;
  }
}

/** The Worker's bindings, aimed at the retention tests' own database. */
const bindings: Env = { ...env, DATABASE_URL: inject('retentionDatabaseUrl') };
const onOwnDatabase = <T>(work: (db: Database) => Promise<T>) => withDb(work, bindings);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(Date.now() - ms);

type Report = {
  msg: string;
  idempotency_keys: number;
  published_events: number;
  history_orders: number;
  history_lines: number;
  caught_up: boolean;
};

let logged: MockInstance<typeof console.log>;
beforeEach(async () => {
  // Every test starts from an empty database (every row belongs to a store), so what a run
  // removes is exactly what the test put there.
  await onOwnDatabase((db) => db.execute(sql`truncate stores cascade`));
  logged = vi.spyOn(console, 'log');
  return () => logged.mockRestore();
});

/** Runs the scheduled handler once, as Cloudflare's cron would. */
async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: '17 * * * *' }), bindings, ctx);
  await waitOnExecutionContext(ctx);
}

/** The `retention` lines the handler logged in this test. */
function reports(): Report[] {
  return logged.mock.calls
    .map(([line]) => (typeof line === 'string' && line.startsWith('{') ? JSON.parse(line) : {}))
    .filter((line: { msg?: string }) => line.msg === 'retention');
}

/** A store (with its retention, default the schema's) and one table of it. */
async function storeWithTable(historyRetentionDays?: number) {
  return onOwnDatabase(async (db) => {
    const [store] = await db
      .insert(schema.stores)
      .values({ name: unique('가게'), historyRetentionDays })
      .returning();
    const [table] = await db
      .insert(schema.diningTables)
      .values({ storeId: store!.id, tableNumber: '1', passwordHash: 'unused' })
      .returning();
    return { storeId: store!.id, tableId: table!.id, tableNumber: '1' };
  });
}
type Place = Awaited<ReturnType<typeof storeWithTable>>;

/** `Idempotency-Key`s of the table, one per age; answers their keys. */
async function idempotencyKeys(place: Place, ages: number[]): Promise<string[]> {
  const rows = ages.map((age) => ({
    storeId: place.storeId,
    tableId: place.tableId,
    key: unique('key'),
    requestHash: 'h',
    statusCode: 201,
    response: {},
    createdAt: ago(age),
  }));
  await onOwnDatabase((db) => db.insert(schema.idempotencyKeys).values(rows));
  return rows.map((row) => row.key);
}

/** Outbox rows of the store, created at `created` ago and published at `published` ago (or not). */
async function events(
  place: Place,
  ages: Array<{ created: number; published: number | null }>,
): Promise<number[]> {
  const rows = await onOwnDatabase((db) =>
    db
      .insert(schema.outbox)
      .values(
        ages.map(({ created, published }) => ({
          storeId: place.storeId,
          type: 'menu.updated' as const,
          payload: {},
          createdAt: ago(created),
          publishedAt: published === null ? null : ago(published),
        })),
      )
      .returning({ id: schema.outbox.id }),
  );
  return rows.map((row) => row.id);
}

/** History orders of the table completed `age` ago, two lines each; answers their ids. */
async function historyOrders(place: Place, ages: number[]): Promise<string[]> {
  return onOwnDatabase(async (db) => {
    const orders = await db
      .insert(schema.orderHistory)
      .values(
        ages.map((age, n) => ({
          storeId: place.storeId,
          tableId: place.tableId,
          tableNumber: place.tableNumber,
          tableSessionId: crypto.randomUUID(),
          originalOrderId: crypto.randomUUID(),
          orderNumber: n + 1,
          status: 'delivered' as const,
          totalAmount: 11_000,
          orderedAt: ago(age + HOUR),
          completedAt: ago(age),
        })),
      )
      .returning({ id: schema.orderHistory.id });
    await db.insert(schema.orderHistoryItems).values(
      orders.flatMap(({ id }) =>
        [
          { orderHistoryId: id, position: 0, menuName: '김치찌개', unitPrice: 9_000, quantity: 1 },
          { orderHistoryId: id, position: 1, menuName: '콜라', unitPrice: 2_000, quantity: 1 },
        ].map((line) => ({ ...line, subtotal: line.unitPrice * line.quantity })),
      ),
    );
    return orders.map((order) => order.id);
  });
}

/** Which of these rows are still there. */
const remaining = {
  keys: (keys: string[]) =>
    onOwnDatabase(async (db) =>
      (
        await db
          .select({ key: schema.idempotencyKeys.key })
          .from(schema.idempotencyKeys)
          .where(inArray(schema.idempotencyKeys.key, keys))
      ).map((row) => row.key),
    ),
  events: (ids: number[]) =>
    onOwnDatabase(async (db) =>
      (
        await db
          .select({ id: schema.outbox.id })
          .from(schema.outbox)
          .where(inArray(schema.outbox.id, ids))
      ).map((row) => row.id),
    ),
  orders: (ids: string[]) =>
    onOwnDatabase(async (db) =>
      (
        await db
          .select({ id: schema.orderHistory.id })
          .from(schema.orderHistory)
          .where(inArray(schema.orderHistory.id, ids))
      ).map((row) => row.id),
    ),
  lines: (orderIds: string[]) =>
    onOwnDatabase(async (db) =>
      (
        await db
          .select({ order: schema.orderHistoryItems.orderHistoryId })
          .from(schema.orderHistoryItems)
          .where(inArray(schema.orderHistoryItems.orderHistoryId, orderIds))
      ).map((row) => row.order),
    ),
};

const sorted = <T>(values: T[]) => [...values].sort();

describe('the retention job', () => {
  it('removes idempotency keys older than a day and keeps younger ones', async () => {
    const place = await storeWithTable();
    const [old, young] = await idempotencyKeys(place, [25 * HOUR, 23 * HOUR]);

    await runCron();

    expect(await remaining.keys([old!, young!])).toEqual([young]);
  });

  it('removes events published over a week ago, keeps newer ones and every unpublished one', async () => {
    const place = await storeWithTable();
    const [published8, published6, unpublished30, unpublishedNew] = await events(place, [
      { created: 8 * DAY, published: 8 * DAY - HOUR },
      { created: 9 * DAY, published: 6 * DAY },
      { created: 30 * DAY, published: null },
      { created: HOUR, published: null },
    ]);

    await runCron();

    expect(
      sorted(await remaining.events([published8!, published6!, unpublished30!, unpublishedNew!])),
    ).toEqual(sorted([published6, unpublished30, unpublishedNew]));
  });

  it("removes history (orders and their lines) past each store's own retention", async () => {
    const yearly = await storeWithTable(); // the default: 365 days
    const monthly = await storeWithTable(30);
    const [yearlyOld, yearlyKept] = await historyOrders(yearly, [366 * DAY, 300 * DAY]);
    const [monthlyOld, monthlyKept] = await historyOrders(monthly, [31 * DAY, 29 * DAY]);
    const all = [yearlyOld!, yearlyKept!, monthlyOld!, monthlyKept!];

    await runCron();

    expect(sorted(await remaining.orders(all))).toEqual(sorted([yearlyKept, monthlyKept]));
    expect(sorted(await remaining.lines(all))).toEqual(
      sorted([yearlyKept, yearlyKept, monthlyKept, monthlyKept]),
    );
  });

  it('logs one JSON line with what it removed', async () => {
    const place = await storeWithTable(30);
    await idempotencyKeys(place, [2 * DAY, 3 * DAY, HOUR]);
    await events(place, [{ created: 10 * DAY, published: 10 * DAY }]);
    await historyOrders(place, [40 * DAY, 50 * DAY, DAY]);

    await runCron();

    expect(reports()).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'retention',
        cron: '17 * * * *',
        idempotency_keys: 2,
        published_events: 1,
        history_orders: 2,
        history_lines: 4,
        caught_up: true,
      }),
    ]);
  });

  it('removes in bounded batches and leaves the rest to the next run', async () => {
    const place = await storeWithTable();
    const keys = await idempotencyKeys(place, Array(25).fill(2 * DAY));
    const limits = { ...RETENTION, rowsPerStatement: 10, statementsPerKind: 2 };

    const first = await onOwnDatabase((db) => pruneExpiredRows(db, limits));
    expect(first).toMatchObject({ idempotency_keys: 20, caught_up: false });
    expect(await remaining.keys(keys)).toHaveLength(5);

    const second = await onOwnDatabase((db) => pruneExpiredRows(db, limits));
    expect(second).toMatchObject({ idempotency_keys: 5, caught_up: true });
    expect(await remaining.keys(keys)).toEqual([]);
  });

  it('runs twice at once: both succeed, and every row is removed (and counted) once', async () => {
    const place = await storeWithTable();
    // More than a batch of each kind, so the two runs take batches side by side.
    const keys = await idempotencyKeys(place, Array(2_500).fill(2 * DAY));
    const eventIds = await events(
      place,
      Array.from({ length: 2_500 }, () => ({ created: 8 * DAY, published: 8 * DAY })),
    );
    const orders = await historyOrders(place, Array(1_500).fill(400 * DAY));

    await Promise.all([runCron(), runCron()]);

    const [a, b] = reports();
    expect(reports()).toHaveLength(2);
    expect(a!.idempotency_keys + b!.idempotency_keys).toBe(2_500);
    expect(a!.published_events + b!.published_events).toBe(2_500);
    expect(a!.history_orders + b!.history_orders).toBe(1_500);
    expect(a!.history_lines + b!.history_lines).toBe(3_000);
    expect(await remaining.keys(keys)).toEqual([]);
    expect(await remaining.events(eventIds)).toEqual([]);
    expect(await remaining.orders(orders)).toEqual([]);
  });
});
