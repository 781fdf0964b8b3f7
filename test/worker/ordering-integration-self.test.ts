import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { api, newMenu, newStore, newSuperAdmin, newTable, withDb } from './support/fixtures.ts';
import {
  changeMenu,
  completingSession,
  diningRoom,
  endSession,
  itemsOf,
  localDate,
  ordersOfTable,
  orderingRowsOf,
  placeOrder,
} from './support/ordering.ts';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Asserts that a refused order left no trace: no order, session, number, key or event. */
async function expectNothingWritten(storeId: string) {
  const rows = await orderingRowsOf(storeId);
  expect(rows.orders).toEqual([]);
  expect(rows.sessions).toEqual([]);
  expect(rows.counters).toEqual([]);
  expect(rows.keys).toEqual([]);
  expect(rows.outbox).toEqual([]);
}

describe('placing an order', () => {
  it('answers 201 with the menus as ordered: names and prices copied, line and order totals', async () => {
    const { store, table, stew, rice } = await diningRoom();
    const res = await placeOrder(table.token, [
      [rice.id, 3],
      [stew.id, 2],
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      order_number: 1,
      table_id: table.id,
      table_session_id: expect.any(String),
      status: 'pending',
      total_amount: 21_000,
      items: [
        {
          menu_id: rice.id,
          menu_name: '공기밥',
          quantity: 3,
          unit_price: 1000,
          options: [],
          note: null,
          subtotal: 3000,
        },
        {
          menu_id: stew.id,
          menu_name: '김치찌개',
          quantity: 2,
          unit_price: 9000,
          options: [],
          note: null,
          subtotal: 18_000,
        },
      ],
      request: null,
      created_at: expect.stringMatching(ISO_TIME),
      cancelled_at: null,
      cancelled_by: null,
      cancel_reason: null,
      acknowledged_at: null,
      acknowledged_by: null,
    });
    expect(res.headers.get('idempotent-replayed')).toBeNull();

    const rows = await orderingRowsOf(store.id);
    expect(rows.orders).toMatchObject([
      { id: res.body.id, tableId: table.id, totalAmount: 21_000, status: 'pending' },
    ]);
    expect(await itemsOf(res.body.id)).toMatchObject([
      { position: 0, menuId: rice.id, menuName: '공기밥', unitPrice: 1000, quantity: 3 },
      { position: 1, menuId: stew.id, menuName: '김치찌개', unitPrice: 9000, quantity: 2 },
    ]);
  });

  it('keeps what the guest paid when the menu changes its name or price afterwards', async () => {
    const { table, stew } = await diningRoom();
    const placed = await placeOrder(table.token, [[stew.id, 1]]);
    expect(placed.status).toBe(201);
    await changeMenu(stew.id, { price: 12_000, name: '묵은지 김치찌개' });

    const listed = await ordersOfTable(table.token);
    expect(listed.body.orders).toEqual([placed.body]);
    expect(listed.body.total_amount).toBe(9000);
    expect(await itemsOf(placed.body.id)).toMatchObject([
      { menuName: '김치찌개', unitPrice: 9000, subtotal: 9000 },
    ]);
  });

  it('accepts the same menu on two lines, each keeping its place', async () => {
    const { table, stew, soju } = await diningRoom();
    const res = await placeOrder(table.token, [
      [soju.id, 1],
      [stew.id, 1],
      [soju.id, 2],
    ]);
    expect(res.status).toBe(201);
    expect(res.body.items.map((item: { quantity: number }) => item.quantity)).toEqual([1, 1, 2]);
    expect(res.body.total_amount).toBe(5000 + 9000 + 10_000);
  });

  it('numbers orders 1, 2, 3 within a store, independently of other stores', async () => {
    const first = await diningRoom();
    const second = await diningRoom();
    const otherTable = await newTable(first.store.id);
    const numbers = [];
    for (const [token, menu] of [
      [first.table.token, first.stew.id],
      [otherTable.token, first.rice.id],
      [second.table.token, second.stew.id],
      [first.table.token, first.soju.id],
      [second.table.token, second.rice.id],
    ] as const) {
      const res = await placeOrder(token, [[menu, 1]]);
      expect(res.status).toBe(201);
      numbers.push(res.body.order_number);
    }
    expect(numbers).toEqual([1, 2, 1, 3, 2]);
  });

  it('announces the order to the store: one order.created event with the order, table and session', async () => {
    const { store, table, stew } = await diningRoom();
    const res = await placeOrder(table.token, [[stew.id, 2]]);
    const { outbox } = await orderingRowsOf(store.id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      type: 'order.created',
      storeId: store.id,
      tableId: table.id,
      tableSessionId: res.body.table_session_id,
      payload: res.body,
      publishedAt: null,
    });
  });
});

