/**
 * The rules the database itself enforces (db/schema.ts), checked against a real PostgreSQL on a
 * scratch database: a domain bug may try to write these rows, the schema must refuse them.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../db/migrate.ts';
import * as schema from '../../db/schema.ts';
import { CONSTRAINTS } from '../../db/schema.ts';
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

beforeAll(async () => {
  scratch = await createScratchDatabase();
  db = scratch.db;
});

afterAll(async () => {
  await scratch?.drop();
});

describe('migrations', () => {
  it('create every table of the service on an empty database', async () => {
    const { rows } = await scratch.pool.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' order by 1`,
    );
    expect(rows.map((row) => row.table_name)).toEqual([
      'admins',
      'audit_log',
      'dining_tables',
      'idempotency_keys',
      'menu_categories',
      'menu_option_groups',
      'menu_options',
      'menus',
      'order_history',
      'order_history_items',
      'order_items',
      'order_number_counters',
      'orders',
      'outbox',
      'staff_calls',
      'stores',
      'table_sessions',
    ]);
  });

  it('change nothing when applied again, even by two processes at once', async () => {
    const applied = `select count(*)::int as n from drizzle.__drizzle_migrations`;
    const before = await scratch.pool.query<{ n: number }>(applied);
    await Promise.all([migrate(scratch.url), migrate(scratch.url)]);
    const after = await scratch.pool.query<{ n: number }>(applied);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });
});

describe('stores', () => {
  it('keep Korean time unless the store says otherwise', async () => {
    const store = await createStore(db);
    expect(store.timezone).toBe('Asia/Seoul');
  });

  it('take everything they own with them when deleted, and nothing of other stores', async () => {
    const { store, table, session } = await seatedTable(db);
    const neighbour = await seatedTable(db);
    const menu = await createMenu(db, await createCategory(db, store.id));
    const order = await createOrder(db, session, { orderNumber: 1 });
    await createOrder(db, neighbour.session, { orderNumber: 1 });
    await db.insert(schema.orderItems).values({
      orderId: order.id,
      position: 0,
      menuId: menu.id,
      menuName: menu.name,
      unitPrice: menu.price,
      quantity: 1,
      subtotal: menu.price,
    });
    await db.insert(schema.admins).values({
      storeId: store.id,
      username: 'owner',
      passwordHash: 'hash',
      role: 'store_admin',
    });
    await db
      .insert(schema.outbox)
      .values({ storeId: store.id, type: 'order.created', payload: { id: order.id } });
    await db
      .insert(schema.idempotencyKeys)
      .values({ storeId: store.id, tableId: table.id, key: 'k', requestHash: 'h' });

    await db.delete(schema.stores).where(eq(schema.stores.id, store.id));

    const remaining = await scratch.pool.query<{ n: number }>(
      `select (select count(*) from orders where store_id = $1)
            + (select count(*) from menus where store_id = $1)
            + (select count(*) from outbox where store_id = $1)
            + (select count(*) from dining_tables where store_id = $1) as n`,
      [store.id],
    );
    expect(Number(remaining.rows[0]!.n)).toBe(0);
    const neighbourOrders = await db
      .select()
      .from(schema.orders)
      .where(eq(schema.orders.storeId, neighbour.store.id));
    expect(neighbourOrders).toHaveLength(1);
  });
});

describe('admin accounts', () => {
  const admin = { passwordHash: 'hash', username: 'manager' };

  it('refuse a store admin without a store and a super admin with one', async () => {
    const store = await createStore(db);
    const rejections = await Promise.all([
      rejectionOf(db.insert(schema.admins).values({ ...admin, role: 'store_admin' })),
      rejectionOf(
        db.insert(schema.admins).values({ ...admin, role: 'super_admin', storeId: store.id }),
      ),
    ]);
    for (const rejection of rejections) {
      expect(rejection).toEqual({ code: CHECK_VIOLATION, constraint: 'admins_role_matches_store' });
    }
  });

  it('refuse the same username twice in one store, but allow it in another store', async () => {
    const [first, second] = [await createStore(db), await createStore(db)];
    await db.insert(schema.admins).values({ ...admin, role: 'store_admin', storeId: first.id });
    expect(
      await rejectionOf(
        db.insert(schema.admins).values({ ...admin, role: 'store_admin', storeId: first.id }),
      ),
    ).toEqual({ code: UNIQUE_VIOLATION, constraint: CONSTRAINTS.storeAdminUsernameTaken });
    await db.insert(schema.admins).values({ ...admin, role: 'store_admin', storeId: second.id });
  });

  it('refuse two super admins with the same username', async () => {
    const superAdmin = { ...admin, username: 'operator', role: 'super_admin' as const };
    await db.insert(schema.admins).values(superAdmin);
    expect(await rejectionOf(db.insert(schema.admins).values(superAdmin))).toEqual({
      code: UNIQUE_VIOLATION,
      constraint: CONSTRAINTS.superAdminUsernameTaken,
    });
  });
});

describe('tables', () => {
  it('refuse a label already used in the same store, whatever its case', async () => {
    const store = await createStore(db);
    await createTable(db, store.id, { tableNumber: 'A-7' });
    for (const tableNumber of ['A-7', 'a-7']) {
      expect(await rejectionOf(createTable(db, store.id, { tableNumber }))).toEqual({
        code: UNIQUE_VIOLATION,
        constraint: CONSTRAINTS.tableNumberTaken,
      });
    }
  });

  it('allow the same label in another store', async () => {
    const [first, second] = [await createStore(db), await createStore(db)];
    await createTable(db, first.id, { tableNumber: '7' });
    await expect(createTable(db, second.id, { tableNumber: '7' })).resolves.toBeDefined();
  });

  it.each([
    ['an empty label', ''],
    ['a label with surrounding spaces', ' 7 '],
    ['a label of 21 characters', 'x'.repeat(21)],
  ])('refuse %s', async (_, tableNumber) => {
    const store = await createStore(db);
    expect(await rejectionOf(createTable(db, store.id, { tableNumber }))).toEqual({
      code: CHECK_VIOLATION,
      constraint: 'dining_tables_table_number_label',
    });
  });

  it('take a label of 20 characters, Korean ones too', async () => {
    const store = await createStore(db);
    await expect(
      createTable(db, store.id, { tableNumber: '가'.repeat(20) }),
    ).resolves.toBeDefined();
  });

  it('cannot be deleted while guests still have orders on them', async () => {
    const { table, session } = await seatedTable(db);
    await createOrder(db, session);
    expect(
      await rejectionOf(db.delete(schema.diningTables).where(eq(schema.diningTables.id, table.id))),
    ).toEqual({ code: FOREIGN_KEY_VIOLATION, constraint: CONSTRAINTS.orderSession });
  });
});

describe('table sessions', () => {
  it('refuse a second active session on the same table', async () => {
    const { table } = await seatedTable(db);
    expect(await rejectionOf(openSession(db, table))).toEqual({
      code: UNIQUE_VIOLATION,
      constraint: CONSTRAINTS.oneActiveSessionPerTable,
    });
  });

  it('accept a new session once the previous guests have finished', async () => {
    const { table, session } = await seatedTable(db);
    await db
      .update(schema.tableSessions)
      .set({ endedAt: sql`now()` })
      .where(eq(schema.tableSessions.id, session.id));
    await expect(openSession(db, table)).resolves.toMatchObject({ endedAt: null });
  });

  it('open exactly one session when several tablets order first at the same moment', async () => {
    const store = await createStore(db);
    const table = await createTable(db, store.id);
    const menu = await createMenu(db, await createCategory(db, store.id));
    const placed = await Promise.all(
      Array.from({ length: 10 }, () =>
        placeOrder(scratch.domain, {
          storeId: store.id,
          tableId: table.id,
          items: [{ menuId: menu.id, quantity: 1 }],
        }),
      ),
    );
    const sessions = await db
      .select()
      .from(schema.tableSessions)
      .where(eq(schema.tableSessions.tableId, table.id));
    expect(sessions).toHaveLength(1);
    expect(new Set(placed.map(({ order }) => order.table_session_id))).toEqual(
      new Set([sessions[0]!.id]),
    );
    const numbers = placed.map(({ order }) => order.order_number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it('refuse a session that ends before it started', async () => {
    const store = await createStore(db);
    const table = await createTable(db, store.id);
    const statement = db.insert(schema.tableSessions).values({
      storeId: store.id,
      tableId: table.id,
      startedAt: new Date('2026-03-02T12:00:00Z'),
      endedAt: new Date('2026-03-02T11:00:00Z'),
    });
    expect((await rejectionOf(statement)).constraint).toBe('table_sessions_ends_after_start');
  });
});

describe('menus', () => {
  it('refuse a negative price, but allow a free dish', async () => {
    const category = await createCategory(db, (await createStore(db)).id);
    expect(await rejectionOf(createMenu(db, category, { price: -1 }))).toEqual({
      code: CHECK_VIOLATION,
      constraint: 'menus_price_not_negative',
    });
    await expect(createMenu(db, category, { price: 0 })).resolves.toBeDefined();
  });

  it('refuse a category of another store', async () => {
    const category = await createCategory(db, (await createStore(db)).id);
    const otherStore = await createStore(db);
    const statement = createMenu(db, { id: category.id, storeId: otherStore.id });
    expect(await rejectionOf(statement)).toEqual({
      code: FOREIGN_KEY_VIOLATION,
      constraint: CONSTRAINTS.menuCategory,
    });
  });

  it('refuse an image marked ready before its variants exist', async () => {
    const category = await createCategory(db, (await createStore(db)).id);
    const statement = createMenu(db, category, {
      imageStatus: 'ready',
      imageOriginalKey: 'originals/a.jpg',
    });
    expect((await rejectionOf(statement)).constraint).toBe('menus_image_ready_has_variants');
  });
});

describe('menu categories', () => {
  it('cannot be deleted while they still hold menus', async () => {
    const category = await createCategory(db, (await createStore(db)).id);
    await createMenu(db, category);
    const statement = db
      .delete(schema.menuCategories)
      .where(eq(schema.menuCategories.id, category.id));
    expect(await rejectionOf(statement)).toEqual({
      code: FOREIGN_KEY_VIOLATION,
      constraint: CONSTRAINTS.menuCategory,
    });
  });

  it('can be deleted once empty', async () => {
    const category = await createCategory(db, (await createStore(db)).id);
    const deleted = await db
      .delete(schema.menuCategories)
      .where(eq(schema.menuCategories.id, category.id))
      .returning();
    expect(deleted).toHaveLength(1);
  });
});
