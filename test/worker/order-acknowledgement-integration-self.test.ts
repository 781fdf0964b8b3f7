import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { auditOf } from './support/audit.ts';
import {
  orderView,
  ordersWithIds,
  placeOrder,
  placeOrders,
  seatGuests,
  type Line,
  type PlacedOrder,
  type Session,
} from './support/floor.ts';
import { api, newStore, newStoreAdmin, newTable, outboxOf, withDb } from './support/fixtures.ts';
import { diningRoom, placeOrder as orderAsGuest } from './support/ordering.ts';

const KIMCHI: Line = { name: '김치찌개', price: 9000, quantity: 2 };
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A store with one seated table. */
async function seatedStore() {
  const store = await newStore();
  const table = await newTable(store.id, '1');
  const session = await seatGuests(store.id, table.id);
  return { store, table, session };
}

const acknowledge = (token: string, orderId: string) =>
  api('POST', `/api/admin/orders/${orderId}/acknowledge`, { token });

const startPreparing = (token: string, orderId: string) =>
  api('PATCH', `/api/admin/orders/${orderId}/status`, { token, body: { status: 'preparing' } });

/** The order as every answer shows it once an admin has seen to it. */
function acknowledgedView(
  session: Session,
  order: PlacedOrder,
  record: { at: string; by: string },
  status = order.status,
) {
  return {
    ...orderView(session, order, status),
    acknowledged_at: record.at,
    acknowledged_by: record.by,
  };
}

/** The store's events of one type, as the outbox keeps them. */
async function eventsOf(storeId: string, type: schema.EventType) {
  return (await outboxOf(storeId)).filter((row) => row.type === type);
}

/** Sets a store's acknowledgement time behind the API's back. */
function setAckSeconds(storeId: string, seconds: number) {
  return withDb((db) =>
    db.update(schema.stores).set({ orderAckSeconds: seconds }).where(eq(schema.stores.id, storeId)),
  );
}

describe('acknowledging an order (주문 확인)', () => {
  it('records when and by which admin, on every answer of the order, and tells the floor', async () => {
    const { store, table, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const before = Date.now();

    const res = await acknowledge(store.admin.token, order.id);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual(
      acknowledgedView(session, order, { at: expect.stringMatching(ISO_TIME), by: store.admin.id }),
    );
    expect(Date.parse(res.body.acknowledged_at)).toBeGreaterThanOrEqual(before - 1_000);
    expect(await ordersWithIds([order.id])).toMatchObject([
      {
        status: 'pending',
        acknowledgedAt: new Date(res.body.acknowledged_at),
        acknowledgedBy: store.admin.id,
      },
    ]);
    const listed = await api('GET', '/api/admin/orders', { token: store.admin.token });
    expect(listed.body.orders).toEqual([res.body]);
    const guests = await api('GET', '/api/customer/orders', { token: table.token });
    expect(guests.body.orders).toEqual([res.body]);

    expect(await eventsOf(store.id, 'order.acknowledged')).toMatchObject([
      {
        tableId: table.id,
        tableSessionId: session.id,
        payload: {
          order_id: order.id,
          acknowledged_at: res.body.acknowledged_at,
          acknowledged_by: store.admin.id,
        },
        actorRole: 'store_admin',
        actorId: store.admin.id,
      },
    ]);
    expect(await auditOf(store.id)).toMatchObject([
      {
        actorRole: 'store_admin',
        actorId: store.admin.id,
        action: 'order.acknowledged',
        targetType: 'order',
        targetId: order.id,
        details: { order_number: order.orderNumber },
      },
    ]);
  });

  it('shows a new order as not yet acknowledged', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const listed = await api('GET', '/api/admin/orders', { token: store.admin.token });
    expect(listed.body.orders).toEqual([orderView(session, order)]);
    expect(listed.body.orders[0]).toMatchObject({ acknowledged_at: null, acknowledged_by: null });
  });

  it('answers an acknowledged order as it is, with no second event or audit row', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const first = await acknowledge(store.admin.token, order.id);
    const colleague = await acknowledge((await newStoreAdmin(store.id)).token, order.id);

    expect(colleague.status, JSON.stringify(colleague.body)).toBe(200);
    expect(colleague.body).toEqual(first.body);
    expect(await eventsOf(store.id, 'order.acknowledged')).toHaveLength(1);
    expect((await auditOf(store.id)).map((row) => row.action)).toEqual(['order.acknowledged']);
  });

  it('of two admins pressing at once, records one acknowledgement', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const answers = await Promise.all([
      acknowledge(store.admin.token, order.id),
      acknowledge(store.admin.token, order.id),
    ]);
    expect(answers.map((res) => res.status)).toEqual([200, 200]);
    expect(answers[0]!.body).toEqual(answers[1]!.body);
    expect(await eventsOf(store.id, 'order.acknowledged')).toHaveLength(1);
    expect(await auditOf(store.id)).toHaveLength(1);
  });

  it('refuses a cancelled order (409 ORDER_ALREADY_CANCELLED) and records nothing', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI], { status: 'cancelled' });
    const res = await acknowledge(store.admin.token, order.id);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'ORDER_ALREADY_CANCELLED',
      message: expect.any(String),
    });
    expect(await ordersWithIds([order.id])).toMatchObject([{ acknowledgedAt: null }]);
    expect(await outboxOf(store.id)).toEqual([]);
    expect(await auditOf(store.id)).toEqual([]);
  });

  it("cannot reach another store's order, an unknown one or one already in the history (404)", async () => {
    const { store } = await seatedStore();
    const other = await seatedStore();
    const theirs = await placeOrder(other.session, [KIMCHI]);
    const archived = await seatedStore();
    const done = await placeOrder(archived.session, [KIMCHI]);
    const completed = await api('POST', `/api/admin/tables/${archived.table.id}/complete-session`, {
      token: archived.store.admin.token,
    });
    expect(completed.status).toBe(200);

    for (const [token, id] of [
      [store.admin.token, theirs.id],
      [store.admin.token, crypto.randomUUID()],
      [archived.store.admin.token, done.id],
    ] as const) {
      const res = await acknowledge(token, id);
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect(await ordersWithIds([theirs.id])).toMatchObject([{ acknowledgedAt: null }]);
    expect(await outboxOf(other.store.id)).toEqual([]);

    const malformed = await acknowledge(store.admin.token, 'not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('is for store admins only', async () => {
    const { table, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const anonymous = await api('POST', `/api/admin/orders/${order.id}/acknowledge`);
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'TOKEN_MISSING']);
    const tablet = await acknowledge(table.token, order.id);
    expect([tablet.status, tablet.body.error.code]).toEqual([403, 'FORBIDDEN']);
    expect(await ordersWithIds([order.id])).toMatchObject([{ acknowledgedAt: null }]);
  });
});