describe('the table session', () => {
  it("opens with the table's first order and is reused by the next ones", async () => {
    const { store, table, stew, rice } = await diningRoom();
    expect((await orderingRowsOf(store.id)).sessions).toEqual([]);
    const first = await placeOrder(table.token, [[stew.id, 1]]);
    const second = await placeOrder(table.token, [[rice.id, 1]]);
    expect(second.body.table_session_id).toBe(first.body.table_session_id);

    const { sessions, outbox } = await orderingRowsOf(store.id);
    expect(sessions).toMatchObject([
      { id: first.body.table_session_id, tableId: table.id, endedAt: null },
    ]);
    expect(outbox.map((row) => row.tableSessionId)).toEqual([
      first.body.table_session_id,
      first.body.table_session_id,
    ]);
  });

  it('gives each table its own session', async () => {
    const { store, table, stew } = await diningRoom();
    const neighbour = await newTable(store.id);
    const ours = await placeOrder(table.token, [[stew.id, 1]]);
    const theirs = await placeOrder(neighbour.token, [[stew.id, 1]]);
    expect(theirs.body.table_session_id).not.toBe(ours.body.table_session_id);
  });

  it('ten guests ordering at the same moment at a new table share one session, orders numbered 1 to 10', async () => {
    const { store, table, stew } = await diningRoom();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => placeOrder(table.token, [[stew.id, i + 1]])),
    );
    expect(answers.map((res) => res.status)).toEqual(Array(10).fill(201));
    expect(new Set(answers.map((res) => res.body.table_session_id)).size).toBe(1);
    expect(answers.map((res) => res.body.order_number).toSorted((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);

    const rows = await orderingRowsOf(store.id);
    expect(rows.sessions).toHaveLength(1);
    expect(rows.orders).toHaveLength(10);
    expect(rows.outbox).toHaveLength(10);
    expect(rows.counters).toMatchObject([{ lastNumber: 10 }]);

    // Newest first agrees with the numbers even though the orders raced.
    const listed = await ordersOfTable(table.token);
    expect(listed.body.orders.map((order: { order_number: number }) => order.order_number)).toEqual(
      [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
    );
  });

  it('opens a new session for the next party once the table was cleared', async () => {
    const { store, table, stew } = await diningRoom();
    const before = await placeOrder(table.token, [[stew.id, 1]]);
    await endSession(before.body.table_session_id);
    const after = await placeOrder(table.token, [[stew.id, 1]]);
    expect(after.status).toBe(201);
    expect(after.body.table_session_id).not.toBe(before.body.table_session_id);
    expect(after.body.order_number).toBe(2);
    const { sessions } = await orderingRowsOf(store.id);
    expect(sessions.filter((session) => session.endedAt === null)).toMatchObject([
      { id: after.body.table_session_id },
    ]);
  });
  it('an order arriving while the table is being cleared lands in a new session, not the ended one', async () => {
    const { store, table, stew, rice } = await diningRoom();
    const before = await placeOrder(table.token, [[stew.id, 1]]);
    const res = await completingSession(before.body.table_session_id, () =>
      placeOrder(table.token, [[rice.id, 1]]),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.table_session_id).not.toBe(before.body.table_session_id);
    const { sessions, orders } = await orderingRowsOf(store.id);
    expect(sessions.filter((session) => session.endedAt === null)).toMatchObject([
      { id: res.body.table_session_id },
    ]);
    expect(orders.find((order) => order.id === res.body.id)).toMatchObject({
      tableSessionId: res.body.table_session_id,
    });
  });
});

describe('refused orders', () => {
  it('refuses a menu that does not exist (404 MENU_NOT_FOUND) and writes nothing', async () => {
    const { store, table, stew } = await diningRoom();
    const unknown = crypto.randomUUID();
    const res = await placeOrder(table.token, [
      [stew.id, 1],
      [unknown, 1],
    ]);
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({
      code: 'MENU_NOT_FOUND',
      details: { menu_ids: [unknown] },
    });
    await expectNothingWritten(store.id);
  });

  it("refuses another store's menu exactly like a missing one, and writes nothing", async () => {
    const { store, table, stew } = await diningRoom();
    const other = await diningRoom();
    const res = await placeOrder(table.token, [
      [stew.id, 1],
      [other.stew.id, 1],
    ]);
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({
      code: 'MENU_NOT_FOUND',
      details: { menu_ids: [other.stew.id] },
    });
    await expectNothingWritten(store.id);
    await expectNothingWritten(other.store.id);
  });

  it('refuses a sold-out menu (409 MENU_UNAVAILABLE) and writes nothing', async () => {
    const { store, table, stew, soju } = await diningRoom({ soldOut: ['소주'] });
    const res = await placeOrder(table.token, [
      [stew.id, 1],
      [soju.id, 1],
    ]);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'MENU_UNAVAILABLE',
      details: { menu_ids: [soju.id] },
    });
    expect(res.body.error.message).toMatch(/품절/);
    await expectNothingWritten(store.id);
  });

  it('refuses an order whose total a money column cannot hold (400), without a server error', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const { menus } = await newMenu(store.id, [['황제 코스', 2_000_000_000]]);
    const res = await placeOrder(table.token, [[menus[0]!.id, 2]]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    await expectNothingWritten(store.id);
  });

  const menuId = '00000000-0000-4000-8000-000000000000';
  it.each([
    ['no lines', { items: [] }],
    ['no items field', {}],
    ['quantity 0', { items: [{ menu_id: menuId, quantity: 0 }] }],
    ['quantity 100', { items: [{ menu_id: menuId, quantity: 100 }] }],
    ['quantity 1.5', { items: [{ menu_id: menuId, quantity: 1.5 }] }],
    ['quantity "2" as text', { items: [{ menu_id: menuId, quantity: '2' }] }],
    ['no quantity', { items: [{ menu_id: menuId }] }],
    ['a menu id that is not a uuid', { items: [{ menu_id: 'kimchi', quantity: 1 }] }],
    ['items that are not a list', { items: { menu_id: menuId, quantity: 1 } }],
    ['51 lines', { items: Array(51).fill({ menu_id: menuId, quantity: 1 }) }],
  ])('answers 400 VALIDATION_ERROR for %s', async (_case, body) => {
    const { store, table } = await diningRoom();
    const res = await api('POST', '/api/customer/orders', { token: table.token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      request_id: expect.any(String),
    });
    await expectNothingWritten(store.id);
  });

  it('answers 400 VALIDATION_ERROR for malformed JSON and for a missing body', async () => {
    const { table } = await diningRoom();
    const malformed = await api('POST', '/api/customer/orders', {
      token: table.token,
      rawBody: '{',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_ERROR');
    const empty = await api('POST', '/api/customer/orders', { token: table.token, rawBody: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('answers 400 for an Idempotency-Key longer than 255 characters', async () => {
    const { store, table, stew } = await diningRoom();
    const res = await placeOrder(table.token, [[stew.id, 1]], 'k'.repeat(256));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    await expectNothingWritten(store.id);
  });

  it('answers 401 without a token', async () => {
    const { stew } = await diningRoom();
    const res = await api('POST', '/api/customer/orders', {
      body: { items: [{ menu_id: stew.id, quantity: 1 }] },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('TOKEN_MISSING');
    expect((await api('GET', '/api/customer/orders')).status).toBe(401);
  });

  it('answers 403 to an admin or the super admin: only tables order', async () => {
    const { store, stew } = await diningRoom();
    const superAdmin = await newSuperAdmin();
    for (const token of [store.admin.token, superAdmin.token]) {
      const placed = await placeOrder(token, [[stew.id, 1]]);
      expect(placed.status).toBe(403);
      expect(placed.body.error.code).toBe('FORBIDDEN');
      expect((await ordersOfTable(token)).status).toBe(403);
    }
    await expectNothingWritten(store.id);
  });
});

describe('retrying with an Idempotency-Key', () => {
  it('answers the same order again, marked Idempotent-Replayed, without a second order or event', async () => {
    const { store, table, stew } = await diningRoom();
    const key = crypto.randomUUID();
    const first = await placeOrder(table.token, [[stew.id, 2]], key);
    const again = await placeOrder(table.token, [[stew.id, 2]], key);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);

    const rows = await orderingRowsOf(store.id);
    expect(rows.orders).toHaveLength(1);
    expect(rows.outbox).toHaveLength(1);
    expect(rows.keys).toMatchObject([
      { tableId: table.id, key, orderId: first.body.id, statusCode: 201, response: first.body },
    ]);
  });

  it('recognises the same order written differently (spacing, key order, uuid case)', async () => {
    const { store, table, stew } = await diningRoom();
    const key = 'retry-1';
    const first = await placeOrder(table.token, [[stew.id, 2]], key);
    const again = await api('POST', '/api/customer/orders', {
      token: table.token,
      headers: { 'Idempotency-Key': key },
      rawBody: `{ "items" : [ { "quantity": 2, "menu_id": "${stew.id.toUpperCase()}" } ] }`,
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect((await orderingRowsOf(store.id)).orders).toHaveLength(1);
  });

  it('refuses the same key with another order (422 IDEMPOTENCY_KEY_REUSED)', async () => {
    const { store, table, stew } = await diningRoom();
    const key = crypto.randomUUID();
    await placeOrder(table.token, [[stew.id, 2]], key);
    const other = await placeOrder(table.token, [[stew.id, 3]], key);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const rows = await orderingRowsOf(store.id);
    expect(rows.orders).toHaveLength(1);
    expect(rows.outbox).toHaveLength(1);
  });

  it('places one order when the same request arrives twice at the same moment', async () => {
    const { store, table, stew } = await diningRoom();
    const key = crypto.randomUUID();
    const answers = await Promise.all([
      placeOrder(table.token, [[stew.id, 1]], key),
      placeOrder(table.token, [[stew.id, 1]], key),
      placeOrder(table.token, [[stew.id, 1]], key),
    ]);
    expect(answers.map((res) => res.status)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((res) => res.body.id)).size).toBe(1);
    const replays = answers.filter((res) => res.headers.get('idempotent-replayed') === 'true');
    expect(replays).toHaveLength(2);
    const rows = await orderingRowsOf(store.id);
    expect(rows.orders).toHaveLength(1);
    expect(rows.outbox).toHaveLength(1);
  });

  it('keeps keys per table: another table may use the same key for its own order', async () => {
    const { store, table, stew } = await diningRoom();
    const neighbour = await newTable(store.id);
    const ours = await placeOrder(table.token, [[stew.id, 1]], 'same-key');
    const theirs = await placeOrder(neighbour.token, [[stew.id, 1]], 'same-key');
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.id).not.toBe(ours.body.id);
  });

  it('does not spend the key on a refused order: the retry after the menu is back places it', async () => {
    const { store, table, soju } = await diningRoom({ soldOut: ['소주'] });
    const key = crypto.randomUUID();
    expect((await placeOrder(table.token, [[soju.id, 1]], key)).status).toBe(409);
    await changeMenu(soju.id, { isAvailable: true });
    const retry = await placeOrder(table.token, [[soju.id, 1]], key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect((await orderingRowsOf(store.id)).keys).toHaveLength(1);
  });
});

describe("the table's current orders", () => {
  it('is empty, with no session, before the first order', async () => {
    const { table } = await diningRoom();
    const res = await ordersOfTable(table.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ table_session_id: null, total_amount: 0, orders: [] });
  });

  it("lists this session's orders newest first with their total, and no other table's", async () => {
    const { store, table, stew, rice, soju } = await diningRoom();
    const neighbour = await newTable(store.id);
    const first = await placeOrder(table.token, [[stew.id, 2]]);
    await placeOrder(neighbour.token, [[soju.id, 5]]);
    const second = await placeOrder(table.token, [
      [rice.id, 2],
      [soju.id, 1],
    ]);
    const res = await ordersOfTable(table.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      table_session_id: first.body.table_session_id,
      total_amount: 18_000 + 7000,
      orders: [second.body, first.body],
    });
  });

  it("shows only the current party's orders once the previous session was cleared", async () => {
    const { table, stew, rice } = await diningRoom();
    const earlier = await placeOrder(table.token, [[stew.id, 1]]);
    await endSession(earlier.body.table_session_id);
    expect(await ordersOfTable(table.token).then((res) => res.body)).toEqual({
      table_session_id: null,
      total_amount: 0,
      orders: [],
    });
    const now = await placeOrder(table.token, [[rice.id, 1]]);
    expect((await ordersOfTable(table.token)).body).toEqual({
      table_session_id: now.body.table_session_id,
      total_amount: 1000,
      orders: [now.body],
    });
  });
});

describe("order numbers follow the store's business day", () => {
  it("dates each order by the store's own timezone, a day apart across the date line", async () => {
    const kiritimati = await diningRoom({ timezone: 'Pacific/Kiritimati' });
    const pagoPago = await diningRoom({ timezone: 'Pacific/Pago_Pago' });
    const before = new Date();
    const east = await placeOrder(kiritimati.table.token, [[kiritimati.stew.id, 1]]);
    const west = await placeOrder(pagoPago.table.token, [[pagoPago.stew.id, 1]]);
    const after = new Date();
    expect([east.status, west.status]).toEqual([201, 201]);

    for (const [room, res] of [
      [kiritimati, east],
      [pagoPago, west],
    ] as const) {
      const { orders, counters } = await orderingRowsOf(room.store.id);
      const expected = [
        localDate(room.store.timezone, before),
        localDate(room.store.timezone, after),
      ];
      expect(expected).toContain(orders[0]!.businessDate);
      expect(counters).toMatchObject([{ businessDate: orders[0]!.businessDate, lastNumber: 1 }]);
      expect(res.body.order_number).toBe(1);
    }
    // UTC+14 and UTC−11 are never on the same calendar day.
    const [eastDay, westDay] = await Promise.all(
      [kiritimati, pagoPago].map(async (room) => (await orderingRowsOf(room.store.id)).orders[0]!),
    );
    expect(eastDay!.businessDate > westDay!.businessDate).toBe(true);
  });

  it("starts again from 1 on a new day: yesterday's numbers do not carry over", async () => {
    const { store, table, stew } = await diningRoom({ timezone: 'Asia/Seoul' });
    const today = localDate('Asia/Seoul');
    const yesterday = localDate('Asia/Seoul', new Date(Date.now() - 24 * 3600 * 1000));
    await withDb((db) =>
      db
        .insert(schema.orderNumberCounters)
        .values({ storeId: store.id, businessDate: yesterday, lastNumber: 41 }),
    );
    const res = await placeOrder(table.token, [[stew.id, 1]]);
    expect(res.body.order_number).toBe(1);
    const { orders } = await orderingRowsOf(store.id);
    expect([today, localDate('Asia/Seoul')]).toContain(orders[0]!.businessDate);
  });
});

describe('the API document', () => {
  it('describes ordering with its Idempotency-Key header and the replay marker', async () => {
    const res = await api('GET', '/openapi.json');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const post = res.body.paths['/api/customer/orders'].post;
    expect(post.parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }),
    );
    expect(Object.keys(post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '404', '409', '422']),
    );
    expect(post.responses['201'].headers).toHaveProperty('Idempotent-Replayed');
    expect(res.body.paths['/api/customer/orders'].get.responses['200']).toBeDefined();
  });
});
