/**
 * Delivery to the store hub against the real broker: a stand-in for the Worker's internal
 * endpoint answers as each test tells it, and the tests watch the POSTs, the acks (the queue is
 * empty once the consumer has let go) and the dead-letter queue.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bus, topologyNames } from '../../relay/src/bus.ts';
import type { Envelope } from '../../worker/contracts/events.ts';
import { RELAY_SIGNATURE_HEADER } from '../../worker/contracts/relay-signature.ts';
import { HubDelivery } from '../../relay/src/deliver.ts';
import { relayMetrics } from '../../relay/src/metrics.ts';
import {
  capturedLogger,
  connectBroker,
  deleteTopology,
  randomNamespace,
  randomSecret,
  readyInPartitions,
  readyMessages,
  signatureIsValid,
  sampleOf,
  startWorkerStandIn,
} from '../support/relay-fixtures.ts';
import { testServices } from '../support/services.ts';

const MAX_ATTEMPTS = 5;
const PARTITIONS = 4;
const RETRY_BASE_MS = 20;
const secret = randomSecret();

let broker: Awaited<ReturnType<typeof connectBroker>>;
let hub: Awaited<ReturnType<typeof startWorkerStandIn>>;
const namespaces: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  broker = await connectBroker();
  hub = await startWorkerStandIn();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  hub.received.length = 0;
  hub.answer(() => 200);
});

afterAll(async () => {
  await hub?.close();
  await broker?.close();
  await deleteTopology(namespaces);
});

/** A bus on a fresh namespace and a delivery consuming from it; `stop()` lets go of the queue. */
async function startDelivery(options: { timeoutMs?: number } = {}) {
  const namespace = randomNamespace();
  namespaces.push(namespace);
  const logs = capturedLogger();
  const metrics = relayMetrics();
  const bus = new Bus({
    url: testServices().amqpUrl,
    namespace,
    maxDeliveryAttempts: MAX_ATTEMPTS,
    partitions: PARTITIONS,
    log: logs.log,
  });
  expect(await bus.start()).toBe(true);
  const delivery = new HubDelivery({
    bus,
    workerUrl: hub.url,
    secret,
    prefetch: 20,
    maxAttempts: MAX_ATTEMPTS,
    timeoutMs: options.timeoutMs ?? 2_000,
    retryBaseMs: RETRY_BASE_MS,
    log: logs.log,
    metrics,
  });
  await delivery.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await delivery.stop(2_000);
    await bus.stop();
  };
  cleanups.push(stop);
  /** Events waiting in the partition queues (once the consumer let go: every one unacked). */
  const waiting = () => readyInPartitions(broker.channel, namespace, PARTITIONS);
  return { namespace, bus, names: topologyNames(namespace), logs, metrics, stop, waiting };
}

let nextId = 1;
/** An order of the store, caused by the request `correlationId` (a fresh one unless given). */
function envelope(
  storeId: string = crypto.randomUUID(),
  correlationId: string | null = `tablet-${crypto.randomUUID()}`,
): Envelope {
  return {
    id: nextId++,
    type: 'order.created',
    store_id: storeId,
    table_id: crypto.randomUUID(),
    table_session_id: crypto.randomUUID(),
    occurred_at: new Date().toISOString(),
    data: { order_id: crypto.randomUUID(), order_number: 7, total_amount: 18000 },
    actor: null,
    correlation_id: correlationId,
  };
}

/** The relay's log lines about one event (by its id), as `[level, msg, correlation_id]`. */
function linesAbout(relay: { logs: ReturnType<typeof capturedLogger> }, event: Envelope) {
  return relay.logs
    .lines()
    .filter((line) => line.eventId === String(event.id))
    .map((line) => [line.level, line.msg, line.correlation_id]);
}

