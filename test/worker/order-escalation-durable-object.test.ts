/**
 * Orders nobody acknowledges: the store's hub raises `order.unacknowledged` on the admins'
 * screens once an order has waited the store's time, again and again at doubling intervals,
 * until someone sees to it. Time is driven through the due times the hub keeps in its storage
 * and its alarm run on demand (`runDurableObjectAlarm`); one case waits for the real alarm.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Envelope } from '../../worker/contracts/events.ts';
import { noticeFrame } from '../../worker/hub/sse.ts';
import { storeHub } from '../../worker/hub/store-hub.ts';
import { ORDER_UNACKNOWLEDGED } from '../../worker/hub/unacknowledged-orders.ts';
import { api, newStore, newTable, type StoreFixture } from './support/fixtures.ts';
import { restartHub } from './support/hub.ts';
import { diningRoom, placeOrder } from './support/ordering.ts';
import { deliverAll, envelope, relayOutbox } from './support/relay.ts';
import { closeAllStreams, openStream, type SseEvent, type SseReader } from './support/sse.ts';

const ADMIN_STREAM = '/api/admin/orders/stream';
const TABLE_STREAM = '/api/customer/orders/stream';
const SECOND = 1_000;
const MINUTE = 60 * SECOND;

afterEach(async () => {
  await closeAllStreams();
  vi.restoreAllMocks();
});

/** A table's new order as the relay delivers it: waiting since `createdAt`, `ackSeconds` allowed. */
function orderCreated(
  storeId: string,
  table: { tableId: string; tableSessionId?: string },
  options: { ackSeconds?: number; createdAt?: number } = {},
): Envelope {
  const createdAt = options.createdAt ?? Date.now();
  return envelope(storeId, {
    type: 'order.created',
    ...table,
    data: {
      id: crypto.randomUUID(),
      table_id: table.tableId,
      status: 'pending',
      created_at: new Date(createdAt).toISOString(),
      ack_seconds: options.ackSeconds ?? 60,
    },
  });
}

const orderIdOf = (created: Envelope) => created.data.id as string;

/** The same party's later event about the order (or its stay). */
function follows(created: Envelope, type: Envelope['type'], data: object): Envelope {
  return envelope(created.store_id, {
    type,
    tableId: created.table_id,
    tableSessionId: created.table_session_id!,
    data,
  });
}

/** What the hub keeps of the orders it watches. */
type Tracked = {
  order_id: string;
  table_id: string;
  next_due_at: number | null;
  escalations: number;
};

function tracked(storeId: string): Promise<Tracked[]> {
  return runInDurableObject(storeHub(env, storeId), (_hub, state) =>
    state.storage.sql
      .exec<Tracked>(
        'SELECT order_id, table_id, next_due_at, escalations FROM unacknowledged_orders',
      )
      .toArray(),
  );
}

async function trackedOrder(storeId: string, orderId: string): Promise<Tracked | undefined> {
  return (await tracked(storeId)).find((row) => row.order_id === orderId);
}

/** Moves an order's next alert `agoMs` into the past, as if its time had come. */
function makeDue(storeId: string, orderId: string, agoMs = SECOND): Promise<void> {
  return runInDurableObject(storeHub(env, storeId), (_hub, state) => {
    state.storage.sql.exec(
      'UPDATE unacknowledged_orders SET next_due_at = ? WHERE order_id = ? AND next_due_at IS NOT NULL',
      Date.now() - agoMs,
      orderId,
    );
  });
}

/** Runs the hub's alarm now, whenever it was set for; answers the time span it ran in. */
async function runAlarm(storeId: string): Promise<{ from: number; to: number }> {
  const from = Date.now();
  expect(await runDurableObjectAlarm(storeHub(env, storeId)), 'an alarm was set').toBe(true);
  return { from, to: Date.now() };
}

/** The next alert an admin's stream received, skipping `events` outbox events before it. */
async function nextAlert(stream: SseReader, timeoutMs = 5_000): Promise<SseEvent> {
  const event = await stream.nextEvent(timeoutMs);
  expect(event.event, JSON.stringify(event)).toBe(ORDER_UNACKNOWLEDGED);
  return event;
}

async function adminStream(store: StoreFixture): Promise<SseReader> {
  return openStream(ADMIN_STREAM, { token: store.admin.token });
}

