import { afterEach, describe, expect, it } from 'vitest';
import { CORRELATION_ID_PATTERN } from '../../db/schema.ts';
import { api, newStore, newTable, type ApiResponse } from './support/fixtures.ts';
import { diningRoom, ordersOfTable, placeOrder } from './support/ordering.ts';
import { deliverAll, envelope, relayOutbox } from './support/relay.ts';
import { closeAllStreams, openStream, type SseEvent } from './support/sse.ts';
import {
  activeSessionOf,
  floorRowsOf,
  mergeParty,
  moveParty,
  queuedBehindCall,
  queuedBehindOrder,
  queuedBehindSession,
  times,
} from './support/table-moves.ts';

const ADMIN_STREAM = '/api/admin/orders/stream';
const TABLE_STREAM = '/api/customer/orders/stream';
const RETRY = { kind: 'retry', ms: 3000 };

afterEach(closeAllStreams);

type Order = { id: string; table_session_id: string; total_amount: number };

/** The table orders `quantity` of a menu; answers the new order. */
async function order(token: string, menuId: string, quantity = 1): Promise<Order> {
  const res = await placeOrder(token, [[menuId, quantity]]);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Order;
}

/** A guest at the table calls the staff for `reason`. */
async function callStaff(token: string, reason: string): Promise<{ id: string }> {
  const res = await api('POST', '/api/customer/calls', { token, body: { reason } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** 이용 완료 of the table, by its store's admin. */
function completeSession(adminToken: string, tableId: string): Promise<ApiResponse> {
  return api('POST', `/api/admin/tables/${tableId}/complete-session`, { token: adminToken });
}

/** One table's card on the admin's dashboard. */
async function dashboardCard(adminToken: string, tableId: string) {
  const res = await api('GET', '/api/admin/dashboard', { token: adminToken });
  expect(res.status).toBe(200);
  return (res.body.tables as Array<{ id: string; session: any; open_calls: any[] }>).find(
    (table) => table.id === tableId,
  )!;
}

/** The admin's list of current orders at one table: `[id, table_id]` pairs, newest first. */
async function adminOrdersAt(adminToken: string, tableId: string) {
  const res = await api('GET', `/api/admin/orders?table_id=${tableId}`, { token: adminToken });
  expect(res.status).toBe(200);
  return (res.body.orders as Array<{ id: string; table_id: string }>).map((o) => [
    o.id,
    o.table_id,
  ]);
}

/** A dining room with two more tables: the party's (`from`), a free one (`to`), another. */
async function threeTables() {
  const room = await diningRoom();
  const to = await newTable(room.store.id);
  const other = await newTable(room.store.id);
  return { ...room, from: room.table, to, other };
}

const outboxIds = (events: SseEvent[]) => events.map((e) => JSON.parse(e.data).id as number);

describe('moving a party to a free table (자리 이동)', () => {
  it('takes the party with its orders and open calls; both tablets, the dashboard and the order lists follow', async () => {
    const { store, from, to, stew, rice } = await threeTables();
    const admin = store.admin.token;
    const first = await order(from.token, stew.id, 2);
    const second = await order(from.token, rice.id);
    const water = await callStaff(from.token, 'water');
    const party = first.table_session_id;
    // Read (and cached) before the move: the move must invalidate it.
    expect((await dashboardCard(admin, from.id)).session.id).toBe(party);

    const res = await moveParty(admin, from.id, to.id);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      table_session_id: party,
      from_table_id: from.id,
      to_table_id: to.id,
      order_count: 2,
      total_amount: 19_000,
    });
    const atTo = await ordersOfTable(to.token);
    expect(atTo.body).toMatchObject({ table_session_id: party, total_amount: 19_000 });
    expect(atTo.body.orders.map((o: any) => [o.id, o.table_id])).toEqual([
      [second.id, to.id],
      [first.id, to.id],
    ]);
    expect((await ordersOfTable(from.token)).body).toEqual({
      table_session_id: null,
      total_amount: 0,
      orders: [],
    });
    expect(await adminOrdersAt(admin, to.id)).toEqual([
      [second.id, to.id],
      [first.id, to.id],
    ]);
    expect(await adminOrdersAt(admin, from.id)).toEqual([]);
    const toCard = await dashboardCard(admin, to.id);
    expect(toCard.session).toMatchObject({ id: party, order_count: 2, total_amount: 19_000 });
    expect(toCard.open_calls.map((call) => call.id)).toEqual([water.id]);
    expect(await dashboardCard(admin, from.id)).toMatchObject({ session: null, open_calls: [] });
    const tables = (await api('GET', '/api/admin/tables', { token: admin })).body.tables;
    expect(tables.find((t: any) => t.id === to.id).active_session_id).toBe(party);
    expect(tables.find((t: any) => t.id === from.id).active_session_id).toBeNull();

    // The party orders on at its new table; a guest at the table it left starts a new party.
    expect((await order(to.token, rice.id)).table_session_id).toBe(party);
    const next = await order(from.token, rice.id);
    expect(next.table_session_id).not.toBe(party);
    expect(await activeSessionOf(from.id)).toBe(next.table_session_id);
  });

  it('archives the moved party under its new table at 이용 완료', async () => {
    const { store, from, to, stew } = await threeTables();
    const admin = store.admin.token;
    const ordered = await order(from.token, stew.id);
    expect((await moveParty(admin, from.id, to.id)).status).toBe(200);

    const completed = await completeSession(admin, to.id);

    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.body).toMatchObject({
      table_session_id: ordered.table_session_id,
      order_count: 1,
      total_amount: 9_000,
    });
    const history = (table: string) =>
      api('GET', `/api/admin/tables/${table}/order-history`, { token: admin });
    const atTo = await history(to.id);
    expect(atTo.body.data.map((o: any) => [o.original_order_id, o.table_session_id])).toEqual([
      [ordered.id, ordered.table_session_id],
    ]);
    expect((await history(from.id)).body.data).toEqual([]);
    expect((await completeSession(admin, from.id)).body.error.code).toBe('NO_ACTIVE_SESSION');
  });
});

