import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/http.ts';
import { startStack, type Stack } from '../support/stack.ts';

/**
 * A restaurant's day through nothing but the HTTP API of `npm run dev`: the super admin opens a
 * store, its admin builds the menu and tables, tablets order (some at once), the kitchen moves
 * orders along, a table pays and leaves, the history shows it, and a fired admin is locked out.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  call = apiClient(stack.workerUrl);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

let call: ReturnType<typeof apiClient>;

const ctx: Record<string, any> = {};

describe("a restaurant's day", () => {
  it('the super admin opens a store and hires its admin', async () => {
    const login = await call('POST', '/api/superadmin/auth/login', undefined, {
      username: 'superadmin',
      password: 'superadmin1234',
    });
    expect(login.status).toBe(200);
    ctx.superToken = login.body.access_token;
    const store = await call('POST', '/api/superadmin/stores', ctx.superToken, {
      name: '한밤 식당',
    });
    expect(store.status).toBe(201);
    ctx.storeId = store.body.id;
    const admin = await call('POST', '/api/superadmin/admins', ctx.superToken, {
      store_id: ctx.storeId,
      username: 'night-owner',
      password: 'owner-pass-1',
    });
    expect(admin.status).toBe(201);
    ctx.adminId = admin.body.id;
    const adminLogin = await call('POST', '/api/admin/auth/login', undefined, {
      store_id: ctx.storeId,
      username: 'night-owner',
      password: 'owner-pass-1',
    });
    expect(adminLogin.status).toBe(200);
    ctx.adminToken = adminLogin.body.access_token;
  });

  it('the admin builds the menu and two tables', async () => {
    const category = await call('POST', '/api/admin/categories', ctx.adminToken, { name: '국물' });
    expect(category.status).toBe(201);
    const soup = await call('POST', '/api/admin/menus', ctx.adminToken, {
      category_id: category.body.id,
      name: '순대국',
      price: 9_500,
    });
    const rice = await call('POST', '/api/admin/menus', ctx.adminToken, {
      category_id: category.body.id,
      name: '공기밥',
      price: 1_000,
    });
    expect([soup.status, rice.status]).toEqual([201, 201]);
    ctx.soup = soup.body.id;
    ctx.rice = rice.body.id;
    for (const n of [1, 2]) {
      const table = await call('POST', '/api/admin/tables', ctx.adminToken, {
        table_number: n,
        password: '4321',
      });
      expect(table.status).toBe(201);
      ctx[`table${n}`] = table.body.id;
    }
  });

  it('tablets log in and see the menu', async () => {
    for (const n of [1, 2]) {
      const login = await call('POST', '/api/customer/auth/login', undefined, {
        store_id: ctx.storeId,
        table_number: n,
        password: '4321',
      });
      expect(login.status).toBe(200);
      ctx[`tablet${n}`] = login.body.access_token;
    }
    const menu = await call('GET', '/api/customer/menus', ctx.tablet1);
    expect(menu.body.categories[0].menus.map((m: { name: string }) => m.name)).toEqual([
      '순대국',
      '공기밥',
    ]);
  });

  it('five guests at table 1 order at the same moment: one session, five numbered orders', async () => {
    const orders = await Promise.all(
      Array.from({ length: 5 }, () =>
        call('POST', '/api/customer/orders', ctx.tablet1, {
          items: [
            { menu_id: ctx.soup, quantity: 1 },
            { menu_id: ctx.rice, quantity: 2 },
          ],
        }),
      ),
    );
    expect(orders.map((o) => o.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(orders.map((o) => o.body.table_session_id)).size).toBe(1);
    expect(orders.map((o) => o.body.order_number).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    expect(orders[0]!.body.total_amount).toBe(11_500);
    ctx.orders = orders.map((o) => o.body.id);
  });

  it('the kitchen moves an order along, one step at a time', async () => {
    const id = ctx.orders[0];
    const skip = await call('PATCH', `/api/admin/orders/${id}/status`, ctx.adminToken, {
      status: 'cooked',
    });
    expect(skip.status).toBe(409);
    expect(skip.body.error.code).toBe('INVALID_STATUS_TRANSITION');
    for (const status of ['preparing', 'cooked', 'delivered']) {
      const step = await call('PATCH', `/api/admin/orders/${id}/status`, ctx.adminToken, {
        status,
      });
      expect(step.status).toBe(200);
      expect(step.body.status).toBe(status);
    }
  });

  it('the admin removes a mistaken order and the table total follows', async () => {
    expect(
      (await call('DELETE', `/api/admin/orders/${ctx.orders[4]}`, ctx.adminToken)).status,
    ).toBe(204);
    const mine = await call('GET', '/api/customer/orders', ctx.tablet1);
    expect(mine.body.orders).toHaveLength(4);
    expect(mine.body.total_amount).toBe(4 * 11_500);
  });

  it('table 1 pays and leaves: its orders move to history and the table is free', async () => {
    const done = await call(
      'POST',
      `/api/admin/tables/${ctx.table1}/complete-session`,
      ctx.adminToken,
    );
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ order_count: 4, total_amount: 46_000 });
    const again = await call(
      'POST',
      `/api/admin/tables/${ctx.table1}/complete-session`,
      ctx.adminToken,
    );
    expect(again.body.error.code).toBe('NO_ACTIVE_SESSION');
    const mine = await call('GET', '/api/customer/orders', ctx.tablet1);
    expect(mine.body).toEqual({ table_session_id: null, total_amount: 0, orders: [] });
    const history = await call(
      'GET',
      `/api/admin/tables/${ctx.table1}/order-history`,
      ctx.adminToken,
    );
    expect(history.body.pagination.total_count).toBe(4);
    expect(history.body.data[0].items).toHaveLength(2);
  });

  it('a deactivated admin is locked out at once', async () => {
    const off = await call(
      'PATCH',
      `/api/superadmin/admins/${ctx.adminId}/deactivate`,
      ctx.superToken,
    );
    expect(off.status).toBe(200);
    const refused = await call('GET', '/api/admin/dashboard', ctx.adminToken);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('ACCOUNT_DISABLED');
  });
});
