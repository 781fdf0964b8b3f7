/**
 * Three relay processes on one namespace, as an operator scales them: every one drains the
 * outbox and subscribes to every delivery partition, one of them delivers each partition. The
 * stand-in for the Worker records what it receives per store; like the store's hub, which keeps
 * each event id once, a screen shows each event at its first arrival — so "what the screens see"
 * is the first arrivals, in order. Each relay signs with a secret of its own, so the stand-in can
 * tell which relay delivered what.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hubPartitionOf } from '../../relay/src/bus.ts';
import type { Envelope, EventType } from '../../worker/contracts/events.ts';
import {
  createScratchDatabase,
  createStore,
  type ScratchDatabase,
} from '../support/db-fixtures.ts';
import {
  connectBroker,
  deleteTopology,
  partitionConsumers,
  randomNamespace,
  randomSecret,
  relayPortOf,
  signatureIsValid,
  killRelay,
  spawnRelay,
  startWorkerStandIn,
  type ReceivedPost,
  type SpawnedRelay,
} from '../support/relay-fixtures.ts';
import { testServices } from '../support/services.ts';

const PARTITIONS = 4;
/** The statuses an order goes through after `order.created`. */
const STATUS_CHAIN = ['preparing', 'cooked', 'delivered'];
/** What the single-active-consumer hand-over after a SIGKILL may take at most. */
const HAND_OVER_BOUND_MS = 15_000;

let scratch: ScratchDatabase;
let broker: Awaited<ReturnType<typeof connectBroker>>;
let hub: Awaited<ReturnType<typeof startWorkerStandIn>>;
const namespaces: string[] = [];
const relays: SpawnedRelay[] = [];

beforeAll(async () => {
  scratch = await createScratchDatabase();
  broker = await connectBroker();
  hub = await startWorkerStandIn();
});

afterEach(async () => {
  for (const relay of relays.splice(0)) await killRelay(relay);
  await scratch.pool.query('delete from outbox');
  hub.received.length = 0;
  hub.answer(() => 200);
});

afterAll(async () => {
  await hub?.close();
  await broker?.close();
  await deleteTopology(namespaces);
  await scratch?.drop();
});

/** One relay of the namespace, signing with `secret`. */
function startRelay(namespace: string, secret: string, overrides: Record<string, string> = {}) {
  const relay = spawnRelay({
    DATABASE_URL: scratch.url,
    AMQP_URL: testServices().amqpUrl,
    WORKER_URL: hub.url,
    RELAY_HTTP_PORT: '0',
    RELAY_NAMESPACE: namespace,
    RELAY_HMAC_SECRET: secret,
    RELAY_PARTITIONS: String(PARTITIONS),
    DELIVERY_RETRY_BASE_MS: '20',
    ...overrides,
  });
  relays.push(relay);
  return relay;
}

function freshNamespace(): string {
  const namespace = randomNamespace();
  namespaces.push(namespace);
  return namespace;
}

/** `table_order_relay_partition_consumer_active` per partition, as the relay's metrics show it. */
async function consumerActive(port: number): Promise<number[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Array.from({ length: PARTITIONS }, (_, partition) => {
    const sample = `table_order_relay_partition_consumer_active{partition="${partition}"} `;
    const line = text.split('\n').find((l) => l.startsWith(sample));
    return line === undefined ? -1 : Number(line.slice(sample.length));
  });
}

/** A store whose id puts it in the given partition. */
async function storeInPartition(partition: number) {
  for (;;) {
    const id = randomUUID();
    if (hubPartitionOf(id, PARTITIONS) === partition) return createStore(scratch.db, { id });
  }
}

/** Commits one event of the store in a transaction of its own; resolves with its id. */
async function commitEvent(storeId: string, type: EventType, data: Record<string, unknown>) {
  const { rows } = await scratch.pool.query<{ id: string }>(
    'insert into outbox (store_id, type, payload) values ($1, $2, $3) returning id',
    [storeId, type, data],
  );
  return Number(rows[0]!.id);
}

/**
 * Commits `orders` orders of the store, each created and then taken through the status chain,
 * one commit after the other; resolves with the ids in commit order.
 */
async function commitOrderChains(storeId: string, orders: number): Promise<number[]> {
  const ids: number[] = [];
  for (let n = 0; n < orders; n += 1) {
    const orderId = randomUUID();
    ids.push(await commitEvent(storeId, 'order.created', { order_id: orderId, order_number: n }));
    for (const status of STATUS_CHAIN) {
      ids.push(await commitEvent(storeId, 'order.status_changed', { order_id: orderId, status }));
    }
  }
  return ids;
}

function envelopeOf(post: ReceivedPost): Envelope {
  return JSON.parse(post.body) as Envelope;
}

/** The store's event ids in the order they first reached the hub: what its screens show. */
function firstArrivals(storeId: string): number[] {
  const seen = new Set<number>();
  for (const post of hub.received) {
    const event = envelopeOf(post);
    if (event.store_id === storeId) seen.add(event.id);
  }
  return [...seen];
}

