/**
 * The outbox drain against the real PostgreSQL and RabbitMQ: what it publishes, when it marks a
 * row, how it wakes, how replicas share the work and what happens while the broker is away.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bus, routingKeyOf } from '../../relay/src/bus.ts';
import { OutboxDrain, type EventPublisher } from '../../relay/src/outbox.ts';
import type { Envelope } from '../../worker/contracts/events.ts';
import {
  createScratchDatabase,
  createStore,
  seatedTable,
  type ScratchDatabase,
} from '../support/db-fixtures.ts';
import {
  capturedLogger,
  connectBroker,
  deleteTopology,
  insertEvents,
  outboxOf,
  randomNamespace,
  startBrokerProxy,
  tapEvents,
} from '../support/relay-fixtures.ts';
import { testServices } from '../support/services.ts';

type CapturedLogger = ReturnType<typeof capturedLogger>;

let scratch: ScratchDatabase;
let broker: Awaited<ReturnType<typeof connectBroker>>;
const namespaces: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  scratch = await createScratchDatabase();
  broker = await connectBroker();
});

afterEach(async () => {
  // Stop what a test started, newest first (drains before the buses they publish to).
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await broker?.close();
  await deleteTopology(namespaces);
  await scratch?.drop();
});

/** A connected bus on a fresh namespace, stopped after the test. */
async function createBus(
  namespace: string,
  url = testServices().amqpUrl,
  onConnected?: () => void,
) {
  const bus = new Bus({
    url,
    namespace,
    maxDeliveryAttempts: 5,
    partitions: 2,
    log: capturedLogger().log,
    reconnectIntervalMs: 50,
    onConnected,
  });
  cleanups.push(() => bus.stop());
  return bus;
}

/** A drain on its own pool, stopped after the test; `logs` reads its log lines. */
function startDrain(
  publisher: EventPublisher,
  options: { pollIntervalMs?: number; batchSize?: number; logs?: CapturedLogger } = {},
) {
  const pool = new pg.Pool({ connectionString: scratch.url, max: 3 });
  const drain = new OutboxDrain({
    pool,
    databaseUrl: scratch.url,
    publisher,
    log: (options.logs ?? capturedLogger()).log,
    pollIntervalMs: options.pollIntervalMs ?? 60_000,
    batchSize: options.batchSize ?? 100,
    retryBaseMs: 50,
  });
  cleanups.push(async () => {
    await drain.stop();
    await pool.end();
  });
  drain.start();
  return drain;
}

async function namespaceWithTap() {
  const namespace = randomNamespace();
  namespaces.push(namespace);
  const tap = await tapEvents(broker.channel, namespace);
  return { namespace, tap };
}

/** The server process of the drain's dedicated LISTEN connection, if one is listening. */
async function listenerPid(): Promise<number | undefined> {
  const { rows } = await scratch.pool.query<{ pid: number }>(
    `select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'`,
  );
  return rows[0]?.pid;
}

