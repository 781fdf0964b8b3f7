/**
 * What operators watch: the Prometheus exposition the relay writes, its `/metrics` and `/readyz`
 * as the running process answers them, and its log file (with rotation).
 */
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AMQPMessage } from '@cloudamqp/amqp-client';
import { ImageWorker } from '../../relay/src/images.ts';
import { openLogFile } from '../../relay/src/log.ts';
import { relayMetrics } from '../../relay/src/metrics.ts';
import { imageKey } from '../../worker/contracts/image-keys.ts';
import {
  createScratchDatabase,
  createStore,
  type ScratchDatabase,
} from '../support/db-fixtures.ts';
import {
  capturedLogger,
  deleteTopology,
  insertEvents,
  outboxOf,
  randomNamespace,
  randomSecret,
  sampleOf,
  killRelay,
  spawnRelay,
  startBrokerProxy,
  startWorkerStandIn,
  type SpawnedRelay,
} from '../support/relay-fixtures.ts';

let scratch: ScratchDatabase;
let directory: string;
const namespaces: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  scratch = await createScratchDatabase();
  directory = await mkdtemp(join(tmpdir(), 'relay-metrics-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await deleteTopology(namespaces);
  await scratch?.drop();
  await rm(directory, { recursive: true, force: true });
});

/** The value of one sample (`name` or `name{labels}`) in an exposition. */
function valueOf(exposition: string, sample: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** `count` lines of an exposition, from the `# HELP` line of `metric` on. */
function linesOf(exposition: string, metric: string, count: number): string[] {
  const lines = exposition.split('\n');
  const from = lines.findIndex((line) => line.startsWith(`# HELP ${metric} `));
  return from === -1 ? [] : lines.slice(from, from + count);
}

describe('the Prometheus exposition', () => {
  it('writes counters, gauges and cumulative histogram buckets with their help and type', async () => {
    const metrics = relayMetrics({
      brokerConnected: () => true,
      outbox: async () => ({ backlog: 7, oldestAgeSeconds: 2.5 }),
      partitions: async () => [
        { partition: 0, ready: 4, consumers: 1 },
        { partition: 1, ready: 0, consumers: 0 },
      ],
    });
    metrics.eventsPublished.inc(3);
    for (const seconds of [0.005, 0.3, 20]) metrics.deliveryLatency.observe(seconds);
    const text = await metrics.registry.metrics();

    expect(linesOf(text, 'table_order_relay_events_published_total', 3)).toEqual([
      '# HELP table_order_relay_events_published_total Events the broker confirmed and the drain marked published.',
      '# TYPE table_order_relay_events_published_total counter',
      'table_order_relay_events_published_total 3',
    ]);
    expect(linesOf(text, 'table_order_relay_outbox_backlog', 3)).toEqual([
      '# HELP table_order_relay_outbox_backlog Outbox rows not yet published to the broker (read at scrape time).',
      '# TYPE table_order_relay_outbox_backlog gauge',
      'table_order_relay_outbox_backlog 7',
    ]);
    expect(linesOf(text, 'table_order_relay_partition_consumer_active', 4)).toEqual([
      '# HELP table_order_relay_partition_consumer_active 1 while a relay is the active consumer of the delivery partition, 0 while nobody delivers it (read at scrape time).',
      '# TYPE table_order_relay_partition_consumer_active gauge',
      'table_order_relay_partition_consumer_active{partition="0"} 1',
      'table_order_relay_partition_consumer_active{partition="1"} 0',
    ]);
    expect(valueOf(text, 'table_order_relay_partition_backlog{partition="0"}')).toBe(4);
    const latency = 'table_order_relay_delivery_latency_seconds';
    const cumulative = [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]; // 0.005 in the first, 0.3 from 0.5 on
    const bounds = ['0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10'];
    expect(linesOf(text, latency, 15)).toEqual([
      `# HELP ${latency} From the outbox row being written to the Worker acknowledging the event.`,
      `# TYPE ${latency} histogram`,
      ...bounds.map((le, index) => `${latency}_bucket{le="${le}"} ${cumulative[index]}`),
      `${latency}_bucket{le="+Inf"} 3`,
      `${latency}_sum 20.305`,
      `${latency}_count 3`,
    ]);
  });

  it('reads the outbox and the broker at scrape time, keeping the last outbox figures when a read fails', async () => {
    let reads = 0;
    let connected = false;
    const metrics = relayMetrics({
      brokerConnected: () => connected,
      outbox: async () => {
        reads += 1;
        if (reads === 2) throw new Error('database down');
        return { backlog: reads * 10, oldestAgeSeconds: reads };
      },
      partitions: async () => [],
    });
    const scrape = async () => {
      const text = await metrics.registry.metrics();
      return ['outbox_backlog', 'outbox_oldest_unpublished_age_seconds', 'broker_connected'].map(
        (name) => valueOf(text, `table_order_relay_${name}`),
      );
    };

    expect(await scrape()).toEqual([10, 1, 0]);
    connected = true;
    expect(await scrape()).toEqual([10, 1, 1]);
    expect(await scrape()).toEqual([30, 3, 1]);
    expect(reads, 'one read per scrape serves both outbox gauges').toBe(3);
  });

  it('reads the partitions once per scrape for both gauges, keeping the last figures when a read fails', async () => {
    let reads = 0;
    const metrics = relayMetrics({
      brokerConnected: () => true,
      outbox: async () => ({ backlog: 0, oldestAgeSeconds: 0 }),
      partitions: async () => {
        reads += 1;
        if (reads === 2) throw new Error('broker away');
        return [{ partition: 0, ready: reads * 10, consumers: reads === 1 ? 1 : 0 }];
      },
    });
    const scrape = async () => {
      const text = await metrics.registry.metrics();
      return ['partition_backlog', 'partition_consumer_active'].map((name) =>
        valueOf(text, `table_order_relay_${name}{partition="0"}`),
      );
    };

    expect(await scrape()).toEqual([10, 1]);
    expect(await scrape()).toEqual([10, 1]);
    expect(await scrape()).toEqual([30, 0]);
    expect(reads, 'one read per scrape serves both partition gauges').toBe(3);
  });

  it('refuses a counter going down and a second set of relay metrics in one registry', () => {
    const metrics = relayMetrics();
    expect(() => metrics.eventsPublished.inc(-1)).toThrow(/not possible to decrease/);
    expect(() => relayMetrics(undefined, metrics.registry)).toThrow(/already been registered/);
  });

  it('names every relay metric with the relay prefix', async () => {
    const text = await relayMetrics().registry.metrics();
    const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [
      name,
      type,
    ]);
    expect(names).toEqual([
      ['table_order_relay_outbox_backlog', 'gauge'],
      ['table_order_relay_outbox_oldest_unpublished_age_seconds', 'gauge'],
      ['table_order_relay_events_published_total', 'counter'],
      ['table_order_relay_events_delivered_total', 'counter'],
      ['table_order_relay_events_delivery_failures_total', 'counter'],
      ['table_order_relay_events_dead_lettered_total', 'counter'],
      ['table_order_relay_delivery_latency_seconds', 'histogram'],
      ['table_order_relay_image_job_duration_seconds', 'histogram'],
      ['table_order_relay_image_jobs_failed_total', 'counter'],
      ['table_order_relay_partition_backlog', 'gauge'],
      ['table_order_relay_partition_consumer_active', 'gauge'],
      ['table_order_relay_broker_connected', 'gauge'],
    ]);
  });
});