describe('merging a party into another (합석)', () => {
  it("puts both parties' orders in the target's session, adds up the totals, and frees the source table", async () => {
    const { store, from, to, stew, rice, soju } = await threeTables();
    const admin = store.admin.token;
    const joining = await order(from.token, stew.id, 2);
    const joiningMore = await order(from.token, soju.id);
    const seated = await order(to.token, rice.id, 3);

    const res = await mergeParty(admin, from.id, to.id);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      table_session_id: seated.table_session_id,
      merged_session_id: joining.table_session_id,
      from_table_id: from.id,
      into_table_id: to.id,
      order_count: 3,
      total_amount: 18_000 + 5_000 + 3_000,
    });
    const atTo = await ordersOfTable(to.token);
    expect(atTo.body).toMatchObject({
      table_session_id: seated.table_session_id,
      total_amount: 26_000,
    });
    expect(atTo.body.orders.map((o: any) => [o.id, o.table_id, o.table_session_id])).toEqual(
      [seated, joiningMore, joining].map((o) => [o.id, to.id, seated.table_session_id]),
    );
    expect((await ordersOfTable(from.token)).body.orders).toEqual([]);
    expect(await adminOrdersAt(admin, from.id)).toEqual([]);
    expect((await adminOrdersAt(admin, to.id)).length).toBe(3);
    expect((await dashboardCard(admin, to.id)).session).toMatchObject({
      id: seated.table_session_id,
      order_count: 3,
      total_amount: 26_000,
    });
    expect((await dashboardCard(admin, from.id)).session).toBeNull();
    const { sessions } = await floorRowsOf(store.id);
    expect(sessions.find((s) => s.id === joining.table_session_id)!.endedAt).not.toBeNull();

    const next = await order(from.token, rice.id);
    expect([joining.table_session_id, seated.table_session_id]).not.toContain(
      next.table_session_id,
    );
    const completed = await completeSession(admin, to.id);
    expect(completed.body).toMatchObject({ order_count: 3, total_amount: 26_000 });
  });

  it("brings the party's open calls along; a call the target table already has open stands for both", async () => {
    const { store, from, to, stew, rice } = await threeTables();
    await order(from.token, stew.id);
    await order(to.token, rice.id);
    const theirWater = await callStaff(from.token, 'water');
    const theirBill = await callStaff(from.token, 'bill');
    const ourWater = await callStaff(to.token, 'water');

    expect((await mergeParty(store.admin.token, from.id, to.id)).status).toBe(200);

    const { calls } = await floorRowsOf(store.id);
    const call = (id: string) => calls.find((c) => c.id === id)!;
    expect([call(ourWater.id).tableId, call(ourWater.id).status]).toEqual([to.id, 'open']);
    expect([call(theirBill.id).tableId, call(theirBill.id).status]).toEqual([to.id, 'open']);
    expect(call(theirWater.id).status).toBe('closed');
    expect(call(theirWater.id).closedAt).not.toBeNull();
  });
});