describe('publishing the outbox', () => {
  it('publishes each new event once, in order, as the agreed envelope', async () => {
    const { namespace, tap } = await namespaceWithTap();
    const bus = await createBus(namespace);
    expect(await bus.start()).toBe(true);
    const { store, table, session } = await seatedTable(scratch.db);
    const admin = { role: 'store_admin' as const, id: crypto.randomUUID() };
    const { rows } = await scratch.pool.query<{ id: string }>(
      `insert into outbox
       (store_id, table_id, table_session_id, type, payload, actor_role, actor_id, correlation_id)
       values
       ($1, $2, $3, 'order.created', '{"order_id":"o-1","total_amount":9000}', null, null, $6),
       ($1, $2, $3, 'order.status_changed', '{"order_id":"o-1","status":"preparing"}', $4, $5, $7),
       ($1, null, null, 'menu.updated', '{"menu_id":"m-1"}', $4, $5, null)
       returning id`,
      [store.id, table.id, session.id, admin.role, admin.id, 'tablet-7-order-42', 'counter_1'],
    );
    const logs = capturedLogger();
    startDrain(bus, { logs });

    await expect.poll(() => tap.of(store.id).length).toBe(3);
    const stored = await outboxOf(scratch.pool, store.id);
    const expected: Envelope[] = [
      [
        'order.created',
        table.id,
        session.id,
        { order_id: 'o-1', total_amount: 9000 },
        null,
        'tablet-7-order-42',
      ],
      [
        'order.status_changed',
        table.id,
        session.id,
        { order_id: 'o-1', status: 'preparing' },
        admin,
        'counter_1',
      ],
      ['menu.updated', null, null, { menu_id: 'm-1' }, admin, null],
    ].map(([type, tableId, sessionId, data, actor, correlationId], index) => ({
      id: Number(rows[index]!.id),
      type: type as Envelope['type'],
      store_id: store.id,
      table_id: tableId as string | null,
      table_session_id: sessionId as string | null,
      occurred_at: stored[index]!.created_at.toISOString(),
      data: data as Envelope['data'],
      actor: actor as Envelope['actor'],
      correlation_id: correlationId as string | null,
    }));
    const tapped = tap.of(store.id);
    expect(tapped.map((m) => JSON.parse(m.body))).toEqual(expected);
    for (const message of tapped) {
      expect(Object.keys(JSON.parse(message.body))).toEqual(Object.keys(expected[0]!));
    }
    expect(tapped.map((m) => m.routingKey)).toEqual(expected.map(routingKeyOf));
    expect(tapped[0]!.routingKey).toBe(`store.${store.id}.order.created`);
    for (const [index, message] of tapped.entries()) {
      expect(message.messageId).toBe(String(expected[index]!.id));
      expect(message.contentType).toBe('application/json');
      expect(message.deliveryMode).toBe(2);
    }
    await expect
      .poll(async () => (await outboxOf(scratch.pool, store.id)).every((r) => r.published_at))
      .toBe(true);
    const published = await outboxOf(scratch.pool, store.id);
    expect(published.map((r) => [r.attempts, r.last_error])).toEqual([
      [1, null],
      [1, null],
      [1, null],
    ]);
    // One line per published event, naming the request that caused it.
    const lines = logs.lines().filter((line) => line.msg === 'event published');
    expect(lines.map((line) => [line.level, line.eventId, line.type, line.correlation_id])).toEqual(
      expected.map((event) => [30, String(event.id), event.type, event.correlation_id]),
    );
  });

  it('keeps to id order across batches', async () => {
    const { namespace, tap } = await namespaceWithTap();
    const bus = await createBus(namespace);
    await bus.start();
    const store = await createStore(scratch.db);
    const ids = await insertEvents(scratch.pool, store.id, 25);
    startDrain(bus, { batchSize: 10 });

    await expect.poll(() => tap.of(store.id).length).toBe(25);
    expect(tap.of(store.id).map((m) => m.envelope.id)).toEqual(ids);
  });

  it('marks an event published only after the broker confirmed it', async () => {
    const { namespace, tap } = await namespaceWithTap();
    const bus = await createBus(namespace);
    await bus.start();
    let releaseMark!: () => void;
    const markAllowed = new Promise<void>((resolve) => (releaseMark = resolve));
    const confirmed: number[] = [];
    // Resolves only after the real, confirmed publish — and then holds the drain until released.
    const heldPublisher: EventPublisher = {
      async publish(envelope) {
        await bus.publish(envelope);
        confirmed.push(envelope.id);
        await markAllowed;
      },
    };
    const store = await createStore(scratch.db);
    const [id] = await insertEvents(scratch.pool, store.id, 1);
    startDrain(heldPublisher);

    await expect.poll(() => confirmed).toEqual([id]);
    expect(tap.of(store.id).map((m) => m.envelope.id)).toEqual([id]);
    expect((await outboxOf(scratch.pool, store.id))[0]!.published_at).toBeNull();

    releaseMark();
    await expect
      .poll(async () => (await outboxOf(scratch.pool, store.id))[0]!.published_at)
      .not.toBeNull();
  });
});

describe('waking the drain', () => {
  it('publishes at once on a NOTIFY instead of waiting for the next poll', async () => {
    const { namespace, tap } = await namespaceWithTap();
    const bus = await createBus(namespace);
    await bus.start();
    startDrain(bus, { pollIntervalMs: 60_000 });
    await expect.poll(listenerPid).toBeTypeOf('number');
    const store = await createStore(scratch.db);

    const insertedAt = Date.now();
    await insertEvents(scratch.pool, store.id, 1);
    await expect.poll(() => tap.of(store.id).length, { timeout: 2_000, interval: 10 }).toBe(1);
    expect(Date.now() - insertedAt).toBeLessThan(2_000);
  });

  it('listens again after its database connection was cut', async () => {
    const { namespace, tap } = await namespaceWithTap();
    const bus = await createBus(namespace);
    await bus.start();
    startDrain(bus, { pollIntervalMs: 60_000 });
    await expect.poll(listenerPid).toBeTypeOf('number');
    const cut = (await listenerPid())!;
    await scratch.pool.query('select pg_terminate_backend($1)', [cut]);
    await expect
      .poll(async () => {
        const pid = await listenerPid();
        return pid !== undefined && pid !== cut;
      })
      .toBe(true);
    const store = await createStore(scratch.db);

    await insertEvents(scratch.pool, store.id, 1);
    await expect.poll(() => tap.of(store.id).length, { timeout: 2_000, interval: 10 }).toBe(1);
  });
});

