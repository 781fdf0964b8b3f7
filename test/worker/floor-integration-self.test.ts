import { describe, expect, it } from 'vitest';
import {
  KITCHEN_STATUSES,
  ORDER_STATUSES,
  type KitchenStatus,
  type OrderStatus,
} from '../../db/schema.ts';
import {
  linesOfOrders,
  orderView,
  ordersWithIds,
  placeOrder,
  placeOrders,
  seatGuests,
  type Line,
} from './support/floor.ts';
import { api, newMenu, newStore, newTable, outboxOf } from './support/fixtures.ts';

const KIMCHI: Line = { name: '김치찌개', price: 9000, quantity: 2 };
const BIBIMBAP: Line = { name: '비빔밥', price: 8000, quantity: 1 };
const NEXT: Record<OrderStatus, KitchenStatus | null> = {
  pending: 'preparing',
  preparing: 'cooked',
  cooked: 'delivered',
  delivered: null,
  cancelled: null,
};

/** A store with one seated table. */
async function seatedStore() {
  const store = await newStore();
  const table = await newTable(store.id, '1');
  const session = await seatGuests(store.id, table.id);
  return { store, table, session };
}

describe('the floor at a glance (dashboard)', () => {
  it('shows every table by number, with the seated ones’ totals and three newest orders', async () => {
    const store = await newStore();
    const { menus } = await newMenu(store.id, [['김치찌개', 9000]]);
    const table3 = await newTable(store.id, '3');
    const table1 = await newTable(store.id, '1');
    const table2 = await newTable(store.id, '2');
    const busy = await seatGuests(store.id, table1.id);
    const kimchi = { ...KIMCHI, menuId: menus[0]!.id };
    const placed = await placeOrders(busy, [
      { lines: [kimchi] },
      { lines: [BIBIMBAP], status: 'delivered' },
      { lines: [kimchi, BIBIMBAP], status: 'preparing' },
      { lines: [BIBIMBAP] },
    ]);
    const emptied = await seatGuests(store.id, table2.id);
    const other = await seatedStore();
    await placeOrder(other.session, [KIMCHI]);

    const res = await api('GET', '/api/admin/dashboard', { token: store.admin.token });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      tables: [
        {
          id: table1.id,
          table_number: '1',
          session: {
            id: busy.id,
            started_at: busy.startedAt.toISOString(),
            total_amount: 18000 + 8000 + 26000 + 8000,
            order_count: 4,
            unacknowledged_count: 2,
            latest_orders: [placed[3]!, placed[2]!, placed[1]!].map((o) => orderView(busy, o)),
          },
          open_calls: [],
        },
        {
          id: table2.id,
          table_number: '2',
          session: {
            id: emptied.id,
            started_at: emptied.startedAt.toISOString(),
            total_amount: 0,
            order_count: 0,
            unacknowledged_count: 0,
            latest_orders: [],
          },
          open_calls: [],
        },
        { id: table3.id, table_number: '3', session: null, open_calls: [] },
      ],
      unacknowledged_count: 2,
    });
  });

  it('shows an empty floor for a store without tables', async () => {
    const store = await newStore();
    const res = await api('GET', '/api/admin/dashboard', { token: store.admin.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tables: [], unacknowledged_count: 0 });
  });

  it('is for store admins only', async () => {
    const { table } = await seatedStore();
    expect((await api('GET', '/api/admin/dashboard')).body.error.code).toBe('TOKEN_MISSING');
    const res = await api('GET', '/api/admin/dashboard', { token: table.token });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });
});