describe('moves and merges that cannot be done', () => {
  /** Runs `request` and expects `status` and `code` with nothing written to the store. */
  async function refused(
    storeId: string,
    request: () => Promise<ApiResponse>,
    status: number,
    code: string,
  ) {
    const before = await floorRowsOf(storeId);
    const res = await request();
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(await floorRowsOf(storeId)).toEqual(before);
    return res.body.error;
  }

  it('answers 409 NO_ACTIVE_SESSION when nobody is seated at the source, or at the target of a merge', async () => {
    const { store, from, to, other, stew } = await threeTables();
    const admin = store.admin.token;
    await order(to.token, stew.id);
    const noParty = await refused(
      store.id,
      () => moveParty(admin, from.id, other.id),
      409,
      'NO_ACTIVE_SESSION',
    );
    expect(noParty.details).toEqual({ table_id: from.id });
    await refused(store.id, () => mergeParty(admin, from.id, to.id), 409, 'NO_ACTIVE_SESSION');
    const freeTarget = await refused(
      store.id,
      () => mergeParty(admin, to.id, other.id),
      409,
      'NO_ACTIVE_SESSION',
    );
    expect(freeTarget.details).toEqual({ table_id: other.id });
  });

  it('answers 409 TABLE_OCCUPIED when a party is seated at the target of a move', async () => {
    const { store, from, to, stew } = await threeTables();
    await order(from.token, stew.id);
    const seated = await order(to.token, stew.id);
    const error = await refused(
      store.id,
      () => moveParty(store.admin.token, from.id, to.id),
      409,
      'TABLE_OCCUPIED',
    );
    expect(error.details).toEqual({ table_id: to.id, table_session_id: seated.table_session_id });
  });

  it('answers 400 for the same table, a missing or malformed target, and a malformed path id', async () => {
    const { store, from, stew } = await threeTables();
    const admin = store.admin.token;
    await order(from.token, stew.id);
    await refused(store.id, () => moveParty(admin, from.id, from.id), 400, 'VALIDATION_ERROR');
    await refused(store.id, () => mergeParty(admin, from.id, from.id), 400, 'VALIDATION_ERROR');
    await refused(
      store.id,
      () => api('POST', `/api/admin/tables/${from.id}/move`, { token: admin, body: {} }),
      400,
      'VALIDATION_ERROR',
    );
    await refused(store.id, () => mergeParty(admin, from.id, 'table-2'), 400, 'VALIDATION_ERROR');
    await refused(store.id, () => moveParty(admin, 'table-1', from.id), 400, 'VALIDATION_ERROR');
  });

  it("answers 404 for another store's table on either side, or an unknown one, and changes nothing", async () => {
    const { store, from, to, stew } = await threeTables();
    const elsewhere = await threeTables();
    const admin = store.admin.token;
    await order(from.token, stew.id);
    await order(elsewhere.from.token, elsewhere.stew.id);
    for (const request of [
      () => moveParty(admin, from.id, elsewhere.to.id),
      () => moveParty(admin, elsewhere.from.id, to.id),
      () => mergeParty(admin, from.id, elsewhere.from.id),
      () => mergeParty(admin, elsewhere.from.id, from.id),
      () => moveParty(admin, from.id, crypto.randomUUID()),
    ]) {
      await refused(store.id, request, 404, 'NOT_FOUND');
    }
    const { sessions, orders } = await floorRowsOf(elsewhere.store.id);
    expect(sessions.map((s) => [s.tableId, s.endedAt])).toEqual([[elsewhere.from.id, null]]);
    expect(orders.map((o) => o.tableId)).toEqual([elsewhere.from.id]);
  });

  it('is for store admins only', async () => {
    const { store, from, to, stew } = await threeTables();
    await order(from.token, stew.id);
    await refused(store.id, () => moveParty(from.token, from.id, to.id), 403, 'FORBIDDEN');
    const anonymous = await api('POST', `/api/admin/tables/${from.id}/merge`, {
      body: { into_table_id: to.id },
    });
    expect(anonymous.status).toBe(401);
  });
});

