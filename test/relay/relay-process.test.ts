/**
 * The relay as it runs in production: `node relay/src/index.ts` with its environment, against the
 * real database and broker, delivering to a stand-in for the Worker's internal endpoint. Covers
 * boot and configuration, the whole outbox → broker → hub path, a dropped broker connection, a
 * broker that falls silent, SIGKILL mid-stream, a graceful SIGTERM and what a database error logs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createStore,
  type ScratchDatabase,
  createScratchDatabase,
} from '../support/db-fixtures.ts';
import {
  brokerHeartbeats,
  closeBrokerConnections,
  connectBroker,
  deleteTopology,
  insertEvents,
  outboxOf,
  randomNamespace,
  randomSecret,
  signatureIsValid,
  killRelay,
  spawnRelay,
  startBrokerProxy,
  startWorkerStandIn,
  tapEvents,
  type SpawnedRelay,
} from '../support/relay-fixtures.ts';
import { testServices } from '../support/services.ts';

const secret = randomSecret();
let scratch: ScratchDatabase;
let broker: Awaited<ReturnType<typeof connectBroker>>;
let hub: Awaited<ReturnType<typeof startWorkerStandIn>>;
const namespaces: string[] = [];
const relays: SpawnedRelay[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
const MARKING_LOCK = 4242;

beforeAll(async () => {
  scratch = await createScratchDatabase();
  broker = await connectBroker();
  hub = await startWorkerStandIn();
});

afterEach(async () => {
  for (const relay of relays.splice(0)) await killRelay(relay);
  for (const cleanup of cleanups.splice(0)) await cleanup();
  // The next test's relay drains the whole outbox: what this one left must not reach it.
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

/** The environment of a relay on this file's database, a fresh namespace and the stand-in hub. */
function relayEnv(overrides: Record<string, string> = {}) {
  const namespace = randomNamespace();
  namespaces.push(namespace);
  return {
    DATABASE_URL: scratch.url,
    AMQP_URL: testServices().amqpUrl,
    WORKER_URL: hub.url,
    RELAY_HTTP_PORT: '0',
    RELAY_NAMESPACE: namespace,
    RELAY_HMAC_SECRET: secret,
    OUTBOX_RETRY_BASE_MS: '100',
    DELIVERY_RETRY_BASE_MS: '50',
    ...overrides,
  };
}

function startRelay(env: Record<string, string>): SpawnedRelay {
  const relay = spawnRelay(env);
  relays.push(relay);
  return relay;
}

/** Resolves once the relay's output shows `message` (a pino `msg`). */
async function logged(relay: SpawnedRelay, message: string) {
  await expect.poll(() => relay.output(), { timeout: 10_000 }).toContain(`"msg":"${message}"`);
}

