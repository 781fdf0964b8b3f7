import { describe, expect, it } from 'vitest';
import { CANCEL_REASON_MAX_LENGTH, KITCHEN_STATUSES } from '../../db/schema.ts';
import { auditOf } from './support/audit.ts';
import {
  historyOfSession,
  orderView,
  ordersWithIds,
  placeOrder,
  placeOrders,
  seatGuests,
  type Line,
  type PlacedOrder,
  type Session,
} from './support/floor.ts';
import { api, newMenu, newStore, newTable, outboxOf } from './support/fixtures.ts';
import { ordersOfTable, placeOrder as orderAsGuest } from './support/ordering.ts';

const KIMCHI: Line = { name: '김치찌개', price: 9000, quantity: 2 };
const BIBIMBAP: Line = { name: '비빔밥', price: 8000, quantity: 1 };

/** A store with one seated table. */
async function seatedStore() {
  const store = await newStore();
  const table = await newTable(store.id, '1');
  const session = await seatGuests(store.id, table.id);
  return { store, table, session };
}

const cancel = (token: string, orderId: string, body: unknown = {}) =>
  api('POST', `/api/admin/orders/${orderId}/cancel`, { token, body });

/** The order as every answer shows it once cancelled: when, by which admin, why. */
function cancelledView(
  session: Session,
  order: PlacedOrder,
  record: { at: string; by: string; reason: string | null },
) {
  return {
    ...orderView(session, order, 'cancelled'),
    cancelled_at: record.at,
    cancelled_by: record.by,
    cancel_reason: record.reason,
  };
}