describe('the list of current orders', () => {
  it('lists the orders of seated tables, newest first, and nothing of other stores', async () => {
    const { store, session } = await seatedStore();
    const table2 = await newTable(store.id, '2');
    const session2 = await seatGuests(store.id, table2.id);
    const first = await placeOrder(session, [KIMCHI]);
    const second = await placeOrder(session2, [BIBIMBAP], { status: 'cooked' });
    const third = await placeOrder(session, [KIMCHI, BIBIMBAP], { status: 'preparing' });
    const other = await seatedStore();
    await placeOrder(other.session, [KIMCHI]);

    const res = await api('GET', '/api/admin/orders', { token: store.admin.token });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      orders: [orderView(session, third), orderView(session2, second), orderView(session, first)],
    });
  });

  it('filters by table, by state, and by both', async () => {
    const { store, table, session } = await seatedStore();
    const table2 = await newTable(store.id, '2');
    const session2 = await seatGuests(store.id, table2.id);
    const [pending, cooked] = await placeOrders(session, [
      { lines: [KIMCHI] },
      { lines: [BIBIMBAP], status: 'cooked' },
    ]);
    const otherCooked = await placeOrder(session2, [KIMCHI], { status: 'cooked' });
    const list = (query: string) =>
      api('GET', `/api/admin/orders?${query}`, { token: store.admin.token });

    expect((await list(`table_id=${table.id}`)).body).toEqual({
      orders: [orderView(session, cooked!), orderView(session, pending!)],
    });
    expect((await list('status=cooked')).body).toEqual({
      orders: [orderView(session2, otherCooked), orderView(session, cooked!)],
    });
    expect((await list(`table_id=${table.id}&status=pending`)).body).toEqual({
      orders: [orderView(session, pending!)],
    });
    expect((await list('status=delivered')).body).toEqual({ orders: [] });
  });

  it("answers 404 for another store's table or a table that does not exist", async () => {
    const { store } = await seatedStore();
    const other = await seatedStore();
    await placeOrder(other.session, [KIMCHI]);
    for (const tableId of [other.table.id, crypto.randomUUID()]) {
      const res = await api('GET', `/api/admin/orders?table_id=${tableId}`, {
        token: store.admin.token,
      });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('refuses an unknown state or a malformed table id (400)', async () => {
    const { store } = await seatedStore();
    for (const query of ['status=eaten', 'status=PENDING', 'table_id=12']) {
      const res = await api('GET', `/api/admin/orders?${query}`, { token: store.admin.token });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('is for store admins only', async () => {
    const { table } = await seatedStore();
    expect((await api('GET', '/api/admin/orders')).status).toBe(401);
    expect((await api('GET', '/api/admin/orders', { token: table.token })).status).toBe(403);
  });
});

describe('moving an order through the kitchen', () => {
  const patch = (token: string, id: string, body: unknown) =>
    api('PATCH', `/api/admin/orders/${id}/status`, { token, body });

  it('goes pending → preparing → cooked → delivered, one event per step', async () => {
    const { store, table, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI, BIBIMBAP]);

    // Starting the order acknowledges it, once.
    const acknowledged = { acknowledged_at: expect.any(String), acknowledged_by: store.admin.id };
    for (const to of ['preparing', 'cooked', 'delivered'] as const) {
      const res = await patch(store.admin.token, order.id, { status: to });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ ...orderView(session, order, to), ...acknowledged });
      acknowledged.acknowledged_at = res.body.acknowledged_at;
    }

    expect((await ordersWithIds([order.id]))[0]!.status).toBe('delivered');
    const events = await outboxOf(store.id);
    expect(
      events.map((e) => ({
        type: e.type,
        tableId: e.tableId,
        tableSessionId: e.tableSessionId,
        payload: e.payload,
      })),
    ).toEqual(
      [
        ['pending', 'preparing'],
        ['preparing', 'cooked'],
        ['cooked', 'delivered'],
      ].map(([from, to]) => ({
        type: 'order.status_changed',
        tableId: table.id,
        tableSessionId: session.id,
        payload: { order_id: order.id, from, to, ...(from === 'pending' ? acknowledged : {}) },
      })),
    );
  });

  it('refuses every other move — same state, skipping, going back, after delivery or cancelling (409)', async () => {
    const { store, session } = await seatedStore();
    for (const from of ORDER_STATUSES) {
      const order = await placeOrder(session, [KIMCHI], { status: from });
      for (const to of KITCHEN_STATUSES.filter((status) => status !== NEXT[from])) {
        const res = await patch(store.admin.token, order.id, { status: to });
        expect(res.status, `${from} → ${to}`).toBe(409);
        expect(res.body.error).toMatchObject({
          code: 'INVALID_STATUS_TRANSITION',
          details: { from, to },
        });
      }
      expect((await ordersWithIds([order.id]))[0]!.status).toBe(from);
    }
    expect(await outboxOf(store.id)).toEqual([]);
  });

  it('lets only one of two admins pressing at once move the order', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const results = await Promise.all([
      patch(store.admin.token, order.id, { status: 'preparing' }),
      patch(store.admin.token, order.id, { status: 'preparing' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await outboxOf(store.id)).map((e) => e.type)).toEqual(['order.status_changed']);
  });

  it("answers 404 for another store's order, and leaves it as it was", async () => {
    const { store } = await seatedStore();
    const other = await seatedStore();
    const order = await placeOrder(other.session, [KIMCHI]);
    for (const id of [order.id, crypto.randomUUID()]) {
      const res = await patch(store.admin.token, id, { status: 'preparing' });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect((await ordersWithIds([order.id]))[0]!.status).toBe('pending');
    expect(await outboxOf(other.store.id)).toEqual([]);
  });

  it('refuses a malformed request (400)', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const token = store.admin.token;
    for (const body of [
      {},
      { status: 'eaten' },
      { status: 1 },
      { status: null },
      { status: 'cancelled' },
      { status: 'preparing', reason: 'extra' },
    ]) {
      const res = await patch(token, order.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    const raw = await api('PATCH', `/api/admin/orders/${order.id}/status`, {
      token,
      rawBody: '{',
    });
    expect(raw.status).toBe(400);
    expect(raw.body.error.code).toBe('VALIDATION_ERROR');
    expect((await patch(token, 'not-a-uuid', { status: 'preparing' })).status).toBe(400);
    expect((await ordersWithIds([order.id]))[0]!.status).toBe('pending');
  });

  it('is for store admins only', async () => {
    const { table, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const path = `/api/admin/orders/${order.id}/status`;
    const body = { status: 'preparing' };
    expect((await api('PATCH', path, { body })).status).toBe(401);
    expect((await api('PATCH', path, { body, token: table.token })).status).toBe(403);
    expect((await ordersWithIds([order.id]))[0]!.status).toBe('pending');
  });
});

describe('cancelling an order without a reason (DELETE)', () => {
  it('keeps the order as cancelled, whatever its state, and the totals leave it out', async () => {
    const { store, table, session } = await seatedStore();
    const [kept, delivered] = await placeOrders(session, [
      { lines: [KIMCHI] },
      { lines: [KIMCHI, BIBIMBAP], status: 'delivered' },
    ]);

    const res = await api('DELETE', `/api/admin/orders/${delivered!.id}`, {
      token: store.admin.token,
    });

    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    const [row] = await ordersWithIds([delivered!.id]);
    expect(row).toMatchObject({ status: 'cancelled', cancelledBy: store.admin.id });
    expect(row!.cancelReason).toBeNull();
    expect(row!.cancelledAt).toBeInstanceOf(Date);
    expect(await linesOfOrders([delivered!.id])).toHaveLength(2);
    const cancelled = {
      ...orderView(session, delivered!, 'cancelled'),
      cancelled_at: row!.cancelledAt!.toISOString(),
      cancelled_by: store.admin.id,
    };
    const dashboard = await api('GET', '/api/admin/dashboard', { token: store.admin.token });
    expect(dashboard.body.tables[0].session).toMatchObject({
      total_amount: 18000,
      order_count: 1,
      latest_orders: [cancelled, orderView(session, kept!)],
    });
    const listed = await api('GET', '/api/admin/orders', { token: store.admin.token });
    expect(listed.body.orders).toEqual([cancelled, orderView(session, kept!)]);
    expect(await outboxOf(store.id)).toMatchObject([
      {
        type: 'order.cancelled',
        tableId: table.id,
        tableSessionId: session.id,
        payload: cancelled,
        actorRole: 'store_admin',
        actorId: store.admin.id,
      },
    ]);
  });

  it('answers 409 ORDER_ALREADY_CANCELLED the second time', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const path = `/api/admin/orders/${order.id}`;
    expect((await api('DELETE', path, { token: store.admin.token })).status).toBe(204);
    const again = await api('DELETE', path, { token: store.admin.token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ORDER_ALREADY_CANCELLED');
    expect(await outboxOf(store.id)).toHaveLength(1);
  });

  it("answers 404 for another store's order, and keeps it as it was", async () => {
    const { store } = await seatedStore();
    const other = await seatedStore();
    const order = await placeOrder(other.session, [KIMCHI]);
    for (const id of [order.id, crypto.randomUUID()]) {
      const res = await api('DELETE', `/api/admin/orders/${id}`, { token: store.admin.token });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect(await ordersWithIds([order.id])).toMatchObject([{ status: 'pending' }]);
    expect(await linesOfOrders([order.id])).toHaveLength(1);
    expect(await outboxOf(other.store.id)).toEqual([]);
  });

  it('refuses a malformed id (400), and is for store admins only', async () => {
    const { store, table, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const bad = await api('DELETE', '/api/admin/orders/42', { token: store.admin.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    expect((await api('DELETE', `/api/admin/orders/${order.id}`)).status).toBe(401);
    const asTable = await api('DELETE', `/api/admin/orders/${order.id}`, { token: table.token });
    expect(asTable.status).toBe(403);
    expect(await ordersWithIds([order.id])).toMatchObject([{ status: 'pending' }]);
  });
});
