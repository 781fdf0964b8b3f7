import { afterEach, describe, expect, it } from 'vitest';
import { CALL_NOTE_MAX_LENGTH } from '../../db/schema.ts';
import {
  acknowledge,
  callAuditOf,
  callEventsOf,
  callRowsOf,
  callStaff,
  closedCalls,
  listCalls,
} from './support/calls.ts';
import { api, newStore, newTable } from './support/fixtures.ts';
import { seatGuests } from './support/floor.ts';
import { relayOutbox } from './support/relay.ts';
import { closeAllStreams, openStream } from './support/sse.ts';

afterEach(closeAllStreams);

const ANY_TIME = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

/** A store with one table, where a party is seated. */
async function seatedTable(tableNumber = '7') {
  const store = await newStore();
  const table = await newTable(store.id, tableNumber);
  const session = await seatGuests(store.id, table.id);
  return { store, table, session };
}

/** A call's answer (and event data) for the table, open and untouched by the staff. */
function openCall(table: { id: string; tableNumber: string }, reason: string, note: string | null) {
  return {
    id: expect.any(String),
    table_id: table.id,
    table_number: table.tableNumber,
    reason,
    note,
    status: 'open',
    created_at: ANY_TIME,
    acknowledged_at: null,
    acknowledged_by: null,
  };
}

/** The dashboard's card of a table, as the admin reads it. */
async function dashboardCard(token: string, tableId: string) {
  const res = await api('GET', '/api/admin/dashboard', { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.tables.find((table: { id: string }) => table.id === tableId);
}

describe('a guest calls the staff (직원 호출)', () => {
  it('answers 201 with the open call and tells the floor with table.call_requested', async () => {
    const { store, table, session } = await seatedTable();

    const res = await callStaff(table.token, { reason: 'water', note: '  얼음 많이  ' });

    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual(openCall(table, 'water', '얼음 많이'));
    const events = await callEventsOf(store.id);
    expect(events).toMatchObject([
      {
        type: 'table.call_requested',
        tableId: table.id,
        tableSessionId: session.id,
        payload: res.body,
        actorRole: null,
        actorId: null,
      },
    ]);
  });

  it('works at a table nobody has ordered at yet: the call belongs to no party, a blank note is none', async () => {
    const store = await newStore();
    const table = await newTable(store.id, 'A-1');

    const res = await callStaff(table.token, { reason: 'help', note: '   ' });

    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual(openCall(table, 'help', null));
    expect(await callEventsOf(store.id)).toMatchObject([
      { type: 'table.call_requested', tableId: table.id, tableSessionId: null },
    ]);
  });

  it('answers the open call again (200) for the same reason and tells no one twice; another reason is a new call', async () => {
    const { store, table } = await seatedTable();
    const first = await callStaff(table.token, { reason: 'water' });

    const again = await callStaff(table.token, { reason: 'water', note: '빨리요' });

    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await callEventsOf(store.id)).toHaveLength(1);

    const bill = await callStaff(table.token, { reason: 'bill' });
    expect(bill.status, JSON.stringify(bill.body)).toBe(201);
    expect(bill.body.id).not.toBe(first.body.id);
    expect((await callEventsOf(store.id)).map((event) => event.payload)).toEqual([
      first.body,
      bill.body,
    ]);
  });

  it('makes one call when guests press the same button at once: one 201, the others 200', async () => {
    const { store, table } = await seatedTable();

    const answers = await Promise.all(
      Array.from({ length: 5 }, () => callStaff(table.token, { reason: 'cutlery' })),
    );

    expect(answers.map((res) => res.status).toSorted()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(answers.map((res) => res.body.id)).size).toBe(1);
    expect(await callRowsOf(table.id)).toHaveLength(1);
    expect(await callEventsOf(store.id)).toHaveLength(1);
  });

  it.each([
    ['an unknown reason', { reason: 'coffee' }],
    ['no reason', { note: '물 주세요' }],
    ['a note too long', { reason: 'other', note: 'x'.repeat(CALL_NOTE_MAX_LENGTH + 1) }],
    ['a note on two lines', { reason: 'other', note: '물\n주세요' }],
    ['a field the call does not have', { reason: 'water', table_id: crypto.randomUUID() }],
  ])('refuses %s with 400 VALIDATION_ERROR and calls no one', async (_, body) => {
    const { store, table } = await seatedTable();

    const res = await callStaff(table.token, body);

    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(await callRowsOf(table.id)).toEqual([]);
    expect(await callEventsOf(store.id)).toEqual([]);
  });

  it('takes a note of exactly the longest length', async () => {
    const { table } = await seatedTable();
    const note = '가'.repeat(CALL_NOTE_MAX_LENGTH);
    const res = await callStaff(table.token, { reason: 'other', note });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.note).toBe(note);
  });

  it('is for tablets only: an admin token is 403 FORBIDDEN, no token 401', async () => {
    const { store } = await seatedTable();
    const asAdmin = await callStaff(store.admin.token, { reason: 'water' });
    expect(asAdmin.status).toBe(403);
    expect(asAdmin.body.error.code).toBe('FORBIDDEN');
    const anonymous = await api('POST', '/api/customer/calls', { body: { reason: 'water' } });
    expect(anonymous.status).toBe(401);
  });
});