describe('cancelling an order (void)', () => {
  it('cancels an order from any kitchen state and keeps it, with who, when and why', async () => {
    const { store, session } = await seatedStore();
    for (const status of KITCHEN_STATUSES) {
      const order = await placeOrder(session, [KIMCHI, BIBIMBAP], { status });
      const before = Date.now();

      const res = await cancel(store.admin.token, order.id, { reason: '  손님 요청: 주문 착오  ' });

      expect(res.status, `${status}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body).toEqual(
        cancelledView(session, order, {
          at: expect.any(String),
          by: store.admin.id,
          reason: '손님 요청: 주문 착오',
        }),
      );
      expect(Date.parse(res.body.cancelled_at)).toBeGreaterThanOrEqual(before - 1_000);
      expect(await ordersWithIds([order.id])).toMatchObject([
        {
          status: 'cancelled',
          cancelledAt: new Date(res.body.cancelled_at),
          cancelledBy: store.admin.id,
          cancelReason: '손님 요청: 주문 착오',
        },
      ]);
    }
  });

  it('takes no reason, a blank one or null as none, and a reason of several lines up to its limit', async () => {
    const { store, session } = await seatedStore();
    const longest = '가'.repeat(CANCEL_REASON_MAX_LENGTH);
    for (const [body, reason] of [
      [{}, null],
      [{ reason: '   ' }, null],
      [{ reason: null }, null],
      [{ reason: '음식이 늦게 나와서\n손님이 취소' }, '음식이 늦게 나와서\n손님이 취소'],
      [{ reason: longest }, longest],
    ] as const) {
      const order = await placeOrder(session, [KIMCHI]);
      const res = await cancel(store.admin.token, order.id, body);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(res.body.cancel_reason, JSON.stringify(body)).toBe(reason);
    }
  });

  it('refuses a reason too long, an unknown field or a malformed body (400), and changes nothing', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    for (const body of [
      { reason: '가'.repeat(CANCEL_REASON_MAX_LENGTH + 1) },
      { reason: 5 },
      { reason: 'nul\u0000' },
      { reason: '손님 요청', status: 'cancelled' },
      [],
      '손님 요청',
    ]) {
      const res = await cancel(store.admin.token, order.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    const raw = await api('POST', `/api/admin/orders/${order.id}/cancel`, {
      token: store.admin.token,
      rawBody: '{',
    });
    expect(raw.status).toBe(400);
    expect(raw.body.error.code).toBe('VALIDATION_ERROR');
    expect((await cancel(store.admin.token, 'order-1')).status).toBe(400);

    expect(await ordersWithIds([order.id])).toMatchObject([
      { status: 'pending', cancelledAt: null },
    ]);
    expect(await outboxOf(store.id)).toEqual([]);
    expect(await auditOf(store.id)).toEqual([]);
  });

  it('answers 409 ORDER_ALREADY_CANCELLED the second time, by POST or DELETE, and keeps the first record', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const first = await cancel(store.admin.token, order.id, { reason: '손님 요청' });
    expect(first.status).toBe(200);

    const again = await cancel(store.admin.token, order.id, { reason: '다른 이유' });
    const deleted = await api('DELETE', `/api/admin/orders/${order.id}`, {
      token: store.admin.token,
    });

    for (const res of [again, deleted]) {
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('ORDER_ALREADY_CANCELLED');
    }
    const listed = await api('GET', '/api/admin/orders', { token: store.admin.token });
    expect(listed.body.orders).toEqual([first.body]);
    expect(await outboxOf(store.id)).toHaveLength(1);
    expect(await auditOf(store.id)).toHaveLength(1);
  });

  it('lets only one of two admins cancelling at once through', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);

    const answers = await Promise.all([
      cancel(store.admin.token, order.id, { reason: '첫째' }),
      cancel(store.admin.token, order.id, { reason: '둘째' }),
    ]);

    expect(answers.map((res) => res.status).toSorted()).toEqual([200, 409]);
    const winner = answers.find((res) => res.status === 200)!;
    expect(await ordersWithIds([order.id])).toMatchObject([
      { cancelReason: winner.body.cancel_reason },
    ]);
    expect((await outboxOf(store.id)).map((row) => row.type)).toEqual(['order.cancelled']);
    expect((await auditOf(store.id)).map((row) => row.action)).toEqual(['order.cancelled']);
  });

  it('leaves a cancelled order where it is: no kitchen state any more (409)', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    expect((await cancel(store.admin.token, order.id)).status).toBe(200);

    for (const to of KITCHEN_STATUSES) {
      const res = await api('PATCH', `/api/admin/orders/${order.id}/status`, {
        token: store.admin.token,
        body: { status: to },
      });
      expect(res.status, to).toBe(409);
      expect(res.body.error).toMatchObject({
        code: 'INVALID_STATUS_TRANSITION',
        details: { from: 'cancelled', to },
      });
    }
    expect(await ordersWithIds([order.id])).toMatchObject([{ status: 'cancelled' }]);
    expect((await outboxOf(store.id)).map((row) => row.type)).toEqual(['order.cancelled']);
  });

  it("answers 404 for another store's order, an unknown one or one already archived, and changes nothing", async () => {
    const { store, table, session } = await seatedStore();
    const archived = await placeOrder(session, [KIMCHI]);
    const done = await api('POST', `/api/admin/tables/${table.id}/complete-session`, {
      token: store.admin.token,
    });
    expect(done.status).toBe(200);
    const other = await seatedStore();
    const theirs = await placeOrder(other.session, [KIMCHI]);

    for (const id of [theirs.id, crypto.randomUUID(), archived.id]) {
      const res = await cancel(store.admin.token, id, { reason: '착오' });
      expect(res.status, id).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }

    expect(await ordersWithIds([theirs.id])).toMatchObject([{ status: 'pending' }]);
    expect(await historyOfSession(session.id)).toMatchObject([{ status: 'pending' }]);
    expect(await outboxOf(other.store.id)).toEqual([]);
    expect(await auditOf(other.store.id)).toEqual([]);
    expect((await auditOf(store.id)).map((row) => row.action)).toEqual(['session.completed']);
  });

  it('is for store admins only', async () => {
    const { table, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const path = `/api/admin/orders/${order.id}/cancel`;
    expect((await api('POST', path, { body: {} })).status).toBe(401);
    expect((await api('POST', path, { token: table.token, body: {} })).status).toBe(403);
    expect(await ordersWithIds([order.id])).toMatchObject([{ status: 'pending' }]);
  });
});

describe('what the restaurant learns of a cancel', () => {
  it('tells the floor (order.cancelled with the order and the admin) and writes the audit trail', async () => {
    const { store, table, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI], { status: 'cooked' });

    const res = await cancel(store.admin.token, order.id, { reason: '재료 소진' });

    expect(res.status).toBe(200);
    expect(await outboxOf(store.id)).toMatchObject([
      {
        type: 'order.cancelled',
        tableId: table.id,
        tableSessionId: session.id,
        payload: res.body,
        actorRole: 'store_admin',
        actorId: store.admin.id,
      },
    ]);
    expect(await auditOf(store.id)).toMatchObject([
      {
        actorRole: 'store_admin',
        actorId: store.admin.id,
        action: 'order.cancelled',
        targetType: 'order',
        targetId: order.id,
        details: { reason: '재료 소진', from: 'cooked' },
      },
    ]);
  });

  it('writes each kitchen move in the audit trail with the admin, and no row for a refused one', async () => {
    const { store, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const patch = (status: string) =>
      api('PATCH', `/api/admin/orders/${order.id}/status`, {
        token: store.admin.token,
        body: { status },
      });

    expect((await patch('preparing')).status).toBe(200);
    expect((await patch('delivered')).status).toBe(409);

    expect(await auditOf(store.id)).toMatchObject([
      {
        actorRole: 'store_admin',
        actorId: store.admin.id,
        action: 'order.status_changed',
        targetType: 'order',
        targetId: order.id,
        details: { from: 'pending', to: 'preparing' },
      },
    ]);
    expect(await outboxOf(store.id)).toMatchObject([
      { type: 'order.status_changed', actorRole: 'store_admin', actorId: store.admin.id },
    ]);
  });
});

describe('totals leave cancelled orders out, lists keep them', () => {
  /** A seated party with two orders (18,000 and 8,000 won), the dearer one cancelled. */
  async function partyWithAVoid() {
    const { store, table, session } = await seatedStore();
    const [voided, kept] = await placeOrders(session, [
      { lines: [KIMCHI], status: 'delivered' },
      { lines: [BIBIMBAP] },
    ]);
    const res = await cancel(store.admin.token, voided!.id, { reason: '손님 요청' });
    expect(res.status).toBe(200);
    return { store, table, session, voided: voided!, kept: kept!, cancelled: res.body };
  }

  it("shows the guests their cancelled order, outside the session's total", async () => {
    const { table, session, kept, cancelled } = await partyWithAVoid();
    const res = await ordersOfTable(table.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      table_session_id: session.id,
      total_amount: 8000,
      orders: [orderView(session, kept), cancelled],
    });
  });

  it('leaves it out of the dashboard total and order count, and shows it among the latest orders', async () => {
    const { store, table, session, kept, cancelled } = await partyWithAVoid();
    const res = await api('GET', '/api/admin/dashboard', { token: store.admin.token });
    expect(res.status).toBe(200);
    expect(res.body.tables).toMatchObject([
      {
        id: table.id,
        session: {
          id: session.id,
          total_amount: 8000,
          order_count: 1,
          latest_orders: [orderView(session, kept), cancelled],
        },
      },
    ]);
  });

  it("gives a cancelled order's amount back to the party's limit", async () => {
    const store = await newStore();
    const table = await newTable(store.id, '1');
    const { menus } = await newMenu(store.id, [['연회 코스', 10_000_000]]);
    const session = await seatGuests(store.id, table.id);
    const banquets: Line = { name: '연회 코스', price: 10_000_000, quantity: 10 };
    // Ten orders of 100,000,000 won: the party's stay has reached 1,000,000,000 won.
    const spent = await placeOrders(
      session,
      Array.from({ length: 10 }, () => ({ lines: [banquets] })),
    );
    const refused = await orderAsGuest(table.token, [[menus[0]!.id, 10]]);
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.error.code).toBe('SESSION_TOTAL_LIMIT_REACHED');

    expect((await cancel(store.admin.token, spent[0]!.id)).status).toBe(200);
    const taken = await orderAsGuest(table.token, [[menus[0]!.id, 10]]);

    expect(taken.status, JSON.stringify(taken.body)).toBe(201);
    const listed = await ordersOfTable(table.token);
    expect(listed.body.total_amount).toBe(1_000_000_000);
    expect(listed.body.orders).toHaveLength(11);
  });

  it('completes the stay (이용 완료) without it, and archives it as cancelled with its record', async () => {
    const { store, table, session, voided, kept, cancelled } = await partyWithAVoid();

    const res = await api('POST', `/api/admin/tables/${table.id}/complete-session`, {
      token: store.admin.token,
    });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      table_session_id: session.id,
      completed_at: expect.any(String),
      order_count: 1,
      total_amount: 8000,
    });
    expect(await historyOfSession(session.id)).toMatchObject([
      {
        originalOrderId: voided.id,
        status: 'cancelled',
        totalAmount: 18000,
        cancelledAt: new Date(cancelled.cancelled_at),
        cancelledBy: store.admin.id,
        cancelReason: '손님 요청',
      },
      { originalOrderId: kept.id, status: 'pending', cancelledAt: null, cancelledBy: null },
    ]);
    const history = await api('GET', `/api/admin/tables/${table.id}/order-history`, {
      token: store.admin.token,
    });
    expect(history.status).toBe(200);
    expect(history.body.data).toMatchObject([
      { original_order_id: kept.id, status: 'pending', cancelled_at: null, cancel_reason: null },
      {
        original_order_id: voided.id,
        status: 'cancelled',
        total_amount: 18000,
        cancelled_at: cancelled.cancelled_at,
        cancelled_by: store.admin.id,
        cancel_reason: '손님 요청',
      },
    ]);
    expect((await auditOf(store.id)).at(-1)).toMatchObject({
      actorRole: 'store_admin',
      actorId: store.admin.id,
      action: 'session.completed',
      targetType: 'session',
      targetId: session.id,
      details: { table_id: table.id, order_count: 1, total_amount: 8000 },
    });
    expect((await outboxOf(store.id)).at(-1)).toMatchObject({
      type: 'table.session_completed',
      payload: res.body,
      actorRole: 'store_admin',
      actorId: store.admin.id,
    });
  });
});