/** Which of the secrets signed each POST of the store, in arrival order. */
function signersOf(storeId: string, secrets: string[]): string[] {
  return hub.received
    .filter((post) => envelopeOf(post).store_id === storeId)
    .map((post) => secrets.find((secret) => signatureIsValid(secret, post)) ?? 'unsigned');
}

/** The signers of a store in runs: `['a', 'a', 'b']` → `['a', 'b']`. */
function runsOf(signers: string[]): string[] {
  return signers.filter((signer, index) => signer !== signers[index - 1]);
}

describe('three relays on one namespace', () => {
  it('deliver 3 stores × 200 events once each and in commit order through a SIGKILL and a restart', async () => {
    const namespace = freshNamespace();
    const [first, second, third] = [randomSecret(), randomSecret(), randomSecret()];
    const secrets = [first, second, third];
    // Started alone until it holds every partition: it is the active consumer of each.
    const killed = startRelay(namespace, first);
    await expect.poll(async () => consumerActive(await relayPortOf(killed))).toEqual([1, 1, 1, 1]);
    const standBy = [startRelay(namespace, second), startRelay(namespace, third)];
    const standByPort = await relayPortOf(standBy[0]!);
    const everyPartition = (active: number, waiting: number) =>
      Array.from({ length: PARTITIONS }, () => ({ active, waiting }));
    await expect
      .poll(() => partitionConsumers(namespace, PARTITIONS))
      .toEqual(everyPartition(1, 2));

    const stores = await Promise.all([0, 1, 2].map(storeInPartition));
    hub.answer(() => ({ status: 200, delayMs: 2 }));
    const committing = Promise.all(stores.map((store) => commitOrderChains(store.id, 50)));
    const delivered = () => new Set(hub.received.map((post) => envelopeOf(post).id)).size;
    await expect.poll(delivered, { timeout: 20_000 }).toBeGreaterThanOrEqual(150);

    const survivor = (post: ReceivedPost) =>
      signatureIsValid(second, post) || signatureIsValid(third, post);
    // The stand-bys delivered nothing while the first relay was alive.
    expect(hub.received.some(survivor)).toBe(false);
    const killedAt = Date.now();
    killed.process.kill('SIGKILL');
    await killed.exited;
    await expect
      .poll(() => hub.received.some(survivor), { timeout: HAND_OVER_BOUND_MS })
      .toBe(true);
    const handOverMs = hub.received.find(survivor)!.at - killedAt;
    console.info(`single-active-consumer hand-over after SIGKILL: ${handOverMs} ms`);
    expect(handOverMs).toBeLessThan(HAND_OVER_BOUND_MS);
    expect(await consumerActive(standByPort)).toEqual([1, 1, 1, 1]);
    expect(await partitionConsumers(namespace, PARTITIONS)).toEqual(everyPartition(1, 1));

    startRelay(namespace, first);
    await expect
      .poll(() => partitionConsumers(namespace, PARTITIONS))
      .toEqual(everyPartition(1, 2));

    const committed = await committing;
    const all = committed.flat();
    expect(all).toHaveLength(600);
    await expect.poll(delivered, { timeout: 30_000 }).toBe(all.length);
    for (const [index, store] of stores.entries()) {
      // Each event once on the screens, created before its status changes, in commit order.
      expect(firstArrivals(store.id)).toEqual(committed[index]);
      // One relay at a time: the killed one until it died, then one survivor, never both.
      const runs = runsOf(signersOf(store.id, secrets));
      const survivors = runs.filter((signer) => signer !== first);
      expect(survivors).toHaveLength(1);
      expect([second, third]).toContain(survivors[0]);
      expect(runs.at(-1)).toBe(survivors[0]);
    }
  });

  it('hold a refused store back in order while the other stores flow on', async () => {
    const namespace = freshNamespace();
    const secret = randomSecret();
    const active = startRelay(namespace, secret, { DELIVERY_MAX_ATTEMPTS: '30' });
    await expect.poll(async () => consumerActive(await relayPortOf(active))).toEqual([1, 1, 1, 1]);
    startRelay(namespace, secret);
    startRelay(namespace, secret);
    const [refused, samePartition, otherPartition] = [
      await storeInPartition(0),
      await storeInPartition(0),
      await storeInPartition(1),
    ];
    const flowing = [samePartition, otherPartition];
    // The hub refuses the refused store's events until both other stores have all of theirs.
    const othersDone = () => flowing.every((store) => firstArrivals(store.id).length === 20);
    hub.answer((post) => (envelopeOf(post).store_id === refused.id && !othersDone() ? 500 : 200));

    const refusedIds = await commitOrderChains(refused.id, 2);
    const flowingIds = await Promise.all(flowing.map((store) => commitOrderChains(store.id, 5)));

    await expect.poll(() => firstArrivals(refused.id), { timeout: 20_000 }).toEqual(refusedIds);
    for (const [index, store] of flowing.entries()) {
      expect(firstArrivals(store.id)).toEqual(flowingIds[index]);
    }
    const refusedPosts = hub.received.filter((post) => envelopeOf(post).store_id === refused.id);
    const [firstRefused] = refusedIds;
    const retried = refusedPosts.filter((post) => envelopeOf(post).id === firstRefused);
    // It was refused while the others flowed …
    expect(retried.length).toBeGreaterThanOrEqual(2);
    // … and nothing of its store went out before it got through.
    expect(refusedPosts.slice(0, retried.length).map((post) => envelopeOf(post).id)).toEqual(
      retried.map(() => firstRefused),
    );
    const lastFlowing = Math.max(
      ...hub.received
        .map((post, index) => ({ event: envelopeOf(post), index }))
        .filter(({ event }) => event.store_id !== refused.id)
        .map(({ index }) => index),
    );
    expect(hub.received.indexOf(retried.at(-1)!)).toBeGreaterThan(lastFlowing);
  });

  it('hand a store over in order when the active relay is stopped mid-delivery', async () => {
    const namespace = freshNamespace();
    const [stopped, taking] = [randomSecret(), randomSecret()];
    const first = startRelay(namespace, stopped);
    await expect.poll(async () => consumerActive(await relayPortOf(first))).toEqual([1, 1, 1, 1]);
    startRelay(namespace, taking);
    await expect
      .poll(() => partitionConsumers(namespace, PARTITIONS))
      .toEqual(Array.from({ length: PARTITIONS }, () => ({ active: 1, waiting: 1 })));
    const store = await storeInPartition(0);
    // The stopping relay's delivery stays in flight a while and then fails: it acks nothing.
    hub.answer((post) => (signatureIsValid(stopped, post) ? { status: 500, delayMs: 4_000 } : 200));
    const before = await commitOrderChains(store.id, 1);
    await expect.poll(() => hub.received.length).toBe(1);

    first.process.kill('SIGTERM');
    await expect.poll(() => first.output()).toContain('"msg":"relay stopping"');
    // Published while the stopping relay still holds the store's earlier events.
    const during = await commitOrderChains(store.id, 1);
    const published = async () =>
      (
        await scratch.pool.query<{ id: string }>(
          'select id from outbox where published_at is not null',
        )
      ).rows.length;
    await expect.poll(published).toBe(before.length + during.length);
    expect(await first.exited).toBe(0);

    await expect.poll(() => hub.received.length).toBe(1 + before.length + during.length);
    const taken = hub.received.filter((post) => signatureIsValid(taking, post));
    expect(taken.map((post) => envelopeOf(post).id)).toEqual([...before, ...during]);
  });

  it('change their partition count without reordering a store, by the documented procedure', async () => {
    const namespace = freshNamespace();
    const secret = randomSecret();
    const before = { RELAY_PARTITIONS: '2' };
    const old = startRelay(namespace, secret, before);
    await relayPortOf(old);
    const stores = await Promise.all([0, 1, 2].map(storeInPartition));
    hub.answer(() => ({ status: 200, delayMs: 2 }));
    const firstWave = Promise.all(stores.map((store) => commitOrderChains(store.id, 25)));
    const delivered = () => new Set(hub.received.map((post) => envelopeOf(post).id));
    await expect.poll(() => delivered().size, { timeout: 20_000 }).toBeGreaterThanOrEqual(60);

    // 1. Every relay restarted with the drain off: they deliver what is queued, publish nothing.
    const delivering = startRelay(namespace, secret, { ...before, OUTBOX_DRAIN: 'off' });
    await relayPortOf(delivering);
    old.process.kill('SIGTERM');
    expect(await old.exited).toBe(0);
    const secondWave = await Promise.all(stores.map((store) => commitOrderChains(store.id, 5)));
    // 2. Wait until everything published has been delivered: the partitions are empty.
    const published = async () =>
      (
        await scratch.pool.query<{ id: string }>(
          'select id from outbox where published_at is not null',
        )
      ).rows.map((row) => Number(row.id));
    await expect
      .poll(async () => (await published()).every((id) => delivered().has(id)), { timeout: 20_000 })
      .toBe(true);
    const waiting = secondWave.flat();
    expect((await published()).filter((id) => waiting.includes(id))).toEqual([]);

    // 3. Every relay restarted with the new count and the drain on.
    const after = startRelay(namespace, secret, { RELAY_PARTITIONS: String(PARTITIONS) });
    await relayPortOf(after);
    delivering.process.kill('SIGTERM');
    expect(await delivering.exited).toBe(0);
    const committed = await firstWave;
    await expect
      .poll(() => delivered().size, { timeout: 20_000 })
      .toBe(committed.flat().length + waiting.length);
    for (const [index, store] of stores.entries()) {
      expect(firstArrivals(store.id)).toEqual([...committed[index]!, ...secondWave[index]!]);
    }
  });
});