describe('starting an order (pending → preparing)', () => {
  it('acknowledges it too, in the same change: its event and audit row say so', async () => {
    const { store, table, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);

    const res = await startPreparing(store.admin.token, order.id);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual(
      acknowledgedView(
        session,
        order,
        { at: expect.stringMatching(ISO_TIME), by: store.admin.id },
        'preparing',
      ),
    );
    expect(await outboxOf(store.id)).toMatchObject([
      {
        type: 'order.status_changed',
        tableId: table.id,
        tableSessionId: session.id,
        payload: {
          order_id: order.id,
          from: 'pending',
          to: 'preparing',
          acknowledged_at: res.body.acknowledged_at,
          acknowledged_by: store.admin.id,
        },
        actorId: store.admin.id,
      },
    ]);
    expect((await auditOf(store.id)).map((row) => [row.action, row.details])).toEqual([
      ['order.status_changed', { from: 'pending', to: 'preparing', acknowledged: true }],
    ]);
  });

  it('keeps an earlier acknowledgement as it was', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const acknowledged = await acknowledge(store.admin.token, order.id);

    const res = await startPreparing(store.admin.token, order.id);

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'preparing',
      acknowledged_at: acknowledged.body.acknowledged_at,
      acknowledged_by: store.admin.id,
    });
    expect((await outboxOf(store.id)).map((row) => [row.type, row.payload])).toEqual([
      ['order.acknowledged', expect.anything()],
      ['order.status_changed', { order_id: order.id, from: 'pending', to: 'preparing' }],
    ]);
  });

  it('leaves the acknowledgement of the later steps alone', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI], { status: 'preparing' });
    const res = await api('PATCH', `/api/admin/orders/${order.id}/status`, {
      token: store.admin.token,
      body: { status: 'cooked' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'cooked', acknowledged_at: null });
    expect((await outboxOf(store.id)).map((row) => row.type)).toEqual(['order.status_changed']);
  });
});

describe("a new order's event", () => {
  it("carries the store's acknowledgement time as it was when the order was taken", async () => {
    const { store, table, stew } = await diningRoom();
    await setAckSeconds(store.id, 45);

    const res = await orderAsGuest(table.token, [[stew.id, 1]]);

    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ acknowledged_at: null, acknowledged_by: null });
    expect(res.body).not.toHaveProperty('ack_seconds');
    const [created] = await eventsOf(store.id, 'order.created');
    expect(created!.payload).toEqual({ ...res.body, ack_seconds: 45 });

    await setAckSeconds(store.id, 300);
    const later = await orderAsGuest(table.token, [[stew.id, 1]]);
    const events = await eventsOf(store.id, 'order.created');
    expect(events.map((row) => (row.payload as { ack_seconds: number }).ack_seconds)).toEqual([
      45, 300,
    ]);
    expect((events[1]!.payload as { id: string }).id).toBe(later.body.id);
  });
});

describe('the dashboard counts the orders nobody has seen to', () => {
  it('per seated table and for the whole floor: not cancelled, not acknowledged, not started', async () => {
    const store = await newStore();
    const one = await newTable(store.id, '1');
    const two = await newTable(store.id, '2');
    await newTable(store.id, '3');
    const first = await seatGuests(store.id, one.id);
    const second = await seatGuests(store.id, two.id);
    const [waiting, seen] = await placeOrders(first, [
      { lines: [KIMCHI] },
      { lines: [KIMCHI] },
      { lines: [KIMCHI] },
      { lines: [KIMCHI], status: 'cancelled' },
    ]);
    await placeOrders(second, [{ lines: [KIMCHI] }]);
    const other = await seatedStore();
    await placeOrder(other.session, [KIMCHI]);
    const dashboard = () => api('GET', '/api/admin/dashboard', { token: store.admin.token });
    const counts = (body: {
      unacknowledged_count: number;
      tables: Array<{ id: string; session: { unacknowledged_count: number } | null }>;
    }) => [
      body.unacknowledged_count,
      body.tables.map((table) => table.session?.unacknowledged_count ?? null),
    ];

    expect(counts((await dashboard()).body)).toEqual([4, [3, 1, null]]);

    expect((await acknowledge(store.admin.token, seen!.id)).status).toBe(200);
    expect((await startPreparing(store.admin.token, waiting!.id)).status).toBe(200);
    expect(counts((await dashboard()).body)).toEqual([2, [1, 1, null]]);

    const done = await api('POST', `/api/admin/tables/${two.id}/complete-session`, {
      token: store.admin.token,
    });
    expect(done.status).toBe(200);
    expect(counts((await dashboard()).body)).toEqual([1, [1, null, null]]);
  });
});
