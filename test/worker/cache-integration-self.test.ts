import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as schema from '../../db/schema.ts';
import { cacheKeys } from '../../worker/platform/cache.ts';
import { apiWithoutRedis, cachedValue, cacheWarnings } from './support/cache.ts';
import { api, newMenu, newStore, newSuperAdmin, newTable, withDb } from './support/fixtures.ts';
import { placeOrder } from './support/ordering.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A store with a table and one menu (김치찌개 9,000). */
async function restaurant() {
  const store = await newStore();
  const table = await newTable(store.id, '1');
  const { categoryId, menus } = await newMenu(store.id, [['김치찌개', 9000]]);
  return { store, table, categoryId, stew: menus[0]! };
}

const guestMenu = (token: string) => api('GET', '/api/customer/menus', { token });
const dashboard = (token: string) => api('GET', '/api/admin/dashboard', { token });

/** Changes a menu's price straight in the database, behind the cache's back. */
function setPriceBehindTheCache(menuId: string, price: number) {
  return withDb((db) => db.update(schema.menus).set({ price }).where(eq(schema.menus.id, menuId)));
}

describe("the guests' menu", () => {
  it('is answered from the cache until the admin changes the menu', async () => {
    const { store, table, stew } = await restaurant();
    const first = await guestMenu(table.token);
    expect(first.status).toBe(200);
    expect(first.body.categories[0].menus[0]).toMatchObject({ id: stew.id, price: 9000 });
    expect(await cachedValue(cacheKeys.guestMenu(store.id))).toEqual(first.body);

    await setPriceBehindTheCache(stew.id, 12000);
    const cached = await guestMenu(table.token);
    expect(cached.body.categories[0].menus[0].price).toBe(9000);

    const edit = await api('PATCH', `/api/admin/menus/${stew.id}`, {
      token: store.admin.token,
      body: { price: 10000 },
    });
    expect(edit.status).toBe(200);
    expect((await guestMenu(table.token)).body.categories[0].menus[0].price).toBe(10000);
  });

  it('shows every kind of menu edit on the next read', async () => {
    const { store, table, categoryId, stew } = await restaurant();
    const admin = store.admin.token;
    const edits: Array<[status: number, edit: () => Promise<{ status: number }>]> = [
      [
        201,
        () =>
          api('POST', '/api/admin/menus', {
            token: admin,
            body: { category_id: categoryId, name: '공기밥', price: 1000 },
          }),
      ],
      [
        200,
        () =>
          api('PATCH', `/api/admin/categories/${categoryId}`, {
            token: admin,
            body: { name: '찌개' },
          }),
      ],
      [
        200,
        () =>
          api('PATCH', `/api/admin/menus/${stew.id}`, {
            token: admin,
            body: { is_available: false },
          }),
      ],
      [204, () => api('DELETE', `/api/admin/menus/${stew.id}`, { token: admin })],
      [201, () => api('POST', '/api/admin/categories', { token: admin, body: { name: '음료' } })],
    ];
    for (const [status, edit] of edits) {
      const before = (await guestMenu(table.token)).body;
      expect((await edit()).status).toBe(status);
      const after = (await guestMenu(table.token)).body;
      expect(after).not.toEqual(before);
    }
    const final = (await guestMenu(table.token)).body.categories;
    expect(final.map((category: { name: string }) => category.name).sort()).toEqual([
      '음료',
      '찌개',
    ]);
    expect(final.find((c: { name: string }) => c.name === '찌개').menus).toEqual([
      expect.objectContaining({ name: '공기밥', price: 1000 }),
    ]);
  });

  it("never hands one store's cached menu to another store's tablet", async () => {
    const ours = await restaurant();
    const theirs = await restaurant();
    await setPriceBehindTheCache(theirs.stew.id, 7000);
    expect((await guestMenu(ours.table.token)).body.categories[0].menus[0].id).toBe(ours.stew.id);
    const other = await guestMenu(theirs.table.token);
    expect(other.body.categories[0].menus).toEqual([
      expect.objectContaining({ id: theirs.stew.id, price: 7000 }),
    ]);
  });
});