describe('orders racing a move or a merge', () => {
  it('every order placed while the party moves ends in exactly one party, and the moved total adds up', async () => {
    const { store, from, to, stew } = await threeTables();
    const seated = await order(from.token, stew.id);
    const orderAtSource = () => placeOrder(from.token, [[stew.id, 1]]);

    const [ahead, [moved], behind] = await queuedBehindSession(seated.table_session_id, [
      times(10, orderAtSource),
      [() => moveParty(store.admin.token, from.id, to.id)],
      times(10, orderAtSource),
    ]);

    const placed = [...ahead!, ...behind!];
    expect(placed.map((res) => res.status)).toEqual(Array(20).fill(201));
    expect(moved!.status, JSON.stringify(moved!.body)).toBe(200);
    const { orders, sessions } = await floorRowsOf(store.id);
    expect(orders.map((o) => o.id).sort()).toEqual(
      [seated.id, ...placed.map((res) => res.body.id)].sort(),
    );
    // Each order is stored once, in the party its answer named, at that party's table.
    const tableOf = new Map(sessions.map((s) => [s.id, s.tableId]));
    for (const res of placed) {
      const row = orders.find((o) => o.id === res.body.id)!;
      expect(row.tableSessionId).toBe(res.body.table_session_id);
      expect(row.tableId).toBe(tableOf.get(row.tableSessionId));
    }
    // The orders ahead of the move went with the party; those behind it seated a new one.
    const party = seated.table_session_id;
    expect(ahead!.every((res) => res.body.table_session_id === party)).toBe(true);
    const newParty = await activeSessionOf(from.id);
    expect(behind!.every((res) => res.body.table_session_id === newParty)).toBe(true);
    const partyOrders = orders.filter((o) => o.tableSessionId === party);
    expect(partyOrders.every((o) => o.tableId === to.id)).toBe(true);
    expect(moved!.body).toMatchObject({
      order_count: partyOrders.length,
      total_amount: partyOrders.reduce((sum, o) => sum + o.totalAmount, 0),
    });
    expect(partyOrders.length).toBe(11);
  });

  it('every order placed while the party merges ends in exactly one party, and the merged total adds up', async () => {
    const { store, from, to, stew, rice } = await threeTables();
    const joining = await order(from.token, stew.id);
    const seated = await order(to.token, rice.id);
    const orderAtSource = () => placeOrder(from.token, [[stew.id, 1]]);

    const [ahead, [merged], behind] = await queuedBehindSession(joining.table_session_id, [
      times(10, orderAtSource),
      [() => mergeParty(store.admin.token, from.id, to.id)],
      times(10, orderAtSource),
    ]);

    const placed = [...ahead!, ...behind!];
    expect(placed.map((res) => res.status)).toEqual(Array(20).fill(201));
    expect(merged!.status, JSON.stringify(merged!.body)).toBe(200);
    const { orders } = await floorRowsOf(store.id);
    expect(orders.map((o) => o.id).sort()).toEqual(
      [joining.id, seated.id, ...placed.map((res) => res.body.id)].sort(),
    );
    const target = seated.table_session_id;
    const newParty = await activeSessionOf(from.id);
    expect(newParty).not.toBe(joining.table_session_id);
    const sessionOf = (id: string) => orders.find((o) => o.id === id)!.tableSessionId;
    // Ahead of the merge: placed in the joining party, now in the target's. Behind: a new party.
    expect(ahead!.map((res) => res.body.table_session_id)).toEqual(
      Array(10).fill(joining.table_session_id),
    );
    expect(ahead!.map((res) => sessionOf(res.body.id))).toEqual(Array(10).fill(target));
    expect(behind!.map((res) => sessionOf(res.body.id))).toEqual(Array(10).fill(newParty));
    expect(orders.filter((o) => o.tableSessionId === joining.table_session_id)).toEqual([]);
    const targetOrders = orders.filter((o) => o.tableSessionId === target);
    expect(targetOrders.every((o) => o.tableId === to.id)).toBe(true);
    expect(merged!.body).toMatchObject({
      order_count: 12,
      total_amount: targetOrders.reduce((sum, o) => sum + o.totalAmount, 0),
    });
  });

  it('a kitchen step or a cancel queued behind a merge lands on the merged order, never a 404', async () => {
    const admin = async (change: (orderId: string, token: string) => Promise<ApiResponse>) => {
      const { store, from, to, stew, rice } = await threeTables();
      const changed = await order(from.token, stew.id);
      await order(to.token, rice.id);
      const [[merged], [answer]] = await queuedBehindOrder(changed.id, [
        [() => mergeParty(store.admin.token, from.id, to.id)],
        [() => change(changed.id, store.admin.token)],
      ]);
      expect(merged!.status, JSON.stringify(merged!.body)).toBe(200);
      expect(answer!.status, JSON.stringify(answer!.body)).toBe(200);
      expect(answer!.body).toMatchObject({ table_id: to.id });
      return answer!.body;
    };

    const stepped = await admin((id, token) =>
      api('PATCH', `/api/admin/orders/${id}/status`, { token, body: { status: 'preparing' } }),
    );
    expect(stepped.status).toBe('preparing');
    const cancelled = await admin((id, token) =>
      api('POST', `/api/admin/orders/${id}/cancel`, { token, body: { reason: '합석' } }),
    );
    expect(cancelled).toMatchObject({ status: 'cancelled', cancel_reason: '합석' });
  });

  it('a guest calling the staff while the party merges: the call goes along', async () => {
    const { store, from, to, stew } = await threeTables();
    const joining = await order(from.token, stew.id);
    await order(to.token, stew.id);

    const [[called], [merged]] = await queuedBehindSession(joining.table_session_id, [
      [() => api('POST', '/api/customer/calls', { token: from.token, body: { reason: 'bill' } })],
      [() => mergeParty(store.admin.token, from.id, to.id)],
    ]);

    expect([called!.status, merged!.status]).toEqual([201, 200]);
    const { calls } = await floorRowsOf(store.id);
    expect(calls.map((c) => [c.id, c.tableId, c.status])).toEqual([
      [called!.body.id, to.id, 'open'],
    ]);
  });
  it('an acknowledgement queued behind the move of its call lands on the moved call, never a 404', async () => {
    const { store, from, to, stew } = await threeTables();
    await order(from.token, stew.id);
    const called = await callStaff(from.token, 'water');

    const [[moved], [acknowledged]] = await queuedBehindCall(called.id, [
      [() => moveParty(store.admin.token, from.id, to.id)],
      [
        () =>
          api('POST', `/api/admin/calls/${called.id}/acknowledge`, { token: store.admin.token }),
      ],
    ]);

    expect(moved!.status, JSON.stringify(moved!.body)).toBe(200);
    expect(acknowledged!.status, JSON.stringify(acknowledged!.body)).toBe(200);
    expect(acknowledged!.body).toMatchObject({
      id: called.id,
      table_id: to.id,
      table_number: to.tableNumber,
      status: 'acknowledged',
    });
  });
});