describe("the admin's list of calls", () => {
  it('shows the open and acknowledged calls, newest first, each with its table label; ?status= picks one state', async () => {
    const store = await newStore();
    const window = await newTable(store.id, '창가 1');
    const terrace = await newTable(store.id, '테라스 2');
    await closedCalls({ storeId: store.id, id: window.id }, 1, 'bill');
    const water = await callStaff(window.token, { reason: 'water' });
    const bill = await callStaff(terrace.token, { reason: 'bill', note: '카드요' });
    const help = await callStaff(window.token, { reason: 'help' });
    const acknowledged = await acknowledge(store.admin.token, bill.body.id);
    const neighbour = await seatedTable();
    await callStaff(neighbour.table.token, { reason: 'water' });

    const current = await listCalls(store.admin.token);
    expect(current.status, JSON.stringify(current.body)).toBe(200);
    expect(current.body).toEqual({ calls: [help.body, acknowledged.body, water.body] });
    expect(current.body.calls.map((call: { table_number: string }) => call.table_number)).toEqual([
      '창가 1',
      '테라스 2',
      '창가 1',
    ]);

    expect((await listCalls(store.admin.token, 'open')).body).toEqual({
      calls: [help.body, water.body],
    });
    expect((await listCalls(store.admin.token, 'acknowledged')).body).toEqual({
      calls: [acknowledged.body],
    });
    const closed = await listCalls(store.admin.token, 'closed');
    expect(closed.body.calls).toMatchObject([
      { table_id: window.id, table_number: '창가 1', reason: 'bill', status: 'closed' },
    ]);
  });

  it('shows at most the newest 200', async () => {
    const { store, table } = await seatedTable();
    const calls = await closedCalls({ storeId: store.id, id: table.id }, 201);

    const res = await listCalls(store.admin.token, 'closed');

    expect(res.status).toBe(200);
    expect(res.body.calls.map((call: { id: string }) => call.id)).toEqual(
      calls
        .slice(1)
        .map((call) => call.id)
        .toReversed(),
    );
  });

  it('refuses an unknown status (400) and a tablet (403)', async () => {
    const { store, table } = await seatedTable();
    const unknown = await listCalls(store.admin.token, 'ringing');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('VALIDATION_ERROR');
    const tablet = await listCalls(table.token);
    expect(tablet.status).toBe(403);
  });
});