describe('the floor (dashboard)', () => {
  it('is answered from the cache, and shows a new order at once', async () => {
    const { store, table, stew } = await restaurant();
    const first = await dashboard(store.admin.token);
    expect(first.body.tables).toEqual([expect.objectContaining({ id: table.id, session: null })]);
    expect(await cachedValue(cacheKeys.dashboard(store.id))).toEqual(first.body.tables);

    await withDb((db) =>
      db
        .update(schema.diningTables)
        .set({ tableNumber: '7' })
        .where(eq(schema.diningTables.id, table.id)),
    );
    expect((await dashboard(store.admin.token)).body.tables[0].table_number).toBe('1');

    const order = await placeOrder(table.token, [[stew.id, 2]]);
    expect(order.status).toBe(201);
    const after = (await dashboard(store.admin.token)).body.tables[0];
    expect(after.table_number).toBe('7');
    expect(after.session).toMatchObject({ total_amount: 18000, order_count: 1 });
    expect(after.session.latest_orders[0]).toMatchObject({ id: order.body.id, status: 'pending' });
  });

  it('shows status changes, deletions and table changes on the next read', async () => {
    const { store, table, stew } = await restaurant();
    const admin = store.admin.token;
    const order = (await placeOrder(table.token, [[stew.id, 1]])).body;
    const floor = async () => (await dashboard(admin)).body.tables;

    expect((await floor())[0].session.latest_orders[0].status).toBe('pending');
    const patched = await api('PATCH', `/api/admin/orders/${order.id}/status`, {
      token: admin,
      body: { status: 'preparing' },
    });
    expect(patched.status).toBe(200);
    expect((await floor())[0].session.latest_orders[0].status).toBe('preparing');

    expect((await api('DELETE', `/api/admin/orders/${order.id}`, { token: admin })).status).toBe(
      204,
    );
    // A deleted order is cancelled: still on the card, outside the count and the total.
    expect((await floor())[0].session).toMatchObject({
      order_count: 0,
      total_amount: 0,
      latest_orders: [{ id: order.id, status: 'cancelled' }],
    });

    const added = await api('POST', '/api/admin/tables', {
      token: admin,
      body: { table_number: 2, password: '5678' },
    });
    expect(added.status).toBe(201);
    expect((await floor()).map((t: { id: string }) => t.id)).toEqual([table.id, added.body.id]);

    const renumbered = await api('PATCH', `/api/admin/tables/${added.body.id}`, {
      token: admin,
      body: { table_number: 3 },
    });
    expect(renumbered.status).toBe(200);
    expect((await floor())[1].table_number).toBe('3');

    expect(
      (await api('DELETE', `/api/admin/tables/${added.body.id}`, { token: admin })).status,
    ).toBe(204);
    expect((await floor()).map((t: { id: string }) => t.id)).toEqual([table.id]);
  });

  it('shows the table free again after 이용 완료', async () => {
    const { store, table, stew } = await restaurant();
    await placeOrder(table.token, [[stew.id, 1]]);
    expect((await dashboard(store.admin.token)).body.tables[0].session).not.toBeNull();
    const done = await api('POST', `/api/admin/tables/${table.id}/complete-session`, {
      token: store.admin.token,
    });
    expect(done.status).toBe(200);
    expect((await dashboard(store.admin.token)).body.tables[0].session).toBeNull();
  });
});

describe("a table's order history", () => {
  it('is answered from the cache until the next 이용 완료 of that table', async () => {
    const { store, table, stew } = await restaurant();
    const admin = store.admin.token;
    const complete = () =>
      api('POST', `/api/admin/tables/${table.id}/complete-session`, { token: admin });
    const history = async () =>
      (
        await api('GET', `/api/admin/tables/${table.id}/order-history?page_size=10`, {
          token: admin,
        })
      ).body;

    await placeOrder(table.token, [[stew.id, 1]]);
    expect((await complete()).status).toBe(200);
    const first = await history();
    expect(first.data).toEqual([expect.objectContaining({ total_amount: 9000 })]);

    await withDb((db) =>
      db
        .update(schema.orderHistory)
        .set({ totalAmount: 1 })
        .where(eq(schema.orderHistory.tableId, table.id)),
    );
    expect(await history()).toEqual(first);

    await placeOrder(table.token, [[stew.id, 2]]);
    expect((await complete()).status).toBe(200);
    const after = await history();
    expect(after.pagination.total_count).toBe(2);
    expect(after.data.map((order: { total_amount: number }) => order.total_amount)).toEqual([
      18000, 1,
    ]);
  });

  it('is retired by 이용 완료 even when the table id in its path is written in upper case', async () => {
    const { store, table, stew } = await restaurant();
    const admin = store.admin.token;
    const complete = (tableId: string) =>
      api('POST', `/api/admin/tables/${tableId}/complete-session`, { token: admin });
    const history = async () =>
      (await api('GET', `/api/admin/tables/${table.id}/order-history`, { token: admin })).body;

    await placeOrder(table.token, [[stew.id, 1]]);
    expect((await complete(table.id)).status).toBe(200);
    expect((await history()).pagination.total_count).toBe(1);

    await placeOrder(table.token, [[stew.id, 2]]);
    expect((await complete(table.id.toUpperCase())).status).toBe(200);
    expect((await history()).pagination.total_count).toBe(2);
  });

  it('answers 404 for a removed table even though its history was cached', async () => {
    const { store, table, stew } = await restaurant();
    const admin = store.admin.token;
    const path = `/api/admin/tables/${table.id}/order-history`;
    await placeOrder(table.token, [[stew.id, 1]]);
    await api('POST', `/api/admin/tables/${table.id}/complete-session`, { token: admin });
    expect((await api('GET', path, { token: admin })).status).toBe(200);
    expect((await api('DELETE', `/api/admin/tables/${table.id}`, { token: admin })).status).toBe(
      204,
    );
    expect((await api('GET', path, { token: admin })).status).toBe(404);
  });
});