describe('the image worker', () => {
  it('times every job and counts the ones that end without variants', async () => {
    const hub = await startWorkerStandIn(); // holds no originals: every fetch is a 404
    cleanups.push(() => hub.close());
    const metrics = relayMetrics();
    let handle: ((message: AMQPMessage) => Promise<void>) | undefined;
    const images = new ImageWorker({
      bus: {
        subscribeToImageJobs: async (_prefetch, handler) => {
          handle = handler;
          return { channel: { basicCancel: async () => {} }, cancel: async () => {} } as never;
        },
      },
      workerUrl: hub.url,
      secret: randomSecret(),
      prefetch: 1,
      maxAttempts: 5,
      timeoutMs: 2000,
      retryBaseMs: 10,
      maxInputPixels: 1_000_000,
      log: capturedLogger().log,
      metrics,
    });
    await images.start();
    const [storeId, menuId, sha256] = [crypto.randomUUID(), crypto.randomUUID(), 'a'.repeat(64)];
    const job = {
      id: 1,
      type: 'menu.image_uploaded',
      store_id: storeId,
      data: {
        menu_id: menuId,
        original_key: imageKey(storeId, menuId, sha256, 'original'),
        content_type: 'image/jpeg',
        sha256,
      },
    };
    let acked = false;
    await handle!({
      bodyString: () => JSON.stringify(job),
      properties: { messageId: '1', headers: {} },
      channel: { closed: false },
      ack: async () => {
        acked = true;
      },
      nack: async () => {},
    } as unknown as AMQPMessage);
    await images.stop(1000);

    expect(acked).toBe(true);
    expect(hub.requests('POST', '/image-failed')).toHaveLength(1);
    expect(await sampleOf(metrics.imageJobDuration, '_count')).toBe(1);
    expect(await sampleOf(metrics.imageJobsFailed)).toBe(1);
  });
});

describe('the log file', () => {
  it('rotates by size and keeps only the newest files', async () => {
    // A directory of its own: pino-roll continues from the highest number it finds there.
    const logs = join(directory, `rotate-${randomSecret()}`);
    const file = await openLogFile({ path: join(logs, 'relay.log'), maxBytes: 92, keep: 2 });
    const line = (n: number) => `${JSON.stringify({ n, pad: 'x'.repeat(30) })}\n`; // 46 bytes
    for (let n = 1; n <= 9; n += 1) {
      file.write(line(n));
      // Two 46-byte lines reach 92 bytes: the file is closed, the next number begun and the
      // files beyond the newest three deleted.
      if (n % 2 === 0) await once(file, 'cleanup-complete');
    }
    file.end();
    await once(file, 'close');

    // Files of 1–2, 3–4, 5–6, 7–8 and 9; the two oldest are gone.
    expect((await readdir(logs)).sort()).toEqual(['relay.3.log', 'relay.4.log', 'relay.5.log']);
    const contents = (n: number) => readFile(join(logs, `relay.${n}.log`), 'utf8');
    expect(await contents(5)).toBe(line(9));
    expect(await contents(4)).toBe(line(7) + line(8));
    expect(await contents(3)).toBe(line(5) + line(6));
  });
});

