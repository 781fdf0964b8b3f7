/**
 * The order rules the database enforces: statuses, quantities, tenant-safe references, daily
 * order numbers, history that outlives its table, idempotency keys per table.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { CONSTRAINTS } from '../../db/schema.ts';
import type { Database } from '../../worker/domain/database.ts';
import { createOrder as placeOrder } from '../../worker/domain/orders.ts';
import {
  createCategory,
  createMenu,
  createOrder,
  createScratchDatabase,
  createStore,
  createTable,
  openSession,
  rejectionOf,
  seatedTable,
  type ScratchDatabase,
  type TestDatabase,
} from '../support/db-fixtures.ts';

const UNIQUE_VIOLATION = '23505';
const CHECK_VIOLATION = '23514';
const FOREIGN_KEY_VIOLATION = '23503';

let scratch: ScratchDatabase;
let db: TestDatabase;
let domain: Database;

beforeAll(async () => {
  scratch = await createScratchDatabase();
  db = scratch.db;
  domain = scratch.domain;
});

afterAll(async () => {
  await scratch?.drop();
});

function orderLine(orderId: string, quantity: number, unitPrice = 9000, position = 0) {
  return {
    orderId,
    position,
    menuName: '김치찌개',
    unitPrice,
    quantity,
    subtotal: unitPrice * quantity,
  };
}

describe('orders', () => {
  it('start as pending', async () => {
    const { session } = await seatedTable(db);
    expect((await createOrder(db, session)).status).toBe('pending');
  });

  it('refuse a status the kitchen does not know', async () => {
    const { session } = await seatedTable(db);
    const statement = createOrder(db, session, { status: 'eaten' as schema.OrderStatus });
    expect(await rejectionOf(statement)).toEqual({
      code: CHECK_VIOLATION,
      constraint: 'orders_status_valid',
    });
  });

  it('refuse a table that belongs to another store', async () => {
    const { session } = await seatedTable(db);
    const otherStore = await createStore(db);
    const statement = createOrder(db, { ...session, storeId: otherStore.id });
    expect(await rejectionOf(statement)).toEqual({
      code: FOREIGN_KEY_VIOLATION,
      constraint: CONSTRAINTS.orderSession,
    });
  });

  it("refuse a session that is another table's", async () => {
    const { store, session } = await seatedTable(db);
    const otherTable = await createTable(db, store.id, { tableNumber: '2' });
    const statement = createOrder(db, { ...session, tableId: otherTable.id });
    expect((await rejectionOf(statement)).constraint).toBe(CONSTRAINTS.orderSession);
  });
});

describe('cancelled orders', () => {
  it('carry when they were cancelled, and only they do', async () => {
    const { session } = await seatedTable(db);
    const cancelledAt = new Date();
    for (const values of [
      { status: 'cancelled' as const, orderNumber: 1 },
      { status: 'delivered' as const, orderNumber: 2, cancelledAt },
    ]) {
      expect(await rejectionOf(createOrder(db, session, values)), values.status).toEqual({
        code: CHECK_VIOLATION,
        constraint: 'orders_cancelled_has_record',
      });
    }
    const voided = await createOrder(db, session, {
      status: 'cancelled',
      orderNumber: 3,
      cancelledAt,
      cancelledBy: crypto.randomUUID(),
    });
    expect(voided).toMatchObject({ status: 'cancelled', cancelledAt, cancelReason: null });
  });

  it('keep a reason of at most 200 characters', async () => {
    const { session } = await seatedTable(db);
    const cancelled = { status: 'cancelled' as const, cancelledAt: new Date() };
    await expect(
      createOrder(db, session, { ...cancelled, orderNumber: 1, cancelReason: '가'.repeat(200) }),
    ).resolves.toBeDefined();
    const statement = createOrder(db, session, {
      ...cancelled,
      orderNumber: 2,
      cancelReason: '가'.repeat(201),
    });
    expect(await rejectionOf(statement)).toEqual({
      code: CHECK_VIOLATION,
      constraint: 'orders_cancel_reason_length',
    });
  });
});

describe('order numbers', () => {
  it('are never given twice in one store on one day', async () => {
    const { session } = await seatedTable(db);
    await createOrder(db, session, { orderNumber: 1 });
    expect(await rejectionOf(createOrder(db, session, { orderNumber: 1 }))).toEqual({
      code: UNIQUE_VIOLATION,
      constraint: CONSTRAINTS.orderNumberTaken,
    });
  });

  it('start again the next day and are independent between stores', async () => {
    const { session } = await seatedTable(db);
    const other = await seatedTable(db);
    await createOrder(db, session, { orderNumber: 1 });
    await createOrder(db, session, { orderNumber: 1, businessDate: '2026-03-03' });
    await expect(createOrder(db, other.session, { orderNumber: 1 })).resolves.toBeDefined();
  });

  it('count 1, 2, 3… without gaps or repeats when orders arrive at the same moment', async () => {
    const store = await createStore(db);
    const menu = await createMenu(db, await createCategory(db, store.id));
    const tables = await Promise.all(
      ['1', '2', '3', '4'].map((tableNumber) => createTable(db, store.id, { tableNumber })),
    );
    // Yesterday's numbers and another store's today, well advanced, change nothing.
    const other = await createStore(db);
    await db.insert(schema.orderNumberCounters).values([
      {
        storeId: store.id,
        businessDate: sql`(now() at time zone ${store.timezone})::date - 1`,
        lastNumber: 57,
      },
      {
        storeId: other.id,
        businessDate: sql`(now() at time zone ${other.timezone})::date`,
        lastNumber: 30,
      },
    ]);
    const placed = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        placeOrder(domain, {
          storeId: store.id,
          tableId: tables[i % tables.length]!.id,
          items: [{ menuId: menu.id, quantity: 1 }],
        }),
      ),
    );
    const numbers = placed.map(({ order }) => order.order_number);
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe('order items', () => {
  it('refuse a quantity of 0 or of 100', async () => {
    const { session } = await seatedTable(db);
    const order = await createOrder(db, session);
    for (const quantity of [0, 100]) {
      const statement = db.insert(schema.orderItems).values(orderLine(order.id, quantity));
      expect(await rejectionOf(statement)).toEqual({
        code: CHECK_VIOLATION,
        constraint: 'order_items_quantity_range',
      });
    }
  });

  it('accept a quantity of 1 and of 99', async () => {
    const { session } = await seatedTable(db);
    const order = await createOrder(db, session);
    const lines = [orderLine(order.id, 1), orderLine(order.id, 99, 9000, 1)];
    await expect(db.insert(schema.orderItems).values(lines).returning()).resolves.toHaveLength(2);
  });

  it('refuse a subtotal that is not unit price times quantity', async () => {
    const { session } = await seatedTable(db);
    const order = await createOrder(db, session);
    const statement = db
      .insert(schema.orderItems)
      .values({ ...orderLine(order.id, 2), subtotal: 9000 });
    expect((await rejectionOf(statement)).constraint).toBe('order_items_subtotal_matches');
  });

  it('go away with their order when an admin deletes it', async () => {
    const { session } = await seatedTable(db);
    const order = await createOrder(db, session);
    await db.insert(schema.orderItems).values(orderLine(order.id, 1));
    await db.delete(schema.orders).where(eq(schema.orders.id, order.id));
    const left = await db
      .select()
      .from(schema.orderItems)
      .where(eq(schema.orderItems.orderId, order.id));
    expect(left).toEqual([]);
  });
});

describe('order history', () => {
  it('keeps a finished table’s orders, with its number, after the table is deleted', async () => {
    const store = await createStore(db);
    const table = await createTable(db, store.id, { tableNumber: '12' });
    const session = await openSession(db, table);
    const [row] = await db
      .insert(schema.orderHistory)
      .values({
        storeId: store.id,
        tableId: table.id,
        tableNumber: table.tableNumber,
        tableSessionId: session.id,
        originalOrderId: crypto.randomUUID(),
        orderNumber: 1,
        status: 'delivered',
        totalAmount: 9000,
        orderedAt: new Date('2026-03-02T11:00:00Z'),
        completedAt: new Date('2026-03-02T12:00:00Z'),
      })
      .returning();
    await db.delete(schema.diningTables).where(eq(schema.diningTables.id, table.id));
    const [kept] = await db
      .select()
      .from(schema.orderHistory)
      .where(eq(schema.orderHistory.id, row!.id));
    expect(kept).toMatchObject({ tableId: null, tableNumber: '12', totalAmount: 9000 });
  });
});

describe('idempotency keys', () => {
  it('are unique per table, and another table may use the same key', async () => {
    const store = await createStore(db);
    const [first, second] = [
      await createTable(db, store.id, { tableNumber: '1' }),
      await createTable(db, store.id, { tableNumber: '2' }),
    ];
    const key = (tableId: string) => ({ storeId: store.id, tableId, key: 'k1', requestHash: 'h' });
    await db.insert(schema.idempotencyKeys).values(key(first.id));
    expect(await rejectionOf(db.insert(schema.idempotencyKeys).values(key(first.id)))).toEqual({
      code: UNIQUE_VIOLATION,
      constraint: CONSTRAINTS.idempotencyKey,
    });
    await db.insert(schema.idempotencyKeys).values(key(second.id));
  });
});