describe('account checks', () => {
  it('read the account from the cache, not the database, on every request', async () => {
    const store = await newStore();
    expect((await dashboard(store.admin.token)).status).toBe(200);
    expect(await cachedValue(cacheKeys.account(store.admin.id))).toMatchObject({
      isActive: true,
      version: 0,
    });
    // Behind the API's back nothing invalidates, so the cached state still answers.
    await withDb((db) =>
      db.update(schema.admins).set({ tokenVersion: 5 }).where(eq(schema.admins.id, store.admin.id)),
    );
    expect((await dashboard(store.admin.token)).status).toBe(200);
  });

  it('refuse a deactivated admin on its very next request, and its old tokens after re-activation', async () => {
    const store = await newStore();
    const root = await newSuperAdmin();
    expect((await dashboard(store.admin.token)).status).toBe(200);

    const off = await api('PATCH', `/api/superadmin/admins/${store.admin.id}/deactivate`, {
      token: root.token,
    });
    expect(off.status).toBe(200);
    const refused = await dashboard(store.admin.token);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('ACCOUNT_DISABLED');

    const on = await api('PATCH', `/api/superadmin/admins/${store.admin.id}/activate`, {
      token: root.token,
    });
    expect(on.status).toBe(200);
    const stale = await dashboard(store.admin.token);
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('TOKEN_INVALID');
  });

  it("refuse a tablet's token at once when its table gets a new password", async () => {
    const { store, table } = await restaurant();
    expect((await guestMenu(table.token)).status).toBe(200);
    const changed = await api('PATCH', `/api/admin/tables/${table.id}`, {
      token: store.admin.token,
      body: { password: 'new-pass' },
    });
    expect(changed.status).toBe(200);
    const refused = await guestMenu(table.token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('TOKEN_INVALID');
  });

  it('keep a renumbered table logged in', async () => {
    const { store, table } = await restaurant();
    expect((await guestMenu(table.token)).status).toBe(200);
    await api('PATCH', `/api/admin/tables/${table.id}`, {
      token: store.admin.token,
      body: { table_number: 9 },
    });
    expect((await guestMenu(table.token)).status).toBe(200);
  });
});

describe('Redis out of reach', () => {
  it('still serves the menu, the floor and the history from the database, with a WARN', async () => {
    const { store, table, stew } = await restaurant();
    await placeOrder(table.token, [[stew.id, 1]]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});

    const menu = await apiWithoutRedis('GET', '/api/customer/menus', { token: table.token });
    expect(menu.status).toBe(200);
    expect(menu.body.categories[0].menus[0]).toMatchObject({ id: stew.id, price: 9000 });

    const floor = await apiWithoutRedis('GET', '/api/admin/dashboard', {
      token: store.admin.token,
    });
    expect(floor.status).toBe(200);
    expect(floor.body.tables[0].session).toMatchObject({ order_count: 1, total_amount: 9000 });

    const history = await apiWithoutRedis('GET', `/api/admin/tables/${table.id}/order-history`, {
      token: store.admin.token,
    });
    expect(history.status).toBe(200);
    expect(history.body.pagination.total_count).toBe(0);

    const keys = cacheWarnings(warn).map((line) => line.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        cacheKeys.guestMenu(store.id),
        cacheKeys.dashboard(store.id),
        cacheKeys.account(table.id),
        cacheKeys.account(store.admin.id),
        cacheKeys.historyVersion(table.id),
      ]),
    );
    expect(cacheWarnings(warn)[0]).toMatchObject({ level: 'warn', error: expect.any(String) });
  });

  it('still saves writes, and still checks accounts against the database', async () => {
    const { store, table, stew } = await restaurant();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const edit = await apiWithoutRedis('PATCH', `/api/admin/menus/${stew.id}`, {
      token: store.admin.token,
      body: { price: 9500 },
    });
    expect(edit.status).toBe(200);
    expect(edit.body.price).toBe(9500);
    // One WARN for the menu's keys in every language together.
    expect(cacheWarnings(warn).map((line) => line.key.split(','))).toContainEqual(
      expect.arrayContaining([cacheKeys.guestMenu(store.id), cacheKeys.guestMenu(store.id, 'en')]),
    );

    await withDb((db) =>
      db
        .update(schema.diningTables)
        .set({ passwordVersion: 2 })
        .where(eq(schema.diningTables.id, table.id)),
    );
    const refused = await apiWithoutRedis('GET', '/api/customer/menus', { token: table.token });
    expect(refused.status).toBe(401);
  });
});
