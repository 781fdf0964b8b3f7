import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/http.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { tabletDevice } from '../support/tablets.ts';

/**
 * A restaurant's day through nothing but the HTTP API of `npm run dev`: the super admin opens a
 * store, its admin builds the menu and tables, tablets order (some at once), the kitchen moves
 * orders along, a mistaken order is cancelled, a guest calls for water, a party moves to another
 * table and then joins a friend's, a table pays and leaves, the history and the audit trail show
 * it, and a fired admin is locked out.
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

  it('the admin builds the menu and three tables', async () => {
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
    for (const n of [1, 2, 3]) {
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
        device_id: tabletDevice(n),
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

  it('the admin cancels a mistaken order: it stays listed, and the table total leaves it out', async () => {
    const cancelled = await call(
      'POST',
      `/api/admin/orders/${ctx.orders[4]}/cancel`,
      ctx.adminToken,
      { reason: '중복 주문' },
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      cancelled_by: ctx.adminId,
      cancel_reason: '중복 주문',
    });
    const mine = await call('GET', '/api/customer/orders', ctx.tablet1);
    expect(mine.body.orders).toHaveLength(5);
    expect(mine.body.total_amount).toBe(4 * 11_500);
  });

  it('table 1 calls for water; the admin sees the call on the floor and acknowledges it', async () => {
    const asked = await call('POST', '/api/customer/calls', ctx.tablet1, { reason: 'water' });
    expect(asked.status).toBe(201);
    const again = await call('POST', '/api/customer/calls', ctx.tablet1, { reason: 'water' });
    expect([again.status, again.body.id]).toEqual([200, asked.body.id]);
    const open = await call('GET', '/api/admin/calls?status=open', ctx.adminToken);
    expect(open.body.calls).toMatchObject([{ id: asked.body.id, table_number: '1' }]);
    const floor = await call('GET', '/api/admin/dashboard', ctx.adminToken);
    const card = floor.body.tables.find((table: { id: string }) => table.id === ctx.table1);
    expect(card.open_calls).toMatchObject([{ id: asked.body.id, reason: 'water' }]);
    const done = await call(
      'POST',
      `/api/admin/calls/${asked.body.id}/acknowledge`,
      ctx.adminToken,
    );
    expect(done.body).toMatchObject({ status: 'acknowledged', acknowledged_by: ctx.adminId });
    ctx.callId = asked.body.id;
  });

  it("table 2's party moves to table 3, then joins table 1: one bill, and table 2 and 3 are free", async () => {
    const ordered = await call('POST', '/api/customer/orders', ctx.tablet2, {
      items: [{ menu_id: ctx.rice, quantity: 1 }],
    });
    expect(ordered.status).toBe(201);
    const moved = await call('POST', `/api/admin/tables/${ctx.table2}/move`, ctx.adminToken, {
      to_table_id: ctx.table3,
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ from_table_id: ctx.table2, to_table_id: ctx.table3 });
    const merged = await call('POST', `/api/admin/tables/${ctx.table3}/merge`, ctx.adminToken, {
      into_table_id: ctx.table1,
    });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ order_count: 5, total_amount: 4 * 11_500 + 1_000 });
    const floor = await call('GET', '/api/admin/dashboard', ctx.adminToken);
    const sessionAt = (id: string) =>
      floor.body.tables.find((table: { id: string }) => table.id === id).session;
    expect([sessionAt(ctx.table2), sessionAt(ctx.table3)]).toEqual([null, null]);
    expect(sessionAt(ctx.table1)).toMatchObject({ order_count: 5, total_amount: 47_000 });
    ctx.movedOrder = ordered.body.id;
  });

  it('table 1 pays and leaves: its orders move to history and the table is free', async () => {
    const done = await call(
      'POST',
      `/api/admin/tables/${ctx.table1}/complete-session`,
      ctx.adminToken,
    );
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ order_count: 5, total_amount: 47_000 });
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
    expect(history.body.pagination.total_count).toBe(6);
    expect(
      history.body.data.map((order: { original_order_id: string }) => order.original_order_id),
    ).toContain(ctx.movedOrder);
    expect(
      history.body.data.filter((order: { status: string }) => order.status === 'cancelled'),
    ).toMatchObject([{ original_order_id: ctx.orders[4], cancel_reason: '중복 주문' }]);
  });

  it('the audit trail names the admin for the cancellation, the call, the move and the merge', async () => {
    const trail = await call('GET', '/api/admin/audit?page_size=100', ctx.adminToken);
    expect(trail.status).toBe(200);
    const entries = trail.body.data as Array<{ action: string; actor_id: string }>;
    const actorsOf = (action: string) =>
      entries.filter((entry) => entry.action === action).map((entry) => entry.actor_id);
    for (const action of [
      'order.cancelled',
      'call.acknowledged',
      'session.moved',
      'session.merged',
      'session.completed',
    ]) {
      expect(actorsOf(action), action).toEqual([ctx.adminId]);
    }
    // The store and its admin were the super admin's doing.
    expect(actorsOf('admin.created')).not.toContain(ctx.adminId);
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
