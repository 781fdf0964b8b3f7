import { describe, expect, it } from 'vitest';
import { placeOrder as placeOrderRow, seatGuests } from './support/floor.ts';
import { api, newMenu, newStore, newSuperAdmin, newTable, PASSWORD } from './support/fixtures.ts';
import { placeOrder } from './support/ordering.ts';
import { randomIp } from './support/tokens.ts';

/** An id as a client may well write it: the same uuid, in upper case. */
const shouting = (id: string) => id.toUpperCase();

/** A store with a table whose tablet has been in use (its account check is cached) and a menu. */
async function storeInService() {
  const store = await newStore();
  const table = await newTable(store.id);
  const { menus } = await newMenu(store.id);
  expect((await api('GET', '/api/customer/orders', { token: table.token })).status).toBe(200);
  return { store, table, menu: menus[0]! };
}

/** The store's floor as its admin sees it: each table's order count (null when free). */
async function orderCounts(adminToken: string) {
  const res = await api('GET', '/api/admin/dashboard', { token: adminToken });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.tables.map(
    (table: { session: { order_count: number } | null }) => table.session?.order_count ?? null,
  );
}

describe('an id written in upper case is the same id', () => {
  it('deactivating an admin by it refuses the admin’s token at once (403 ACCOUNT_DISABLED)', async () => {
    const store = await newStore();
    const root = await newSuperAdmin();
    expect((await api('GET', '/api/admin/tables', { token: store.admin.token })).status).toBe(200);

    const res = await api(
      'PATCH',
      `/api/superadmin/admins/${shouting(store.admin.id)}/deactivate`,
      {
        token: root.token,
      },
    );

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: store.admin.id, is_active: false });
    const after = await api('GET', '/api/admin/tables', { token: store.admin.token });
    expect(after.status).toBe(403);
    expect(after.body.error.code).toBe('ACCOUNT_DISABLED');
  });

  it('changing a table’s password by it logs the tablet out at once (401)', async () => {
    const { store, table } = await storeInService();

    const res = await api('PATCH', `/api/admin/tables/${shouting(table.id)}`, {
      token: store.admin.token,
      body: { password: 'new-secret-9' },
    });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const after = await api('GET', '/api/customer/orders', { token: table.token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('TOKEN_INVALID');
  });

  it('removing a table by it refuses the tablet’s next order with 401, not a server error', async () => {
    const { store, table, menu } = await storeInService();

    const res = await api('DELETE', `/api/admin/tables/${shouting(table.id)}`, {
      token: store.admin.token,
    });

    expect(res.status, JSON.stringify(res.body)).toBe(204);
    const order = await placeOrder(table.token, [[menu.id, 1]]);
    expect(order.status, JSON.stringify(order.body)).toBe(401);
    expect(order.body.error.code).toBe('TOKEN_INVALID');
  });

  it('completing a stay (이용 완료) by it shows the archived orders in the table’s history', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const session = await seatGuests(store.id, table.id);
    const order = await placeOrderRow(session, [{ name: '김치찌개', price: 9000, quantity: 1 }]);
    const history = () =>
      api('GET', `/api/admin/tables/${table.id}/order-history`, { token: store.admin.token });
    expect((await history()).body.data).toEqual([]);

    const res = await api('POST', `/api/admin/tables/${shouting(table.id)}/complete-session`, {
      token: store.admin.token,
    });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const after = await history();
    expect(
      after.body.data.map((row: { original_order_id: string }) => row.original_order_id),
    ).toEqual([order.id]);
  });

  it('a tablet logged in with its store id in upper case orders into the same store', async () => {
    const { store, table, menu } = await storeInService();
    const login = await api('POST', '/api/customer/auth/login', {
      body: {
        store_id: shouting(store.id),
        table_number: table.tableNumber,
        password: PASSWORD,
        device_id: table.device,
      },
      headers: { 'cf-connecting-ip': randomIp() },
    });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.store.id).toBe(store.id);
    expect(await orderCounts(store.admin.token)).toEqual([null]);

    const order = await placeOrder(login.body.access_token, [[menu.id, 1]]);

    expect(order.status, JSON.stringify(order.body)).toBe(201);
    expect(await orderCounts(store.admin.token)).toEqual([1]);
  });

  it('an admin logged in with the store id in upper case sees the store’s orders as they come', async () => {
    const { store, table, menu } = await storeInService();
    const login = await api('POST', '/api/admin/auth/login', {
      body: { store_id: shouting(store.id), username: store.admin.username, password: PASSWORD },
      headers: { 'cf-connecting-ip': randomIp() },
    });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.admin.store_id).toBe(store.id);
    const admin = login.body.access_token;
    expect(await orderCounts(admin)).toEqual([null]);

    expect((await placeOrder(table.token, [[menu.id, 1]])).status).toBe(201);

    expect(await orderCounts(admin)).toEqual([1]);
  });
});