describe('an order nobody acknowledges', () => {
  it("alerts the admins' screens once it has waited the store's time, and not the tablet", async () => {
    const { store, table, stew } = await diningRoom();
    const patched = await api('PATCH', '/api/admin/store', {
      token: store.admin.token,
      body: { order_ack_seconds: 5 },
    });
    expect(patched.status).toBe(200);
    const dashboard = await adminStream(store);
    const tablet = await openStream(TABLE_STREAM, { token: table.token });
    const placed = await placeOrder(table.token, [[stew.id, 1]]);
    const [created] = await relayOutbox(store.id);
    expect((await dashboard.nextEvent()).event).toBe('order.created');
    expect((await tablet.nextEvent()).event).toBe('order.created');

    const alert = await nextAlert(dashboard, 10_000);

    const age = Date.now() - Date.parse(placed.body.created_at);
    expect(age).toBeGreaterThanOrEqual(5 * SECOND - 100);
    expect(JSON.parse(alert.data)).toEqual({
      order_id: placed.body.id,
      table_id: table.id,
      age_seconds: expect.any(Number),
      escalation: 1,
    });
    expect(JSON.parse(alert.data).age_seconds).toBeGreaterThanOrEqual(5);
    // No `id:` of its own: the stream's last event ID is still the order's event.
    expect(alert.id).toBe(String(created!.id));

    // The tablet's next frame is the acknowledgement, not the alert.
    const seen = await api('POST', `/api/admin/orders/${placed.body.id}/acknowledge`, {
      token: store.admin.token,
    });
    expect(seen.status).toBe(200);
    await relayOutbox(store.id);
    expect((await tablet.nextEvent()).event).toBe('order.acknowledged');
    expect((await dashboard.nextEvent()).event).toBe('order.acknowledged');
  });

  it('alerts again at doubling intervals, never more than 30 minutes apart', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const dashboard = await adminStream(store);
    const created = orderCreated(store.id, { tableId: table.id }, { ackSeconds: 60 });
    await deliverAll(created);
    await dashboard.nextEvent();
    const due = (await trackedOrder(store.id, orderIdOf(created)))!.next_due_at!;
    expect(due - Date.parse(created.data.created_at as string)).toBe(60 * SECOND);

    const intervals = [2, 4, 8, 16, 30, 30].map((minutes) => minutes * MINUTE);
    for (const [n, interval] of intervals.entries()) {
      await makeDue(store.id, orderIdOf(created));
      const ran = await runAlarm(store.id);
      expect(JSON.parse((await nextAlert(dashboard)).data)).toMatchObject({
        order_id: orderIdOf(created),
        escalation: n + 1,
      });
      const row = (await trackedOrder(store.id, orderIdOf(created)))!;
      expect(row.escalations).toBe(n + 1);
      expect(row.next_due_at).toBeGreaterThanOrEqual(ran.from + interval);
      expect(row.next_due_at).toBeLessThanOrEqual(ran.to + interval);
    }
  });

  it("keeps the alarm at the earliest order's next alert", async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const now = Date.now();
    const later = orderCreated(
      store.id,
      { tableId: table.id },
      { ackSeconds: 600, createdAt: now },
    );
    const sooner = orderCreated(
      store.id,
      { tableId: table.id },
      { ackSeconds: 300, createdAt: now },
    );
    const alarm = () =>
      runInDurableObject(storeHub(env, store.id), (_hub, state) => state.storage.getAlarm());

    await deliverAll(later);
    expect(await alarm()).toBe(now + 600 * SECOND);
    await deliverAll(sooner);
    expect(await alarm()).toBe(now + 300 * SECOND);
    await deliverAll(follows(sooner, 'order.cancelled', { ...sooner.data, status: 'cancelled' }));
    expect(await alarm()).toBe(now + 600 * SECOND);
    await deliverAll(follows(later, 'order.acknowledged', { order_id: orderIdOf(later) }));
    expect(await alarm()).toBeNull();
  });

  it('logs one line per alert, for counting them', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const created = orderCreated(store.id, { tableId: table.id });
    await deliverAll(created);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await makeDue(store.id, orderIdOf(created));
    await runAlarm(store.id);

    const lines = warn.mock.calls
      .map(([line]) => JSON.parse(String(line)) as Record<string, unknown>)
      .filter((line) => line.msg === 'order escalated');
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'order escalated',
        store_id: store.id,
        order_id: orderIdOf(created),
        table_id: table.id,
        escalation: 1,
        age_seconds: expect.any(Number),
      },
    ]);
  });
});

/** What stops the alerts: each a later event of the order's party. */
const SEEN_TO: Array<[string, (created: Envelope) => Envelope]> = [
  [
    'an admin acknowledges it',
    (created) =>
      follows(created, 'order.acknowledged', {
        order_id: orderIdOf(created),
        acknowledged_at: new Date().toISOString(),
        acknowledged_by: crypto.randomUUID(),
      }),
  ],
  [
    'the kitchen starts it',
    (created) =>
      follows(created, 'order.status_changed', {
        order_id: orderIdOf(created),
        from: 'pending',
        to: 'preparing',
        acknowledged_at: new Date().toISOString(),
        acknowledged_by: crypto.randomUUID(),
      }),
  ],
  [
    'an admin cancels it',
    (created) => follows(created, 'order.cancelled', { ...created.data, status: 'cancelled' }),
  ],
  [
    'the party leaves (이용 완료)',
    (created) =>
      follows(created, 'table.session_completed', {
        table_session_id: created.table_session_id,
        completed_at: new Date().toISOString(),
        order_count: 1,
        total_amount: 9000,
      }),
  ],
];