/** The relay's JSON log lines so far, parsed (whole lines only). */
function relayLines(relay: SpawnedRelay): Record<string, unknown>[] {
  return relay
    .output()
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The first line of the relay's output with this `msg`, parsed. */
function logLine(relay: SpawnedRelay, message: string): Record<string, unknown> | undefined {
  return relayLines(relay).find((line) => line.msg === message);
}

/** Ids the stand-in hub received at least once. */
function deliveredIds(): Set<number> {
  return new Set(hub.received.map((post) => JSON.parse(post.body).id as number));
}

async function allPublished(storeId: string): Promise<boolean> {
  return (await outboxOf(scratch.pool, storeId)).every((row) => row.published_at !== null);
}

describe('the relay process', () => {
  it('answers its health check and stops cleanly on SIGTERM', async () => {
    const relay = startRelay(relayEnv());
    await logged(relay, 'relay started');
    const { port } = logLine(relay, 'relay started') as { port: number };
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    relay.process.kill('SIGTERM');
    expect(await relay.exited).toBe(0);
    expect(relay.output()).toContain('relay stopped');
  });

  it('refuses to start with a bad configuration, naming the variable', async () => {
    const relay = startRelay(relayEnv({ RELAY_HTTP_PORT: 'not-a-port' }));
    expect(await relay.exited).toBe(1);
    expect(relay.output()).toContain('RELAY_HTTP_PORT');
  });

  it('refuses to start without a delivery secret', async () => {
    const { RELAY_HMAC_SECRET: _secret, ...env } = relayEnv();
    const relay = startRelay(env);
    expect(await relay.exited).toBe(1);
    expect(relay.output()).toContain('RELAY_HMAC_SECRET');
  });
});

describe('an event on its way from the outbox to the hub', () => {
  it('reaches the hub signed, exactly as published, and is marked published', async () => {
    const env = relayEnv();
    const tap = await tapEvents(broker.channel, env.RELAY_NAMESPACE);
    const relay = startRelay(env);
    const store = await createStore(scratch.db);
    const [id] = await insertEvents(scratch.pool, store.id, 1, 'order.created');
    await logged(relay, 'broker connected');

    await expect.poll(() => hub.received.length).toBe(1);
    const [post] = hub.received;
    expect(signatureIsValid(secret, post!)).toBe(true);
    expect(post!.body).toBe(tap.of(store.id)[0]!.body);
    expect(JSON.parse(post!.body)).toMatchObject({ id, type: 'order.created', store_id: store.id });
    await expect.poll(() => allPublished(store.id)).toBe(true);
  });
});

describe('following one order through the relay’s log', () => {
  it('names the request that caused it when it is published, when delivery fails, and when it is delivered', async () => {
    const relay = startRelay(relayEnv());
    await logged(relay, 'broker connected');
    hub.answer((_post, index) => (index === 0 ? 503 : 200));
    const store = await createStore(scratch.db);
    const { rows } = await scratch.pool.query<{ id: string }>(
      `insert into outbox (store_id, type, payload, correlation_id)
       values ($1, 'order.created', '{}', 'tablet-7-order-42') returning id`,
      [store.id],
    );
    const eventId = rows[0]!.id;

    await logged(relay, 'event delivered');
    const about = relayLines(relay).filter((line) => line.eventId === eventId);
    expect(about.map((line) => [line.msg, line.correlation_id])).toEqual([
      ['event published', 'tablet-7-order-42'],
      ['hub delivery failed', 'tablet-7-order-42'],
      ['event delivered', 'tablet-7-order-42'],
    ]);
    expect(about[1]).toMatchObject({ status: 503, attempt: 1 });
  });
});

describe('when the broker drops the relay', () => {
  it('reconnects, records the attempts it could not make, and loses nothing', async () => {
    const env = relayEnv();
    const relay = startRelay(env);
    const store = await createStore(scratch.db);
    const before = await insertEvents(scratch.pool, store.id, 3);
    await expect.poll(() => deliveredIds().size).toBe(3);

    expect(await closeBrokerConnections(env.RELAY_NAMESPACE)).toBe(1);
    await logged(relay, 'broker disconnected; reconnecting');
    const during = await insertEvents(scratch.pool, store.id, 5);
    await expect
      .poll(async () =>
        (await outboxOf(scratch.pool, store.id)).slice(3).every((r) => r.last_error),
      )
      .toBe(true);

    await logged(relay, 'broker reconnected');
    const after = await insertEvents(scratch.pool, store.id, 2);
    await expect.poll(() => allPublished(store.id)).toBe(true);
    // The consumer came back too: everything reaches the hub.
    await expect.poll(() => deliveredIds()).toEqual(new Set([...before, ...during, ...after]));
  });
});

describe('when the broker stops answering without closing the connection', () => {
  it('notices by the missing heartbeats, reconnects, and delivers what comes after', async () => {
    const proxy = await startBrokerProxy();
    cleanups.push(() => proxy.close());
    const env = relayEnv({ AMQP_URL: proxy.url, AMQP_HEARTBEAT_SECONDS: '2' });
    const relay = startRelay(env);
    await logged(relay, 'broker connected');
    expect(await brokerHeartbeats(env.RELAY_NAMESPACE)).toEqual([2]);
    const store = await createStore(scratch.db);
    const before = await insertEvents(scratch.pool, store.id, 1);
    await expect.poll(() => deliveredIds()).toEqual(new Set(before));

    proxy.stall();
    await logged(relay, 'broker disconnected; reconnecting');
    expect(logLine(relay, 'broker disconnected; reconnecting')).toMatchObject({
      err: { message: 'Heartbeat timeout' },
    });
    proxy.resume();
    await logged(relay, 'broker reconnected');
    const after = await insertEvents(scratch.pool, store.id, 1);
    await expect.poll(() => deliveredIds()).toEqual(new Set([...before, ...after]));
  });
});

/**
 * Makes every `update outbox` wait (a test-only trigger taking an advisory lock the test holds):
 * the relay can still claim rows and publish them, but not mark them — so the test can act
 * exactly between "the broker confirmed" and "the row is marked".
 */
async function holdMarking() {
  await scratch.pool.query(`
    create or replace function test_wait_for_marking() returns trigger language plpgsql as $$
    begin perform pg_advisory_xact_lock_shared(${MARKING_LOCK}); return null; end $$;
    create or replace trigger test_hold_marking before update on outbox
      for each statement execute function test_wait_for_marking();`);
  const holder = await scratch.pool.connect();
  await holder.query(`select pg_advisory_lock(${MARKING_LOCK})`);
  let held = true;
  const release = async () => {
    if (!held) return;
    held = false;
    await holder.query(`select pg_advisory_unlock(${MARKING_LOCK})`);
    holder.release();
    await scratch.pool.query('drop trigger test_hold_marking on outbox');
  };
  cleanups.push(release);
  return { release };
}

/**
 * Makes PostgreSQL refuse to mark an event whose payload holds `marker` (a test-only trigger), the
 * way it refuses bad data: SQLSTATE `TO002`, the row quoted in its message and detail.
 */
async function refuseMarking(marker: string) {
  await scratch.pool.query(`
    create or replace function test_refuse_marking() returns trigger language plpgsql as $$
    begin
      raise exception 'outbox row % refused', new.payload
        using errcode = 'TO002', detail = 'Failing row contains (' || new.payload::text || ').';
    end $$;
    create or replace trigger test_refuse_marking before update on outbox for each row
      when (new.payload ->> 'note' = '${marker}') execute function test_refuse_marking();`);
  cleanups.push(() => scratch.pool.query('drop trigger test_refuse_marking on outbox'));
}

describe('a database error in the relay’s log', () => {
  it('names the SQLSTATE and never the data of the row', async () => {
    const relay = startRelay(relayEnv());
    await logged(relay, 'broker connected');
    const store = await createStore(scratch.db);
    const note = `guest-note-${randomSecret()}`;
    await refuseMarking(note);

    const { rows } = await scratch.pool.query<{ id: string }>(
      `insert into outbox (store_id, type, payload, correlation_id)
       values ($1, 'menu.updated', $2, 'counter-9') returning id`,
      [store.id, { note }],
    );

    await logged(relay, 'outbox batch failed');
    expect(logLine(relay, 'outbox batch failed')).toMatchObject({
      err: { sqlstate: 'TO002' },
      // The failed batch names its events and the requests behind them, never their data.
      events: [{ eventId: rows[0]!.id, type: 'menu.updated', correlation_id: 'counter-9' }],
    });
    expect(relay.output()).not.toContain(note);
  });
});

describe('a relay killed between publishing and marking', () => {
  it('publishes and delivers every event after a restart, some twice but none missing', async () => {
    const env = relayEnv({ OUTBOX_BATCH_SIZE: '50' });
    const tap = await tapEvents(broker.channel, env.RELAY_NAMESPACE);
    const store = await createStore(scratch.db);
    const first = startRelay(env);
    await logged(first, 'broker connected');
    const marking = await holdMarking();
    const ids = await insertEvents(scratch.pool, store.id, 200);
    await expect.poll(() => tap.of(store.id).length).toBe(50);
    await expect.poll(() => deliveredIds().size).toBe(50);
    expect(await allPublished(store.id)).toBe(false);
    first.process.kill('SIGKILL');
    await first.exited;
    await marking.release();
    expect((await outboxOf(scratch.pool, store.id)).filter((r) => r.published_at)).toEqual([]);

    startRelay(env);
    await expect.poll(() => allPublished(store.id)).toBe(true);
    await expect.poll(() => deliveredIds()).toEqual(new Set(ids));
    // At least once: the first batch went out twice, and the hub saw it twice.
    const firstBatch = ids.slice(0, 50);
    await expect.poll(() => firstBatch.every((id) => hub.postsOf(id).length >= 2)).toBe(true);
  });
});

describe('a relay asked to stop', () => {
  it('finishes the batch in flight, exits 0, and leaves no event published but unmarked', async () => {
    const env = relayEnv({ OUTBOX_BATCH_SIZE: '25' });
    const tap = await tapEvents(broker.channel, env.RELAY_NAMESPACE);
    const store = await createStore(scratch.db);
    const relay = startRelay(env);
    await logged(relay, 'broker connected');
    const marking = await holdMarking();
    const ids = await insertEvents(scratch.pool, store.id, 100);
    await expect.poll(() => tap.of(store.id).length).toBe(25);

    relay.process.kill('SIGTERM');
    await logged(relay, 'relay stopping');
    await marking.release();
    expect(await relay.exited).toBe(0);

    const rows = await outboxOf(scratch.pool, store.id);
    const marked = rows.filter((row) => row.published_at).map((row) => row.id);
    expect(marked).toEqual(ids.slice(0, 25));
    expect(tap.of(store.id).map((message) => message.envelope.id)).toEqual(marked);
    const { rows: open } = await scratch.pool.query(
      `select 1 from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
       and state like 'idle in transaction%'`,
    );
    expect(open).toEqual([]);
  });
});