describe('two admins at once', () => {
  it('merging A into B and B into A at the same moment: one is done, the other is 409', async () => {
    const { store, from: a, to: b, stew } = await threeTables();
    await order(a.token, stew.id);
    await order(b.token, stew.id, 2);

    const results = await Promise.all([
      mergeParty(store.admin.token, a.id, b.id),
      mergeParty(store.admin.token, b.id, a.id),
    ]);

    expect(results.map((res) => res.status).sort()).toEqual([200, 409]);
    expect(results.find((res) => res.status === 409)!.body.error.code).toBe('NO_ACTIVE_SESSION');
    const active = [await activeSessionOf(a.id), await activeSessionOf(b.id)];
    expect(active.filter((id) => id !== null)).toHaveLength(1);
    const { orders } = await floorRowsOf(store.id);
    expect(orders.map((o) => o.tableSessionId)).toEqual(Array(2).fill(active.find(Boolean)));
  });

  it('moving one party to two tables at the same moment: one is done, the other is 409', async () => {
    const { store, from, to, other, stew } = await threeTables();
    await order(from.token, stew.id);

    const results = await Promise.all([
      moveParty(store.admin.token, from.id, to.id),
      moveParty(store.admin.token, from.id, other.id),
    ]);

    expect(results.map((res) => res.status).sort()).toEqual([200, 409]);
    expect(results.find((res) => res.status === 409)!.body.error.code).toBe('NO_ACTIVE_SESSION');
  });

  it('이용 완료 and a move of the same table at the same moment: whichever comes first wins, the other is 409', async () => {
    for (const first of ['complete', 'move'] as const) {
      const { store, from, to, stew } = await threeTables();
      const admin = store.admin.token;
      const seated = await order(from.token, stew.id);
      const complete = () => completeSession(admin, from.id);
      const move = () => moveParty(admin, from.id, to.id);

      const [[winner], [loser]] = await queuedBehindSession(
        seated.table_session_id,
        first === 'complete' ? [[complete], [move]] : [[move], [complete]],
      );

      expect(winner!.status, JSON.stringify(winner!.body)).toBe(200);
      expect(loser!.status, JSON.stringify(loser!.body)).toBe(409);
      expect(loser!.body.error.code).toBe('NO_ACTIVE_SESSION');
    }
  });
});

