import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  newMenu,
  newStore,
  newTable,
  outboxOf,
  type StoreFixture,
} from './support/fixtures.ts';

/**
 * The tenant-isolation matrix: store A's admin and tablet aim at store B's objects on every
 * route that takes an id — in the path, the body or the query string. Each answers 404 (as if the
 * object did not exist) and store B's data is untouched.
 */
let a: StoreFixture & { tableToken: string; menuId: string; categoryId: string };
let b: {
  store: StoreFixture;
  tableId: string;
  categoryId: string;
  menuId: string;
  orderId: string;
};

beforeAll(async () => {
  const storeA = await newStore();
  const tableA = await newTable(storeA.id);
  const menuA = await newMenu(storeA.id);
  a = {
    ...storeA,
    tableToken: tableA.token,
    menuId: menuA.menus[0]!.id,
    categoryId: menuA.categoryId,
  };

  const storeB = await newStore();
  const tableB = await newTable(storeB.id);
  const menuB = await newMenu(storeB.id, [['비밀 메뉴', 12_000]]);
  const order = await api('POST', '/api/customer/orders', {
    token: tableB.token,
    body: { items: [{ menu_id: menuB.menus[0]!.id, quantity: 1 }] },
  });
  expect(order.status, JSON.stringify(order.body)).toBe(201);
  b = {
    store: storeB,
    tableId: tableB.id,
    categoryId: menuB.categoryId,
    menuId: menuB.menus[0]!.id,
    orderId: order.body.id,
  };
});

type Probe = [method: string, path: () => string, body?: () => unknown];

const adminProbes: Probe[] = [
  ['PATCH', () => `/api/admin/tables/${b.tableId}`, () => ({ table_number: 777 })],
  ['DELETE', () => `/api/admin/tables/${b.tableId}`],
  ['POST', () => `/api/admin/tables/${b.tableId}/complete-session`],
  ['GET', () => `/api/admin/tables/${b.tableId}/order-history`],
  ['GET', () => `/api/admin/orders?table_id=${b.tableId}`],
  ['PATCH', () => `/api/admin/orders/${b.orderId}/status`, () => ({ status: 'preparing' })],
  ['DELETE', () => `/api/admin/orders/${b.orderId}`],
  ['PATCH', () => `/api/admin/categories/${b.categoryId}`, () => ({ name: '탈취' })],
  ['DELETE', () => `/api/admin/categories/${b.categoryId}`],
  ['GET', () => `/api/admin/menus/${b.menuId}`],
  ['PATCH', () => `/api/admin/menus/${b.menuId}`, () => ({ price: 1 })],
  ['DELETE', () => `/api/admin/menus/${b.menuId}`],
  ['GET', () => `/api/admin/menus?category_id=${b.categoryId}`],
  [
    'POST',
    () => '/api/admin/menus',
    () => ({ category_id: b.categoryId, name: '침입', price: 1000 }),
  ],
  ['PATCH', () => `/api/admin/menus/${a.menuId}`, () => ({ category_id: b.categoryId })],
  [
    'PUT',
    () => '/api/admin/menus/order',
    () => ({ category_id: b.categoryId, menu_ids: [b.menuId] }),
  ],
];

/** Store A's admin sends `probe`: it must answer 404, as if the object did not exist. */
async function expectNotFound([method, path, body]: Probe): Promise<void> {
  const res = await api(method, path(), { token: a.admin.token, body: body?.() });
  expect(res.status, `${method} ${path()}: ${JSON.stringify(res.body)}`).toBe(404);
  expect(res.body.error.code).toMatch(/NOT_FOUND$/);
}

/** Store A's tablet orders store B's menu: refused as an unknown menu. */
async function orderTheirMenu() {
  return api('POST', '/api/customer/orders', {
    token: a.tableToken,
    body: { items: [{ menu_id: b.menuId, quantity: 1 }] },
  });
}

describe("a store admin aiming at another store's objects", () => {
  it.each(adminProbes)('%s %s answers 404', async (...probe) => {
    await expectNotFound(probe);
  });

  it("sees none of the other store's tables, orders or menus in its lists", async () => {
    const lists = await Promise.all(
      [
        '/api/admin/tables',
        '/api/admin/orders',
        '/api/admin/dashboard',
        '/api/admin/menus',
        '/api/admin/categories',
      ].map((path) => api('GET', path, { token: a.admin.token })),
    );
    for (const list of lists) {
      expect(list.status).toBe(200);
      const text = JSON.stringify(list.body);
      for (const id of [b.tableId, b.orderId, b.menuId, b.categoryId])
        expect(text).not.toContain(id);
    }
  });
});

describe("a tablet aiming at another store's menu", () => {
  it('cannot read it', async () => {
    const res = await api('GET', `/api/customer/menus/${b.menuId}`, { token: a.tableToken });
    expect(res.status).toBe(404);
  });

  it('cannot order it (MENU_NOT_FOUND)', async () => {
    const res = await orderTheirMenu();
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('MENU_NOT_FOUND');
  });

  it("does not see the other store's menu in its own", async () => {
    const res = await api('GET', '/api/customer/menus', { token: a.tableToken });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain(b.menuId);
  });
});

describe("after every probe, the other store's data", () => {
  it('is untouched: its order still pending, its table, category and menu as they were', async () => {
    for (const probe of adminProbes) await expectNotFound(probe);
    expect((await orderTheirMenu()).status).toBe(404);

    const orders = await api('GET', '/api/admin/orders', { token: b.store.admin.token });
    expect(orders.body.orders).toEqual([
      expect.objectContaining({ id: b.orderId, status: 'pending' }),
    ]);
    const menu = await api('GET', `/api/admin/menus/${b.menuId}`, { token: b.store.admin.token });
    expect(menu.body).toMatchObject({
      name: '비밀 메뉴',
      price: 12_000,
      category_id: b.categoryId,
    });
    const tables = await api('GET', '/api/admin/tables', { token: b.store.admin.token });
    expect(tables.body.tables.map((t: { id: string }) => t.id)).toEqual([b.tableId]);
    const events = await outboxOf(b.store.id);
    expect(events.map((e) => e.type)).toEqual(['order.created']);
  });
});