describe('an admin acknowledges a call', () => {
  it('answers the call acknowledged by that admin, tells the floor with table.call_acknowledged and keeps it in the audit trail', async () => {
    const { store, table, session } = await seatedTable();
    const call = await callStaff(table.token, { reason: 'bill' });

    const res = await acknowledge(store.admin.token, call.body.id);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      ...call.body,
      status: 'acknowledged',
      acknowledged_at: ANY_TIME,
      acknowledged_by: store.admin.id,
    });
    expect(Date.parse(res.body.acknowledged_at)).toBeGreaterThanOrEqual(
      Date.parse(call.body.created_at),
    );
    const [, acknowledged] = await callEventsOf(store.id);
    expect(acknowledged).toMatchObject({
      type: 'table.call_acknowledged',
      tableId: table.id,
      tableSessionId: session.id,
      payload: res.body,
      actorRole: 'store_admin',
      actorId: store.admin.id,
    });
    expect(await callAuditOf(store.id)).toMatchObject([
      {
        actorRole: 'store_admin',
        actorId: store.admin.id,
        action: 'call.acknowledged',
        targetType: 'call',
        targetId: call.body.id,
      },
    ]);
  });

  it('refuses a call that is no longer open with 409 CALL_NOT_OPEN, writing no event and no audit row', async () => {
    const { store, table } = await seatedTable();
    const call = await callStaff(table.token, { reason: 'water' });
    await acknowledge(store.admin.token, call.body.id);

    const again = await acknowledge(store.admin.token, call.body.id);

    expect(again.status, JSON.stringify(again.body)).toBe(409);
    expect(again.body.error.code).toBe('CALL_NOT_OPEN');
    expect(await callAuditOf(store.id)).toHaveLength(1);
    expect((await callEventsOf(store.id)).map((event) => event.type)).toEqual([
      'table.call_requested',
      'table.call_acknowledged',
    ]);
  });

  it('frees the reason: the same call again is a new call', async () => {
    const { store, table } = await seatedTable();
    const first = await callStaff(table.token, { reason: 'water' });
    await acknowledge(store.admin.token, first.body.id);

    const second = await callStaff(table.token, { reason: 'water' });

    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it("answers 404 for another store's call and leaves it open; 404 for an unknown id, 400 for a malformed one", async () => {
    const ours = await seatedTable();
    const theirs = await seatedTable();
    const call = await callStaff(theirs.table.token, { reason: 'help' });

    const foreign = await acknowledge(ours.store.admin.token, call.body.id);

    expect(foreign.status, JSON.stringify(foreign.body)).toBe(404);
    expect(foreign.body.error.code).toBe('NOT_FOUND');
    expect(await callRowsOf(theirs.table.id)).toMatchObject([
      { id: call.body.id, status: 'open', acknowledgedAt: null, acknowledgedBy: null },
    ]);
    expect(await callAuditOf(ours.store.id)).toEqual([]);
    expect(await callAuditOf(theirs.store.id)).toEqual([]);
    expect(await callEventsOf(theirs.store.id)).toHaveLength(1);

    const unknown = await acknowledge(ours.store.admin.token, crypto.randomUUID());
    expect(unknown.status).toBe(404);
    const malformed = await acknowledge(ours.store.admin.token, 'not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('is for store admins only: a tablet is 403', async () => {
    const { table } = await seatedTable();
    const call = await callStaff(table.token, { reason: 'water' });
    const res = await acknowledge(table.token, call.body.id);
    expect(res.status).toBe(403);
  });
});

describe('the dashboard shows the open calls', () => {
  it("lists each table's open calls, oldest first, and drops one once acknowledged", async () => {
    const { store, table } = await seatedTable();
    const free = await newTable(store.id, '8');
    expect(await dashboardCard(store.admin.token, table.id)).toMatchObject({ open_calls: [] });

    const water = await callStaff(table.token, { reason: 'water', note: '얼음 많이' });
    const bill = await callStaff(table.token, { reason: 'bill' });
    const help = await callStaff(free.token, { reason: 'help' });

    const summary = (call: { id: string; reason: string; note: string; created_at: string }) => ({
      id: call.id,
      reason: call.reason,
      note: call.note,
      created_at: call.created_at,
    });
    expect((await dashboardCard(store.admin.token, table.id)).open_calls).toEqual([
      summary(water.body),
      summary(bill.body),
    ]);
    expect(await dashboardCard(store.admin.token, free.id)).toMatchObject({
      session: null,
      open_calls: [summary(help.body)],
    });

    await acknowledge(store.admin.token, water.body.id);

    expect((await dashboardCard(store.admin.token, table.id)).open_calls).toEqual([
      summary(bill.body),
    ]);
  });
});

describe('이용 완료 closes the open calls', () => {
  it("closes the table's open calls, keeps the acknowledged ones, and leaves other tables' alone", async () => {
    const { store, table } = await seatedTable();
    const other = await newTable(store.id, '9');
    const water = await callStaff(table.token, { reason: 'water' });
    const bill = await callStaff(table.token, { reason: 'bill' });
    await acknowledge(store.admin.token, bill.body.id);
    const help = await callStaff(table.token, { reason: 'help' });
    const elsewhere = await callStaff(other.token, { reason: 'water' });

    const res = await api('POST', `/api/admin/tables/${table.id}/complete-session`, {
      token: store.admin.token,
    });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const rows = await callRowsOf(table.id);
    expect(rows.map((row) => [row.id, row.status])).toEqual([
      [water.body.id, 'closed'],
      [bill.body.id, 'acknowledged'],
      [help.body.id, 'closed'],
    ]);
    for (const row of rows.filter((row) => row.status === 'closed')) {
      expect(row.closedAt!.getTime()).toBeGreaterThanOrEqual(row.createdAt.getTime());
    }
    expect(await callRowsOf(other.id)).toMatchObject([{ id: elsewhere.body.id, status: 'open' }]);
    expect(await dashboardCard(store.admin.token, table.id)).toMatchObject({
      session: null,
      open_calls: [],
    });
    expect(
      (await listCalls(store.admin.token)).body.calls.map((c: { id: string }) => c.id),
    ).toEqual([elsewhere.body.id, bill.body.id]);
    // The next party may call for water again.
    expect((await callStaff(table.token, { reason: 'water' })).status).toBe(201);
  });

  it('leaves no call of the party that left open, even when the guests call while the staff clears the table', async () => {
    const { store, table, session } = await seatedTable();
    const reasons = ['water', 'cutlery', 'bill', 'help', 'other'];

    const [completed, ...calls] = await Promise.all([
      api('POST', `/api/admin/tables/${table.id}/complete-session`, { token: store.admin.token }),
      ...reasons.map((reason) => callStaff(table.token, { reason })),
    ]);

    expect(completed!.status, JSON.stringify(completed!.body)).toBe(200);
    expect(calls.map((call) => call.status)).toEqual(Array(reasons.length).fill(201));
    const requested = new Map(
      (await callEventsOf(store.id)).map((event) => [
        (event.payload as { id: string }).id,
        event.tableSessionId,
      ]),
    );
    // A call made before the session ended is the party's and closed with it; one made after
    // belongs to no party and waits for the staff.
    for (const row of await callRowsOf(table.id)) {
      const party = requested.get(row.id);
      expect([party, row.status]).toEqual(
        party === session.id ? [session.id, 'closed'] : [null, 'open'],
      );
    }
  });
});

describe('calls on the live streams', () => {
  it("reach the calling table's stream, not another table's, and every admin's", async () => {
    const store = await newStore();
    const [table, neighbour] = [await newTable(store.id, '1'), await newTable(store.id, '2')];
    const tablet = await openStream('/api/customer/orders/stream', { token: table.token });
    const dashboard = await openStream('/api/admin/orders/stream', { token: store.admin.token });

    const theirs = await callStaff(neighbour.token, { reason: 'water' });
    const theirsSeen = await acknowledge(store.admin.token, theirs.body.id);
    const mine = await callStaff(table.token, { reason: 'bill' });
    const mineSeen = await acknowledge(store.admin.token, mine.body.id);
    await relayOutbox(store.id);

    const onTablet = await tablet.events(2);
    expect(onTablet.map((event) => [event.event, JSON.parse(event.data).data])).toEqual([
      ['table.call_requested', mine.body],
      ['table.call_acknowledged', mineSeen.body],
    ]);
    const onDashboard = await dashboard.events(4);
    expect(onDashboard.map((event) => [event.event, JSON.parse(event.data).data])).toEqual([
      ['table.call_requested', theirs.body],
      ['table.call_acknowledged', theirsSeen.body],
      ['table.call_requested', mine.body],
      ['table.call_acknowledged', mineSeen.body],
    ]);
    expect(JSON.parse(onDashboard[1]!.data).table_id).toBe(neighbour.id);
  });
});