describe('two relays at once', () => {
  it('publishes every event exactly once between them', async () => {
    const { namespace, tap } = await namespaceWithTap();
    const store = await createStore(scratch.db);
    const published = [0, 0];
    const drains = await Promise.all(
      [0, 1].map(async (replica) => {
        const bus = await createBus(namespace);
        await bus.start();
        const counting: EventPublisher = {
          async publish(envelope) {
            await bus.publish(envelope);
            published[replica]! += 1;
          },
        };
        return startDrain(counting, { pollIntervalMs: 20, batchSize: 10 });
      }),
    );
    expect(drains).toHaveLength(2);
    await expect.poll(listenerPid).toBeTypeOf('number');

    const ids = (
      await Promise.all(Array.from({ length: 10 }, () => insertEvents(scratch.pool, store.id, 30)))
    ).flat();
    await expect
      .poll(async () => (await outboxOf(scratch.pool, store.id)).every((r) => r.published_at), {
        timeout: 10_000,
      })
      .toBe(true);

    const tappedIds = tap.of(store.id).map((m) => m.envelope.id);
    expect(tappedIds).toHaveLength(ids.length);
    expect(new Set(tappedIds)).toEqual(new Set(ids));
    expect(published[0]! + published[1]!).toBe(ids.length);
    expect(published.every((count) => count > 0)).toBe(true);
    const rows = await outboxOf(scratch.pool, store.id);
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  });

  it('publishes one store’s events in the order they were committed', async () => {
    const { namespace, tap } = await namespaceWithTap();
    const store = await createStore(scratch.db);
    for (const _replica of [0, 1]) {
      const bus = await createBus(namespace);
      await bus.start();
      startDrain(bus, { pollIntervalMs: 20, batchSize: 5 });
    }
    await expect.poll(listenerPid).toBeTypeOf('number');

    // One commit after the other, while both drains are at work.
    const ids: number[] = [];
    for (let commit = 0; commit < 60; commit += 1) {
      ids.push(...(await insertEvents(scratch.pool, store.id, 2)));
    }
    await expect.poll(() => tap.of(store.id).length, { timeout: 10_000 }).toBe(ids.length);
    expect(tap.of(store.id).map((m) => m.envelope.id)).toEqual(ids);
  });
});

describe('when the broker is away', () => {
  it('keeps the events, records each attempt, and publishes them once the broker is back', async () => {
    const { namespace, tap } = await namespaceWithTap();
    const proxy = await startBrokerProxy();
    cleanups.push(() => proxy.close());
    await proxy.cut();
    let drain: OutboxDrain | undefined;
    const bus = await createBus(namespace, proxy.url, () => drain?.retryNow());
    const connecting = bus.start();
    const logs = capturedLogger();
    drain = startDrain(bus, { logs });
    const store = await createStore(scratch.db);
    const correlationIds = ['tablet-7-order-42', null, 'counter_1'];
    const { rows } = await scratch.pool.query<{ id: string }>(
      `insert into outbox (store_id, type, payload, correlation_id)
       values ($1, 'menu.updated', '{}', $2), ($1, 'menu.updated', '{}', $3),
       ($1, 'menu.updated', '{}', $4)
       returning id`,
      [store.id, ...correlationIds],
    );
    const ids = rows.map((row) => Number(row.id));

    await expect
      .poll(async () => (await outboxOf(scratch.pool, store.id)).every((r) => r.attempts >= 2))
      .toBe(true);
    const waiting = await outboxOf(scratch.pool, store.id);
    expect(waiting.every((r) => r.published_at === null)).toBe(true);
    expect(waiting.every((r) => r.last_error === 'not connected to the broker')).toBe(true);
    expect(bus.connected).toBe(false);
    // Each failed try names the events it could not publish, and the requests behind them.
    const failed = logs.lines().find((line) => line.msg === 'outbox batch failed');
    expect(failed).toMatchObject({
      level: 40,
      err: { message: 'not connected to the broker' },
      events: ids.map((id, index) => ({
        eventId: String(id),
        type: 'menu.updated',
        correlation_id: correlationIds[index],
      })),
    });

    await proxy.restore();
    expect(await connecting).toBe(true);
    await expect
      .poll(async () => (await outboxOf(scratch.pool, store.id)).every((r) => r.published_at))
      .toBe(true);
    expect(tap.of(store.id).map((m) => m.envelope.id)).toEqual(ids);

    // The connection drops while running: the same again, then the session reconnects by itself.
    await proxy.cut();
    await expect.poll(() => bus.connected).toBe(false);
    const later = await insertEvents(scratch.pool, store.id, 2);
    await expect
      .poll(async () =>
        (await outboxOf(scratch.pool, store.id)).slice(3).every((r) => r.attempts >= 1),
      )
      .toBe(true);
    await proxy.restore();
    await expect
      .poll(async () => (await outboxOf(scratch.pool, store.id)).every((r) => r.published_at), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(tap.of(store.id).map((m) => m.envelope.id)).toEqual([...ids, ...later]);
  });
});