describe('the alerts stop', () => {
  it.each(SEEN_TO)('when %s', async (_case, seenTo) => {
    const store = await newStore();
    const dashboard = await adminStream(store);
    const stopped = orderCreated(store.id, { tableId: (await newTable(store.id)).id });
    const control = orderCreated(store.id, { tableId: (await newTable(store.id)).id });
    await deliverAll(stopped, control);
    await makeDue(store.id, orderIdOf(stopped), 2 * SECOND);
    await runAlarm(store.id);
    await dashboard.events(2);
    expect(JSON.parse((await nextAlert(dashboard)).data).order_id).toBe(orderIdOf(stopped));

    await deliverAll(seenTo(stopped));
    await dashboard.nextEvent();
    // Both due, the stopped one first: only the other one's alert arrives.
    await makeDue(store.id, orderIdOf(stopped), 2 * SECOND);
    await makeDue(store.id, orderIdOf(control), SECOND);
    await runAlarm(store.id);

    expect(JSON.parse((await nextAlert(dashboard)).data)).toMatchObject({
      order_id: orderIdOf(control),
      escalation: 1,
    });
    expect((await trackedOrder(store.id, orderIdOf(stopped)))?.next_due_at ?? null).toBeNull();
  });

  it('for an order seen to before its own event arrived (a late delivery)', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const created = orderCreated(store.id, { tableId: table.id });
    await deliverAll(SEEN_TO[0]![1](created), created);
    expect((await trackedOrder(store.id, orderIdOf(created)))?.next_due_at ?? null).toBeNull();
    expect(
      await runInDurableObject(storeHub(env, store.id), (_hub, state) => state.storage.getAlarm()),
    ).toBeNull();
  });
});

describe('an order whose party moves', () => {
  it('is alerted at the table the party moved or merged to, and stops when that party leaves', async () => {
    const store = await newStore();
    const [first, second, third] = [
      await newTable(store.id),
      await newTable(store.id),
      await newTable(store.id),
    ];
    const dashboard = await adminStream(store);
    const party = crypto.randomUUID();
    const created = orderCreated(store.id, { tableId: first.id, tableSessionId: party });
    const hosts = crypto.randomUUID();
    await deliverAll(
      created,
      envelope(store.id, {
        type: 'table.session_moved',
        tableId: second.id,
        tableSessionId: party,
        data: { table_session_id: party, from_table_id: first.id, to_table_id: second.id },
      }),
    );
    await dashboard.events(2);
    await makeDue(store.id, orderIdOf(created));
    await runAlarm(store.id);
    expect(JSON.parse((await nextAlert(dashboard)).data).table_id).toBe(second.id);

    await deliverAll(
      envelope(store.id, {
        type: 'table.session_merged',
        tableId: third.id,
        tableSessionId: hosts,
        data: {
          table_session_id: hosts,
          merged_session_id: party,
          from_table_id: second.id,
          into_table_id: third.id,
        },
      }),
    );
    await dashboard.nextEvent();
    await makeDue(store.id, orderIdOf(created));
    await runAlarm(store.id);
    expect(JSON.parse((await nextAlert(dashboard)).data)).toMatchObject({
      table_id: third.id,
      escalation: 2,
    });

    await deliverAll(
      envelope(store.id, {
        type: 'table.session_completed',
        tableId: third.id,
        tableSessionId: hosts,
        data: { table_session_id: hosts },
      }),
    );
    expect((await trackedOrder(store.id, orderIdOf(created)))?.next_due_at ?? null).toBeNull();
  });
});

describe('the alerts and the hub', () => {
  it('survive the hub being restarted between an order and its alert', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    // Due in about two seconds.
    const created = orderCreated(
      store.id,
      { tableId: table.id },
      { ackSeconds: 60, createdAt: Date.now() - 58 * SECOND },
    );
    await deliverAll(created);

    await restartHub(store.id);
    const dashboard = await adminStream(store);

    const alert = await nextAlert(dashboard, 10_000);
    expect(JSON.parse(alert.data)).toMatchObject({
      order_id: orderIdOf(created),
      table_id: table.id,
      escalation: 1,
    });
    expect(JSON.parse(alert.data).age_seconds).toBeGreaterThanOrEqual(60);
  });

  it('sends one alert per due time, even when the alarm runs twice', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const dashboard = await adminStream(store);
    const created = orderCreated(store.id, { tableId: table.id });
    await deliverAll(created);
    await dashboard.nextEvent();
    await makeDue(store.id, orderIdOf(created));

    await runAlarm(store.id);
    // The same alarm again (a retry), and two at once.
    await runInDurableObject(storeHub(env, store.id), (hub) => hub.alarm());
    await runInDurableObject(storeHub(env, store.id), (hub) =>
      Promise.all([hub.alarm(), hub.alarm()]),
    );

    expect(JSON.parse((await nextAlert(dashboard)).data).escalation).toBe(1);
    // The next frame is the next due time's alert, not a second one for the first.
    await makeDue(store.id, orderIdOf(created));
    await runAlarm(store.id);
    expect(JSON.parse((await nextAlert(dashboard)).data).escalation).toBe(2);
  });

  it('is a frame without an id: not an event to replay', () => {
    expect(noticeFrame(ORDER_UNACKNOWLEDGED, { order_id: 'a', escalation: 1 })).toBe(
      'event: order.unacknowledged\ndata: {"order_id":"a","escalation":1}\n\n',
    );
  });
});
