import { afterEach, describe, expect, it } from 'vitest';
import { api, newStore, newTable } from './support/fixtures.ts';
import { diningRoom, placeOrder } from './support/ordering.ts';
import { deliverAll, envelope, relayOutbox } from './support/relay.ts';
import { closeAllStreams, openStream, type SseEvent } from './support/sse.ts';

const ADMIN_STREAM = '/api/admin/orders/stream';
const TABLE_STREAM = '/api/customer/orders/stream';
const RETRY = { kind: 'retry', ms: 3000 };

afterEach(closeAllStreams);

/** The outbox ids carried by received events, in arrival order. */
const outboxIds = (events: SseEvent[]) => events.map((e) => JSON.parse(e.data).id as number);

/** 이용 완료 of the table, by its store's admin. */
async function completeSession(adminToken: string, tableId: string): Promise<void> {
  const res = await api('POST', `/api/admin/tables/${tableId}/complete-session`, {
    token: adminToken,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** The table orders one 김치찌개 per `quantity`; answers the new order. */
async function order(token: string, menuId: string, quantity = 1) {
  const res = await placeOrder(token, [[menuId, quantity]]);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; table_session_id: string };
}

describe("a table's stream after 이용 완료", () => {
  it("never replays the previous party's orders, whether the tablet comes back from the start or from one of their orders", async () => {
    const { store, table, stew } = await diningRoom();
    const previousParty = await order(table.token, stew.id);
    await completeSession(store.admin.token, table.id);
    const [previousOrder, completion] = await relayOutbox(store.id);
    expect([previousOrder!.type, completion!.type]).toEqual([
      'order.created',
      'table.session_completed',
    ]);

    const tablets = [];
    for (const lastEventId of ['0', String(previousOrder!.id)]) {
      const tablet = await openStream(TABLE_STREAM, { token: table.token, lastEventId });
      expect(await tablet.next()).toEqual(RETRY);
      // The tablet reloads its order list (the new party's: empty) and resumes from here.
      expect(await tablet.nextEvent()).toEqual({
        kind: 'event',
        id: String(completion!.id),
        event: 'resync',
        data: '{}',
      });
      tablets.push(tablet);
    }

    const nextParty = await order(table.token, stew.id, 2);
    expect(nextParty.table_session_id).not.toBe(previousParty.table_session_id);
    const nextOrder = (await relayOutbox(store.id)).at(-1)!;
    for (const tablet of tablets) {
      const received = await tablet.nextEvent();
      expect(received.event).toBe('order.created');
      expect(JSON.parse(received.data)).toEqual(nextOrder);
    }
  });

  it("replays the new party's orders to a tablet that saw 이용 완료 before it lost its connection", async () => {
    const { store, table, stew } = await diningRoom();
    const tablet = await openStream(TABLE_STREAM, { token: table.token });
    expect(await tablet.next()).toEqual(RETRY);
    await order(table.token, stew.id);
    await completeSession(store.admin.token, table.id);
    await relayOutbox(store.id);
    const [ordered, completed] = await tablet.events(2);
    expect([ordered!.event, completed!.event]).toEqual([
      'order.created',
      'table.session_completed',
    ]);
    await tablet.close();

    await order(table.token, stew.id);
    const missed = (await relayOutbox(store.id)).at(-1)!;
    const back = await openStream(TABLE_STREAM, { token: table.token, lastEventId: completed!.id });
    expect(outboxIds([await back.nextEvent()])).toEqual([missed.id]);
  });

  it('does not pass on an event of the previous party that reaches the store after its 이용 완료', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const [previousParty, nextParty] = [crypto.randomUUID(), crypto.randomUUID()];
    const tablet = await openStream(TABLE_STREAM, { token: table.token });
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    expect([await tablet.next(), await dashboard.next()]).toEqual([RETRY, RETRY]);

    const ofTable = { tableId: table.id };
    const late = envelope(store.id, {
      ...ofTable,
      tableSessionId: previousParty,
      type: 'order.status_changed',
    });
    const completion = envelope(store.id, {
      ...ofTable,
      tableSessionId: previousParty,
      type: 'table.session_completed',
    });
    const nextOrder = envelope(store.id, { ...ofTable, tableSessionId: nextParty });
    await deliverAll(completion, late, nextOrder);

    expect(outboxIds(await tablet.events(2))).toEqual([completion.id, nextOrder.id]);
    // The admin sees everything, as before.
    expect(outboxIds(await dashboard.events(3))).toEqual([completion.id, late.id, nextOrder.id]);
  });
});
