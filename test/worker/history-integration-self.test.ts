import { describe, expect, it } from 'vitest';
import {
  archiveOrder,
  historyOfSession,
  linesOfOrders,
  ordersWithIds,
  placeOrder,
  placeOrders,
  seatGuests,
  sessionRow,
  type Line,
} from './support/floor.ts';
import { api, newMenu, newStore, newTable, outboxOf } from './support/fixtures.ts';

const KIMCHI: Line = { name: '김치찌개', price: 9000, quantity: 2 };
const BIBIMBAP: Line = { name: '비빔밥', price: 8000, quantity: 1 };

/** A store (in `timezone`) with table 7, seated. */
async function seatedStore(timezone = 'Asia/Seoul') {
  const store = await newStore({ timezone });
  const table = await newTable(store.id, '7');
  const session = await seatGuests(store.id, table.id);
  return { store, table, session, archived: { storeId: store.id, ...table } };
}

const complete = (token: string, tableId: string) =>
  api('POST', `/api/admin/tables/${tableId}/complete-session`, { token });

describe('completing a table’s session (이용 완료)', () => {
  it('moves every order with its lines to the history, ends the session and clears the table', async () => {
    const { store, table, session } = await seatedStore();
    const { menus } = await newMenu(store.id, [['김치찌개', 9000]]);
    const kimchi = { ...KIMCHI, menuId: menus[0]!.id };
    const placed = await placeOrders(session, [
      { lines: [kimchi, BIBIMBAP], status: 'delivered' },
      { lines: [BIBIMBAP], status: 'cooked' },
      { lines: [{ ...BIBIMBAP, quantity: 3 }, kimchi] },
    ]);
    const ids = placed.map((o) => o.id);

    const res = await complete(store.admin.token, table.id);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const ended = await sessionRow(session.id);
    expect(ended.endedAt).not.toBeNull();
    expect(res.body).toEqual({
      table_session_id: session.id,
      completed_at: ended.endedAt!.toISOString(),
      order_count: 3,
      total_amount: 26000 + 8000 + 42000,
    });
    expect(await ordersWithIds(ids)).toEqual([]);
    expect(await linesOfOrders(ids)).toEqual([]);
    const history = await historyOfSession(session.id);
    expect(history).toHaveLength(3);
    history.forEach((row, i) => {
      const order = placed[i]!;
      expect(row).toMatchObject({
        storeId: store.id,
        tableId: table.id,
        tableNumber: '7',
        tableSessionId: session.id,
        originalOrderId: order.id,
        orderNumber: order.orderNumber,
        status: order.status,
        totalAmount: order.totalAmount,
        orderedAt: order.createdAt,
        completedAt: ended.endedAt,
      });
      expect(
        row.lines.map((line) => [line.position, line.menuId, line.menuName, line.quantity]),
      ).toEqual(order.lines.map((line, p) => [p, line.menuId ?? null, line.name, line.quantity]));
    });
    expect(await outboxOf(store.id)).toMatchObject([
      {
        type: 'table.session_completed',
        tableId: table.id,
        tableSessionId: session.id,
        payload: res.body,
      },
    ]);

    const dashboard = await api('GET', '/api/admin/dashboard', { token: store.admin.token });
    expect(dashboard.body).toEqual({
      tables: [{ id: table.id, table_number: '7', session: null, open_calls: [] }],
      unacknowledged_count: 0,
    });
    const current = await api('GET', '/api/admin/orders', { token: store.admin.token });
    expect(current.body).toEqual({ orders: [] });
    const guests = await api('GET', '/api/customer/orders', { token: table.token });
    expect(guests.status, JSON.stringify(guests.body)).toBe(200);
    expect(guests.body).toMatchObject({ table_session_id: null, total_amount: 0, orders: [] });
  });

  it('ends a session whose orders were all cancelled: archived as cancelled, nothing to pay', async () => {
    const { store, table, session } = await seatedStore();
    const order = await placeOrder(session, [KIMCHI]);
    const cancelled = await api('POST', `/api/admin/orders/${order.id}/cancel`, {
      token: store.admin.token,
      body: { reason: '손님 요청' },
    });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);

    const res = await complete(store.admin.token, table.id);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ table_session_id: session.id, order_count: 0 });
    expect(res.body.total_amount).toBe(0);
    expect((await sessionRow(session.id)).endedAt).not.toBeNull();
    expect(await historyOfSession(session.id)).toMatchObject([
      {
        originalOrderId: order.id,
        status: 'cancelled',
        totalAmount: 18000,
        cancelledAt: new Date(cancelled.body.cancelled_at),
        cancelledBy: store.admin.id,
        cancelReason: '손님 요청',
      },
    ]);
  });

  it('answers 409 NO_ACTIVE_SESSION the second time, and for a table nobody sat at', async () => {
    const { store, table, session } = await seatedStore();
    await placeOrder(session, [KIMCHI]);
    expect((await complete(store.admin.token, table.id)).status).toBe(200);

    const again = await complete(store.admin.token, table.id);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('NO_ACTIVE_SESSION');
    const free = await newTable(store.id, '8');
    const never = await complete(store.admin.token, free.id);
    expect(never.status).toBe(409);
    expect(never.body.error.code).toBe('NO_ACTIVE_SESSION');
    expect(await historyOfSession(session.id)).toHaveLength(1);
    expect((await outboxOf(store.id)).map((e) => e.type)).toEqual(['table.session_completed']);
  });

  it('completes once when two admins press 이용 완료 at the same moment', async () => {
    const { store, table, session } = await seatedStore();
    const placed = await placeOrders(session, [{ lines: [KIMCHI] }, { lines: [BIBIMBAP] }]);

    const results = await Promise.all([
      complete(store.admin.token, table.id),
      complete(store.admin.token, table.id),
    ]);

    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)!.body.error.code).toBe('NO_ACTIVE_SESSION');
    const history = await historyOfSession(session.id);
    expect(history.map((row) => row.originalOrderId)).toEqual(placed.map((o) => o.id));
    expect(await outboxOf(store.id)).toHaveLength(1);
  });

  it('archives a busy table of 100 orders in one go', async () => {
    const { store, table, session } = await seatedStore();
    const placed = await placeOrders(
      session,
      Array.from({ length: 100 }, () => ({ lines: [KIMCHI, BIBIMBAP] })),
    );

    const started = Date.now();
    const res = await complete(store.admin.token, table.id);
    const elapsed = Date.now() - started;

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ order_count: 100, total_amount: 100 * 26000 });
    expect(elapsed).toBeLessThan(2_000);
    const history = await historyOfSession(session.id);
    expect(history).toHaveLength(100);
    expect(history.flatMap((row) => row.lines)).toHaveLength(200);
    expect(await ordersWithIds(placed.map((o) => o.id))).toEqual([]);
  });

  it("answers 404 for another store's table or an unknown one, and changes nothing", async () => {
    const { store } = await seatedStore();
    const other = await seatedStore();
    const order = await placeOrder(other.session, [KIMCHI]);
    for (const tableId of [other.table.id, crypto.randomUUID()]) {
      const res = await complete(store.admin.token, tableId);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect((await sessionRow(other.session.id)).endedAt).toBeNull();
    expect(await ordersWithIds([order.id])).toHaveLength(1);
    expect(await historyOfSession(other.session.id)).toEqual([]);
    expect(await outboxOf(other.store.id)).toEqual([]);
  });

  it('refuses a malformed table id (400), and is for store admins only', async () => {
    const { store, table, session } = await seatedStore();
    const bad = await complete(store.admin.token, 'table-7');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    const path = `/api/admin/tables/${table.id}/complete-session`;
    expect((await api('POST', path)).status).toBe(401);
    expect((await api('POST', path, { token: table.token })).status).toBe(403);
    expect((await sessionRow(session.id)).endedAt).toBeNull();
  });
});