describe('delivering an event to the store hub', () => {
  it('posts the event as published, signed, and acks it once the hub answered 2xx', async () => {
    const relay = await startDelivery();
    const event = envelope();
    await relay.bus.publish(event);

    await expect.poll(() => hub.received.length).toBe(1);
    const [post] = hub.received;
    expect(post!.path).toBe('/internal/events');
    expect(post!.headers['content-type']).toBe('application/json');
    expect(post!.body).toBe(JSON.stringify(event));
    expect(post!.headers[RELAY_SIGNATURE_HEADER]).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(signatureIsValid(secret, post!)).toBe(true);
    expect(signatureIsValid('another-secret', post!)).toBe(false);

    // Once the consumer lets go, anything unacked would be back in the queue.
    await relay.stop();
    expect(await relay.waiting()).toBe(0);
    expect(await readyMessages(broker.channel, relay.names.hubDeliveryDead)).toBe(0);
    expect(hub.received).toHaveLength(1);
  });

  it('hands one store its events in order while other stores go on alongside', async () => {
    const relay = await startDelivery();
    const [kitchen, cafe] = [crypto.randomUUID(), crypto.randomUUID()];
    const slowFirst = envelope(kitchen);
    hub.answer((post) =>
      JSON.parse(post.body).id === slowFirst.id
        ? { status: 200, delayMs: 300 }
        : { status: 200, delayMs: Math.floor(Math.random() * 20) },
    );
    const kitchenEvents = [slowFirst, ...Array.from({ length: 9 }, () => envelope(kitchen))];
    const cafeEvents = Array.from({ length: 3 }, () => envelope(cafe));
    for (const event of kitchenEvents) await relay.bus.publish(event);
    for (const event of cafeEvents) await relay.bus.publish(event);

    await expect.poll(() => hub.received.length).toBe(13);
    const order = hub.received.map((post) => JSON.parse(post.body) as Envelope);
    const ids = (storeId: string) => order.filter((e) => e.store_id === storeId).map((e) => e.id);
    expect(ids(kitchen)).toEqual(kitchenEvents.map((e) => e.id));
    expect(ids(cafe)).toEqual(cafeEvents.map((e) => e.id));
    // The café did not wait for the kitchen's slow hub.
    expect(order.findIndex((e) => e.store_id === cafe)).toBeLessThan(2);
  });

  it('holds a store’s later events back while its first one is retried', async () => {
    const relay = await startDelivery();
    const kitchen = crypto.randomUUID();
    const events = Array.from({ length: 5 }, () => envelope(kitchen));
    const [first] = events;
    let refusals = 0;
    hub.answer((post) => (JSON.parse(post.body).id === first!.id && refusals++ < 2 ? 500 : 200));
    for (const event of events) await relay.bus.publish(event);

    await expect.poll(() => sampleOf(relay.metrics.eventsDelivered)).toBe(events.length);
    const posted = hub.received.map((post) => (JSON.parse(post.body) as Envelope).id);
    // The first event was tried three times before anything after it went out.
    expect(posted).toEqual([first!.id, first!.id, ...events.map((e) => e.id)]);
  });

  it('retries after the hub failed and acks once it answers', async () => {
    const relay = await startDelivery();
    hub.answer((_post, index) => (index < 3 ? 500 : 200));
    const event = envelope();
    await relay.bus.publish(event);

    await expect.poll(() => hub.received.length).toBe(4);
    expect(hub.received.every((post) => post.body === JSON.stringify(event))).toBe(true);
    expect(hub.received.every((post) => signatureIsValid(secret, post))).toBe(true);
    // Signed afresh each time: the Worker refuses a signature it has seen as a replay.
    const signatures = new Set(hub.received.map((post) => post.headers[RELAY_SIGNATURE_HEADER]));
    expect(signatures.size).toBe(4);
    const failures = relay.logs.lines().filter((line) => line.msg === 'hub delivery failed');
    expect(failures.map((line) => [line.eventId, line.status, line.attempt])).toEqual([
      [String(event.id), 500, 1],
      [String(event.id), 500, 2],
      [String(event.id), 500, 3],
    ]);

    await relay.stop();
    expect(hub.received).toHaveLength(4);
    expect(await relay.waiting()).toBe(0);
    expect(await readyMessages(broker.channel, relay.names.hubDeliveryDead)).toBe(0);
  });

  it('counts a hub that does not answer in time as a failure and tries again', async () => {
    const relay = await startDelivery({ timeoutMs: 200 });
    hub.answer((_post, index) => (index === 0 ? { status: 200, delayMs: 1_000 } : 200));
    await relay.bus.publish(envelope());

    await expect.poll(() => hub.received.length).toBe(2);
    const [failure] = relay.logs.lines().filter((line) => line.msg === 'hub delivery failed');
    expect(failure).toMatchObject({ attempt: 1 });
    expect(failure!.status).toBeUndefined();
    expect(JSON.stringify(failure!.err)).toMatch(/timeout|aborted/i);
  });

  it(`gives up after ${MAX_ATTEMPTS} failed deliveries and leaves the event in the dead-letter queue`, async () => {
    const relay = await startDelivery();
    hub.answer(() => 500);
    const event = envelope();
    await relay.bus.publish(event);

    await expect.poll(() => readyMessages(broker.channel, relay.names.hubDeliveryDead)).toBe(1);
    expect(hub.received).toHaveLength(MAX_ATTEMPTS);
    const dead = await broker.channel.basicGet(relay.names.hubDeliveryDead, { noAck: true });
    expect(dead!.bodyString()).toBe(JSON.stringify(event));
    expect(dead!.routingKey).toBe(`store.${event.store_id}.order.created`);
    // Rejected by the relay on its last attempt (it retries in hand, not through the broker).
    expect(dead!.properties.headers?.['x-first-death-reason']).toBe('rejected');
    const last = relay.logs.lines().find((line) => line.attempt === MAX_ATTEMPTS);
    expect(last).toMatchObject({ level: 50, eventId: String(event.id), status: 500 });

    // Well past the next backoff: nobody retries it any more.
    await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** MAX_ATTEMPTS));
    expect(hub.received).toHaveLength(MAX_ATTEMPTS);
    expect(await relay.waiting()).toBe(0);
  });
});