describe('the floor learns of a move or a merge (events)', () => {
  /** Opens the admin's stream and the three tablets' streams, fresh. */
  async function openStreams(room: Awaited<ReturnType<typeof threeTables>>, lastEventId?: string) {
    const open = (path: string, token: string) => openStream(path, { token, lastEventId });
    const streams = {
      admin: await open(ADMIN_STREAM, room.store.admin.token),
      from: await open(TABLE_STREAM, room.from.token),
      to: await open(TABLE_STREAM, room.to.token),
      other: await open(TABLE_STREAM, room.other.token),
    };
    for (const stream of Object.values(streams)) expect(await stream.next()).toEqual(RETRY);
    return streams;
  }

  it('table.session_moved reaches the admins and both tables, live and on replay, and no other table', async () => {
    const room = await threeTables();
    const { store, from, to, other, stew } = room;
    const live = await openStreams(room);
    const ordered = await order(from.token, stew.id);
    expect((await moveParty(store.admin.token, from.id, to.id)).status).toBe(200);
    const [created, moved] = await relayOutbox(store.id);

    expect(moved).toEqual({
      id: expect.any(Number),
      type: 'table.session_moved',
      store_id: store.id,
      table_id: to.id,
      table_session_id: ordered.table_session_id,
      occurred_at: expect.any(String),
      data: {
        table_session_id: ordered.table_session_id,
        from_table_id: from.id,
        to_table_id: to.id,
      },
      actor: { role: 'store_admin', id: store.admin.id },
      correlation_id: expect.stringMatching(CORRELATION_ID_PATTERN),
    });
    expect(outboxIds(await live.admin.events(2))).toEqual([created!.id, moved!.id]);
    expect(outboxIds(await live.from.events(2))).toEqual([created!.id, moved!.id]);
    expect(outboxIds(await live.to.events(1))).toEqual([moved!.id]);
    // Positive control: the next event the other table gets is its own order, after the move.
    await order(other.token, stew.id);
    const otherOrder = (await relayOutbox(store.id)).at(-1)!;
    expect(outboxIds(await live.other.events(1))).toEqual([otherOrder.id]);

    const back = await openStreams(room, String(created!.id));
    expect(outboxIds(await back.admin.events(2))).toEqual([moved!.id, otherOrder.id]);
    expect(outboxIds(await back.from.events(1))).toEqual([moved!.id]);
    expect(outboxIds(await back.to.events(1))).toEqual([moved!.id]);
    expect(outboxIds(await back.other.events(1))).toEqual([otherOrder.id]);
  });

  it('table.session_merged reaches the admins and both tables, live and on replay, and no other table', async () => {
    const room = await threeTables();
    const { store, from, to, other, stew } = room;
    const joining = await order(from.token, stew.id);
    const seated = await order(to.token, stew.id);
    const [, lastOrder] = await relayOutbox(store.id);
    const live = await openStreams(room);
    expect((await mergeParty(store.admin.token, from.id, to.id)).status).toBe(200);
    const merged = (await relayOutbox(store.id)).at(-1)!;

    expect(merged).toMatchObject({
      type: 'table.session_merged',
      table_id: to.id,
      table_session_id: seated.table_session_id,
      data: {
        table_session_id: seated.table_session_id,
        merged_session_id: joining.table_session_id,
        from_table_id: from.id,
        into_table_id: to.id,
      },
      actor: { role: 'store_admin', id: store.admin.id },
      correlation_id: expect.stringMatching(CORRELATION_ID_PATTERN),
    });
    for (const stream of [live.admin, live.from, live.to]) {
      expect(outboxIds(await stream.events(1))).toEqual([merged.id]);
    }
    await order(other.token, stew.id);
    const otherOrder = (await relayOutbox(store.id)).at(-1)!;
    expect(outboxIds(await live.other.events(1))).toEqual([otherOrder.id]);

    const back = await openStreams(room, String(lastOrder!.id));
    expect(outboxIds(await back.from.events(1))).toEqual([merged.id]);
    expect(outboxIds(await back.to.events(1))).toEqual([merged.id]);
    expect(outboxIds(await back.other.events(1))).toEqual([otherOrder.id]);
  });

  it("sends the table the party left a resync, not its party's orders, when it comes back from before them", async () => {
    const room = await threeTables();
    const { store, from, to, stew } = room;
    await order(from.token, stew.id);
    expect((await moveParty(store.admin.token, from.id, to.id)).status).toBe(200);
    const [, moved] = await relayOutbox(store.id);

    const tablet = await openStream(TABLE_STREAM, { token: from.token, lastEventId: '0' });
    expect(await tablet.next()).toEqual(RETRY);
    expect(await tablet.nextEvent()).toEqual({
      kind: 'event',
      id: String(moved!.id),
      event: 'resync',
      data: '{}',
    });
  });

  it('keeps an event of the party that reaches the store after it moved away from the table it left', async () => {
    const room = await threeTables();
    const { store, from, to } = room;
    const live = await openStreams(room);
    const party = crypto.randomUUID();
    const moved = envelope(store.id, {
      type: 'table.session_moved',
      tableId: to.id,
      tableSessionId: party,
      data: { table_session_id: party, from_table_id: from.id, to_table_id: to.id },
    });
    const late = envelope(store.id, {
      type: 'order.status_changed',
      tableId: from.id,
      tableSessionId: party,
    });
    const nextParty = envelope(store.id, { tableId: from.id });
    const atNewTable = envelope(store.id, { tableId: to.id, tableSessionId: party });
    await deliverAll(moved, late, nextParty, atNewTable);

    expect(outboxIds(await live.from.events(2))).toEqual([moved.id, nextParty.id]);
    expect(outboxIds(await live.to.events(2))).toEqual([moved.id, atNewTable.id]);
    expect(outboxIds(await live.admin.events(4))).toEqual(
      [moved, late, nextParty, atNewTable].map((e) => e.id),
    );
  });
});