describe('the running relay', () => {
  it('counts events through to the hub, shows the backlog and readiness, and logs to its file', async () => {
    const hub = await startWorkerStandIn();
    cleanups.push(() => hub.close());
    const proxy = await startBrokerProxy();
    cleanups.push(() => proxy.close());
    await proxy.cut(); // the broker is away when the relay starts
    const namespace = randomNamespace();
    namespaces.push(namespace);
    const logs = join(directory, namespace);
    const store = await createStore(scratch.db);
    await insertEvents(scratch.pool, store.id, 3);

    const relay: SpawnedRelay = spawnRelay({
      DATABASE_URL: scratch.url,
      AMQP_URL: proxy.url,
      WORKER_URL: hub.url,
      RELAY_HTTP_PORT: '0',
      RELAY_NAMESPACE: namespace,
      RELAY_HMAC_SECRET: randomSecret(),
      OUTBOX_RETRY_BASE_MS: '100',
      DELIVERY_RETRY_BASE_MS: '50',
      LOG_FILE: join(logs, 'relay.log'),
    });
    cleanups.push(() => killRelay(relay));
    await expect.poll(() => relay.output(), { timeout: 10_000 }).toContain('"msg":"relay started"');
    const started = relay
      .output()
      .split('\n')
      .find((line) => line.includes('"msg":"relay started"'));
    const base = `http://127.0.0.1:${(JSON.parse(started!) as { port: number }).port}`;
    const scrape = async () => (await fetch(`${base}/metrics`)).text();
    const readiness = async () => {
      const response = await fetch(`${base}/readyz`);
      return { http: response.status, ...((await response.json()) as object) };
    };

    // Without the broker nothing moves: three rows wait, and the relay is not ready.
    const waiting = await scrape();
    expect(valueOf(waiting, 'table_order_relay_outbox_backlog')).toBe(3);
    expect(
      valueOf(waiting, 'table_order_relay_outbox_oldest_unpublished_age_seconds'),
    ).toBeGreaterThan(0);
    expect(valueOf(waiting, 'table_order_relay_broker_connected')).toBe(0);
    expect(await readiness()).toMatchObject({
      http: 503,
      status: 'not ready',
      checks: { database: 'ok', broker: 'not connected', worker: 'ok' },
    });

    // The hub refuses the first delivery once; the retry goes through.
    let refused = false;
    hub.answer((request) => {
      if (refused || request.path !== '/internal/events') return 200;
      refused = true;
      return 500;
    });
    await proxy.restore();
    await expect
      .poll(async () => (await outboxOf(scratch.pool, store.id)).every((r) => r.published_at), {
        timeout: 10_000,
      })
      .toBe(true);
    await expect
      .poll(async () => valueOf(await scrape(), 'table_order_relay_events_delivered_total'), {
        timeout: 10_000,
      })
      .toBe(3);

    const flowing = await scrape();
    expect(valueOf(flowing, 'table_order_relay_events_published_total')).toBe(3);
    expect(valueOf(flowing, 'table_order_relay_events_delivery_failures_total')).toBe(1);
    expect(valueOf(flowing, 'table_order_relay_events_dead_lettered_total')).toBe(0);
    expect(valueOf(flowing, 'table_order_relay_delivery_latency_seconds_count')).toBe(3);
    expect(valueOf(flowing, 'table_order_relay_delivery_latency_seconds_sum')).toBeGreaterThan(0);
    expect(valueOf(flowing, 'table_order_relay_outbox_backlog')).toBe(0);
    expect(valueOf(flowing, 'table_order_relay_outbox_oldest_unpublished_age_seconds')).toBe(0);
    expect(valueOf(flowing, 'table_order_relay_broker_connected')).toBe(1);
    expect(await readiness()).toMatchObject({
      http: 200,
      status: 'ready',
      checks: { database: 'ok', broker: 'ok', worker: 'ok' },
    });

    // The Worker goes away: the relay is no longer ready, and says why.
    await hub.close();
    const unready = (await readiness()) as { http: number; checks: Record<string, string> };
    expect(unready.http).toBe(503);
    expect(unready.checks).toMatchObject({ database: 'ok', broker: 'ok' });
    // Nothing listens where the Worker was: fetch itself fails, not a timeout.
    expect(unready.checks.worker).toBe('fetch failed');

    // Far from the size limit, the log is all in the first numbered file.
    const lines = (await readFile(join(logs, 'relay.1.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; service: string });
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['relay started', 'broker connected']),
    );
    expect(lines.every((line) => line.service === 'relay' && line.level >= 30)).toBe(true);
  });
});