describe('reading a table’s order history', () => {
  const history = (token: string, tableId: string, query = '') =>
    api('GET', `/api/admin/tables/${tableId}/order-history${query}`, { token });

  it('shows what was archived, newest completion first, with its lines', async () => {
    const { store, table, session } = await seatedStore();
    const [first, second] = await placeOrders(session, [
      { lines: [KIMCHI, BIBIMBAP], status: 'delivered' },
      { lines: [BIBIMBAP] },
    ]);
    const done = await complete(store.admin.token, table.id);
    const later = await archiveOrder(
      { storeId: store.id, ...table },
      { completedAt: new Date(Date.now() + 60_000), orderNumber: 9 },
    );
    const otherTable = await newTable(store.id, '8');
    await archiveOrder({ storeId: store.id, ...otherTable }, { completedAt: new Date() });

    const res = await history(store.admin.token, table.id);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const archivedRows = await historyOfSession(session.id);
    const line = (l: Line) => ({
      menu_id: null,
      menu_name: l.name,
      quantity: l.quantity,
      unit_price: l.price,
      options: [],
      note: null,
      subtotal: l.price * l.quantity,
    });
    expect(res.body).toEqual({
      data: [
        {
          id: later.id,
          original_order_id: later.originalOrderId,
          order_number: 9,
          table_session_id: later.tableSessionId,
          status: 'delivered',
          total_amount: 9000,
          items: [line({ name: '김치찌개', price: 9000, quantity: 1 })],
          request: null,
          ordered_at: later.orderedAt.toISOString(),
          completed_at: later.completedAt.toISOString(),
          cancelled_at: null,
          cancelled_by: null,
          cancel_reason: null,
        },
        ...[second!, first!].map((order) => ({
          id: archivedRows.find((row) => row.originalOrderId === order.id)!.id,
          original_order_id: order.id,
          order_number: order.orderNumber,
          table_session_id: session.id,
          status: order.status,
          total_amount: order.totalAmount,
          items: order.lines.map(line),
          request: null,
          ordered_at: order.createdAt.toISOString(),
          completed_at: done.body.completed_at,
          cancelled_at: null,
          cancelled_by: null,
          cancel_reason: null,
        })),
      ],
      pagination: { page: 1, page_size: 20, total_count: 3, total_pages: 1 },
    });
  });

  it("filters by days of the store's own timezone, around midnight", async () => {
    const { store, table, archived } = await seatedStore('Asia/Seoul');
    // 2026-03-01 23:59 and 2026-03-02 00:01 in Seoul (UTC+9).
    const lateNight = await archiveOrder(archived, { completedAt: new Date('2026-03-01T14:59Z') });
    const justAfter = await archiveOrder(archived, { completedAt: new Date('2026-03-01T15:01Z') });
    const ids = async (query: string) => {
      const res = await history(store.admin.token, table.id, query);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.data.map((row: { id: string }) => row.id);
    };

    expect(await ids('?from=2026-03-01&to=2026-03-01')).toEqual([lateNight.id]);
    expect(await ids('?from=2026-03-02&to=2026-03-02')).toEqual([justAfter.id]);
    expect(await ids('?from=2026-03-01&to=2026-03-02')).toEqual([justAfter.id, lateNight.id]);
    expect(await ids('?from=2026-03-02')).toEqual([justAfter.id]);
    expect(await ids('?to=2026-03-01')).toEqual([lateNight.id]);
    expect(await ids('?from=2026-03-03')).toEqual([]);
  });

  it('uses the store’s timezone, not Seoul’s, for a store elsewhere', async () => {
    const { store, table, archived } = await seatedStore('America/New_York');
    // 2026-03-01 23:59 and 2026-03-02 00:01 in New York (UTC-5).
    const lateNight = await archiveOrder(archived, { completedAt: new Date('2026-03-02T04:59Z') });
    const justAfter = await archiveOrder(archived, { completedAt: new Date('2026-03-02T05:01Z') });
    const res = await history(store.admin.token, table.id, '?from=2026-03-01&to=2026-03-01');
    expect(res.body.data.map((row: { id: string }) => row.id)).toEqual([lateNight.id]);
    const next = await history(store.admin.token, table.id, '?from=2026-03-02&to=2026-03-02');
    expect(next.body.data.map((row: { id: string }) => row.id)).toEqual([justAfter.id]);
  });

  it('pages through the history', async () => {
    const { store, table, archived } = await seatedStore();
    const rows = [];
    for (let n = 1; n <= 5; n++) {
      rows.push(
        await archiveOrder(archived, {
          completedAt: new Date(Date.UTC(2026, 2, 2, n)),
          orderNumber: n,
        }),
      );
    }
    const page = (query: string) => history(store.admin.token, table.id, query);

    const second = await page('?page=2&page_size=2');
    expect(second.status).toBe(200);
    expect(second.body.data.map((row: { order_number: number }) => row.order_number)).toEqual([
      3, 2,
    ]);
    expect(second.body.pagination).toEqual({
      page: 2,
      page_size: 2,
      total_count: 5,
      total_pages: 3,
    });
    const last = await page('?page=3&page_size=2');
    expect(last.body.data.map((row: { id: string }) => row.id)).toEqual([rows[0]!.id]);
    const beyond = await page('?page=4&page_size=2');
    expect(beyond.body).toEqual({
      data: [],
      pagination: { page: 4, page_size: 2, total_count: 5, total_pages: 3 },
    });
  });

  it('refuses impossible dates, from after to, and bad paging (400)', async () => {
    const { store, table } = await seatedStore();
    for (const query of [
      '?from=2026-02-30',
      '?from=0000-01-01',
      '?to=0000-12-31',
      '?from=0000-01-01&to=0000-12-31',
      '?from=1999-12-31',
      '?to=10000-01-01',
      '?from=2026/03/01',
      '?to=yesterday',
      '?from=2026-3-1',
      '?from=2026-03-02&to=2026-03-01',
      '?page=0',
      '?page_size=101',
      '?page=two',
    ]) {
      const res = await history(store.admin.token, table.id, query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('accepts any days from 2000-01-01 to 9999-12-31, the same day as from and to included', async () => {
    const { store, table, archived } = await seatedStore();
    const done = await archiveOrder(archived, { completedAt: new Date('2026-03-02T03:00:00Z') });
    for (const query of [
      '?from=2000-01-01&to=9999-12-31',
      '?from=2026-03-02&to=2026-03-02',
      '?from=2024-02-29',
    ]) {
      const res = await history(store.admin.token, table.id, query);
      expect(res.status, query).toBe(200);
      expect(
        res.body.data.map((row: { id: string }) => row.id),
        query,
      ).toEqual([done.id]);
    }
  });

  it("answers 404 for another store's table or an unknown one", async () => {
    const { store } = await seatedStore();
    const other = await seatedStore();
    await archiveOrder(other.archived, { completedAt: new Date() });
    for (const tableId of [other.table.id, crypto.randomUUID()]) {
      const res = await history(store.admin.token, tableId);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('refuses a malformed table id (400), and is for store admins only', async () => {
    const { store, table } = await seatedStore();
    expect((await history(store.admin.token, 'seven')).status).toBe(400);
    const path = `/api/admin/tables/${table.id}/order-history`;
    expect((await api('GET', path)).status).toBe(401);
    expect((await api('GET', path, { token: table.token })).status).toBe(403);
  });
});