describe('the audit trail of the floor', () => {
  it('records a move and a merge with the admin, and nothing for a refused one', async () => {
    const { store, from, to, other, stew } = await threeTables();
    const admin = store.admin;
    const moving = await order(from.token, stew.id);
    const seated = await order(other.token, stew.id);
    expect((await moveParty(admin.token, from.id, other.id)).status).toBe(409);
    expect((await floorRowsOf(store.id)).audit).toEqual([]);

    expect((await moveParty(admin.token, from.id, to.id)).status).toBe(200);
    expect((await mergeParty(admin.token, to.id, other.id)).status).toBe(200);

    const { audit } = await floorRowsOf(store.id);
    expect(audit).toEqual([
      expect.objectContaining({
        actorRole: 'store_admin',
        actorId: admin.id,
        action: 'session.moved',
        targetType: 'session',
        targetId: moving.table_session_id,
        details: { from_table_id: from.id, to_table_id: to.id },
      }),
      expect.objectContaining({
        actorRole: 'store_admin',
        actorId: admin.id,
        action: 'session.merged',
        targetType: 'session',
        targetId: seated.table_session_id,
        details: {
          from_table_id: to.id,
          into_table_id: other.id,
          merged_session_id: moving.table_session_id,
        },
      }),
    ]);
  });

  it('records adding, changing and removing a table, never its password', async () => {
    const store = await newStore();
    const admin = store.admin;
    const password = 'secret-tablet-1';
    const added = await api('POST', '/api/admin/tables', {
      token: admin.token,
      body: { table_number: 'A-1', password },
    });
    expect(added.status).toBe(201);
    const id = added.body.id as string;
    const taken = await api('POST', '/api/admin/tables', {
      token: admin.token,
      body: { table_number: 'a-1', password },
    });
    expect(taken.status).toBe(409);
    const patch = (body: object) =>
      api('PATCH', `/api/admin/tables/${id}`, { token: admin.token, body });
    expect((await patch({ table_number: 'A-2' })).status).toBe(200);
    expect((await patch({ password: 'secret-tablet-2' })).status).toBe(200);
    expect((await patch({ table_number: 'A-1', password })).status).toBe(200);
    expect((await api('DELETE', `/api/admin/tables/${id}`, { token: admin.token })).status).toBe(
      204,
    );

    const { audit } = await floorRowsOf(store.id);
    const byAdmin = {
      actorRole: 'store_admin',
      actorId: admin.id,
      targetType: 'table',
      targetId: id,
    };
    expect(audit).toEqual(
      [
        { action: 'table.created', details: { table_number: 'A-1' } },
        {
          action: 'table.updated',
          details: { table_number: 'A-2', previous_table_number: 'A-1', password_changed: false },
        },
        {
          action: 'table.updated',
          details: { table_number: 'A-2', previous_table_number: 'A-2', password_changed: true },
        },
        {
          action: 'table.updated',
          details: { table_number: 'A-1', previous_table_number: 'A-2', password_changed: true },
        },
        { action: 'table.deleted', details: { table_number: 'A-1' } },
      ].map((entry) => expect.objectContaining({ ...byAdmin, ...entry })),
    );
    expect(JSON.stringify(audit)).not.toContain('secret-tablet');
  });

  it('records nothing for a table that cannot be removed', async () => {
    const { store, table, stew } = await diningRoom();
    await order(table.token, stew.id);
    const res = await api('DELETE', `/api/admin/tables/${table.id}`, { token: store.admin.token });
    expect(res.status).toBe(409);
    expect((await floorRowsOf(store.id)).audit).toEqual([]);
  });
});