describe('a delivery the hub refuses for good', () => {
  it.each([400, 401, 413])(
    'dead-letters the event after one POST when the hub answers %i, logged and counted',
    async (status) => {
      const relay = await startDelivery();
      hub.answer(() => status);
      const event = envelope();
      await relay.bus.publish(event);

      await expect.poll(() => readyMessages(broker.channel, relay.names.hubDeliveryDead)).toBe(1);
      // In the dead-letter queue it is out of the delivery queue: no retry can follow.
      expect(hub.received).toHaveLength(1);
      const dead = await broker.channel.basicGet(relay.names.hubDeliveryDead, { noAck: true });
      expect(dead!.bodyString()).toBe(JSON.stringify(event));
      expect(dead!.properties.headers?.['x-first-death-reason']).toBe('rejected');
      const logged = relay.logs.lines().filter((line) => line.eventId === String(event.id));
      expect(logged).toMatchObject([
        { level: 50, msg: 'hub refused the delivery; dead-lettered without retrying', status },
      ]);
      expect(await sampleOf(relay.metrics.deliveryFailures)).toBe(1);
      expect(await sampleOf(relay.metrics.deadLettered)).toBe(1);
      expect(await sampleOf(relay.metrics.eventsDelivered)).toBe(0);
    },
  );

  it.each([408, 429])(
    'retries when the hub answers %i (come back later) and acks once it takes the event',
    async (status) => {
      const relay = await startDelivery();
      hub.answer((_post, index) => (index === 0 ? status : 200));
      await relay.bus.publish(envelope());

      await expect.poll(() => sampleOf(relay.metrics.eventsDelivered)).toBe(1);
      expect(hub.received).toHaveLength(2);
      await relay.stop();
      expect(await relay.waiting()).toBe(0);
      expect(await readyMessages(broker.channel, relay.names.hubDeliveryDead)).toBe(0);
      expect(await sampleOf(relay.metrics.deadLettered)).toBe(0);
    },
  );
});

describe('following one event through the relay’s log', () => {
  it('names the request that caused it in each failed delivery and in the delivery', async () => {
    const relay = await startDelivery();
    hub.answer((_post, index) => (index < 2 ? 500 : 200));
    const event = envelope(undefined, 'tablet-7-order-42');
    await relay.bus.publish(event);

    await expect.poll(() => sampleOf(relay.metrics.eventsDelivered)).toBe(1);
    expect(linesAbout(relay, event)).toEqual([
      [40, 'hub delivery failed', 'tablet-7-order-42'],
      [40, 'hub delivery failed', 'tablet-7-order-42'],
      [30, 'event delivered', 'tablet-7-order-42'],
    ]);
  });

  it('names it when the hub refuses the event for good', async () => {
    const relay = await startDelivery();
    hub.answer(() => 400);
    const event = envelope(undefined, 'counter-3');
    await relay.bus.publish(event);

    await expect.poll(() => readyMessages(broker.channel, relay.names.hubDeliveryDead)).toBe(1);
    expect(linesAbout(relay, event)).toEqual([
      [50, 'hub refused the delivery; dead-lettered without retrying', 'counter-3'],
    ]);
  });

  it('logs null for an event no request caused, or from a relay older than the field', async () => {
    const relay = await startDelivery();
    const fromTheSystem = envelope(undefined, null);
    const { correlation_id: _dropped, ...older } = envelope();
    await relay.bus.publish(fromTheSystem);
    await relay.bus.publish(older as Envelope);

    await expect.poll(() => sampleOf(relay.metrics.eventsDelivered)).toBe(2);
    expect(linesAbout(relay, fromTheSystem)).toEqual([[30, 'event delivered', null]]);
    expect(linesAbout(relay, older as Envelope)).toEqual([[30, 'event delivered', null]]);
  });
});
