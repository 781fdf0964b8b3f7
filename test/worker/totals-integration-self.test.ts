import { describe, expect, it } from 'vitest';
import { historyOfSession, placeOrders, seatGuests, type Line } from './support/floor.ts';
import { api, newMenu, newStore, newTable } from './support/fixtures.ts';
import {
  holdingOrderNumbers,
  ordersOfTable,
  orderingRowsOf,
  placeOrder,
} from './support/ordering.ts';

/** The dearest dish a menu may have (10,000,000 won), ten at a time: 100,000,000 won. */
const TEN_BANQUETS: Line = { name: '연회 코스', price: 10_000_000, quantity: 10 };

/** A store with one table and a menu of 연회 코스 10,000,000 / 공기밥 1,000. */
async function banquetHall() {
  const store = await newStore();
  const table = await newTable(store.id, '1');
  const { menus } = await newMenu(store.id, [
    ['연회 코스', 10_000_000],
    ['공기밥', 1000],
  ]);
  return { store, table, banquet: menus[0]!, rice: menus[1]! };
}

/** Seats the table's party with `count` orders of 100,000,000 won already placed. */
async function partyThatSpent(storeId: string, tableId: string, count: number) {
  const session = await seatGuests(storeId, tableId);
  await placeOrders(
    session,
    Array.from({ length: count }, () => ({ lines: [TEN_BANQUETS] })),
  );
  return session;
}

describe('how much one order may come to', () => {
  it('takes an order of exactly 100,000,000 won', async () => {
    const { table, banquet } = await banquetHall();
    const res = await placeOrder(table.token, [[banquet.id, 10]]);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.total_amount).toBe(100_000_000);
  });

  it('refuses an order over 100,000,000 won (400) and writes nothing', async () => {
    const { store, table, banquet, rice } = await banquetHall();
    const res = await placeOrder(table.token, [
      [banquet.id, 10],
      [rice.id, 1],
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { total_amount: 100_001_000, max_total_amount: 100_000_000 },
    });
    const rows = await orderingRowsOf(store.id);
    expect([rows.orders, rows.sessions, rows.counters, rows.outbox]).toEqual([[], [], [], []]);
  });
});

describe("how much a party's stay may come to", () => {
  it('takes orders up to 1,000,000,000 won, then refuses the next one (409) and writes nothing of it', async () => {
    const { store, table, banquet, rice } = await banquetHall();
    const session = await partyThatSpent(store.id, table.id, 9);
    const last = await placeOrder(table.token, [[banquet.id, 10]]);
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    expect(last.body.table_session_id).toBe(session.id);

    const res = await placeOrder(table.token, [[rice.id, 1]]);

    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'SESSION_TOTAL_LIMIT_REACHED',
      details: {
        session_total: 1_000_000_000,
        total_amount: 1000,
        max_session_total: 1_000_000_000,
      },
    });
    const rows = await orderingRowsOf(store.id);
    expect(rows.orders).toHaveLength(10);
    expect(rows.outbox.map((row) => row.payload)).toEqual([{ ...last.body, ack_seconds: 60 }]);
    // The fixture's nine orders and today's one: the refused order took no number.
    expect(rows.counters.map((row) => row.lastNumber).toSorted()).toEqual([1, 9]);
    expect((await ordersOfTable(table.token)).body.total_amount).toBe(1_000_000_000);
  });

  it('lets only one of two orders racing for the last 100,000,000 won through', async () => {
    const { store, table, banquet } = await banquetHall();
    await partyThatSpent(store.id, table.id, 8);
    // Today's order number exists, so both orders queue on it at the same moment.
    expect((await placeOrder(table.token, [[banquet.id, 10]])).status).toBe(201);

    const order = () => placeOrder(table.token, [[banquet.id, 10]]);
    const answers = await holdingOrderNumbers(store.id, 2, [order, order]);

    expect(answers.map((res) => res.status).toSorted()).toEqual([201, 409]);
    expect(answers.find((res) => res.status === 409)!.body.error.code).toBe(
      'SESSION_TOTAL_LIMIT_REACHED',
    );
    const listed = await ordersOfTable(table.token);
    expect(listed.body.total_amount).toBe(1_000_000_000);
    expect(listed.body.orders).toHaveLength(10);
  });
});

describe('totals beyond 2,147,483,647 won', () => {
  /** A party whose orders (written straight to the database) come to 3,000,000,000 won. */
  async function bigSpenders() {
    const store = await newStore();
    const table = await newTable(store.id, '1');
    const session = await seatGuests(store.id, table.id);
    const gold: Line = { name: '황금 코스', price: 1_500_000_000, quantity: 1 };
    await placeOrders(session, [{ lines: [gold] }, { lines: [gold] }]);
    return { store, table, session };
  }

  it('shows the exact running total on the dashboard', async () => {
    const { store, table, session } = await bigSpenders();
    const res = await api('GET', '/api/admin/dashboard', { token: store.admin.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.tables).toMatchObject([
      { id: table.id, session: { id: session.id, total_amount: 3_000_000_000, order_count: 2 } },
    ]);
  });

  it('completes the stay (이용 완료) with the exact total, and archives both orders', async () => {
    const { store, table, session } = await bigSpenders();
    const res = await api('POST', `/api/admin/tables/${table.id}/complete-session`, {
      token: store.admin.token,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      table_session_id: session.id,
      order_count: 2,
      total_amount: 3_000_000_000,
    });
    expect(await historyOfSession(session.id)).toHaveLength(2);
  });
});
