/**
 * `npm run bench:realtime`: order-POST → SSE receipt latency over the whole local pipeline
 * (Worker → outbox → relay → RabbitMQ → relay → StoreHub → SSE), with 1, 100 and 1,000 admin
 * streams open on one store. Prints a table and writes test/bench/results/realtime-<date>.json.
 *
 * Each order's clock starts when its POST is sent and stops when a stream receives its
 * `order.created`; "first" is the first stream to get it, "all" the last of all the streams.
 * Environment: BENCH_ORDERS (default 500), BENCH_STREAMS (default "1,100,1000").
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { listen, type Listener } from '../support/event-stream.ts';
import { apiClient } from '../support/http.ts';
import { startStack } from '../support/stack.ts';
import { latencySummary } from './stats.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 500);
const STREAM_COUNTS = (process.env.BENCH_STREAMS ?? '1,100,1000').split(',').map(Number);

// One admin token opens up to 1,000 streams: lift the per-user rate limit for this stack.
const stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: '1000000' } });
const call = apiClient(stack.workerUrl);
try {
  const ip = { 'cf-connecting-ip': '198.18.0.1' };
  const admin = await call(
    'POST',
    '/api/admin/auth/login',
    undefined,
    { store_id: DEMO_STORE_ID, username: 'admin', password: 'admin1234' },
    ip,
  );
  const tablets: string[] = [];
  for (const n of [1, 2, 3, 4, 5]) {
    const login = await call(
      'POST',
      '/api/customer/auth/login',
      undefined,
      { store_id: DEMO_STORE_ID, table_number: n, password: '0000' },
      ip,
    );
    tablets.push(login.body.access_token);
  }
  const menu = (await call('GET', '/api/customer/menus', tablets[0])).body.categories[0].menus[0]
    .id as string;

  const results = [];
  for (const streamCount of STREAM_COUNTS) {
    // Dashboards connect in waves that wait for the previous wave to be open, as clients with
    // retry jitter would; a stream refused under the burst (503) connects again.
    const streams: Listener[] = [];
    const url = `${stack.workerUrl}/api/admin/orders/stream`;
    const connect = async (): Promise<Listener> => {
      for (;;) {
        const listener = listen(url, { token: admin.body.access_token });
        try {
          await listener.opened();
          return listener;
        } catch {
          listener.close();
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    };
    while (streams.length < streamCount) {
      const wave = Math.min(50, streamCount - streams.length);
      streams.push(...(await Promise.all(Array.from({ length: wave }, connect))));
    }
    // Every stream must be open before the clock runs: wait until each has seen a warm-up order.
    await call('POST', '/api/customer/orders', tablets[0], {
      items: [{ menu_id: menu, quantity: 1 }],
    });
    await Promise.all(streams.map((s) => s.waitFor('order.created', 1, 60_000)));
    for (const s of streams) s.received.length = 0;

    const sentAt = new Map<string, number>();
    const started = performance.now();
    for (let i = 0; i < ORDERS; i += 1) {
      const t0 = performance.now();
      const res = await call('POST', '/api/customer/orders', tablets[i % tablets.length], {
        items: [{ menu_id: menu, quantity: 1 }],
      });
      if (res.status !== 201)
        throw new Error(`order ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      sentAt.set(res.body.id, t0);
    }
    const elapsed = performance.now() - started;
    await Promise.all(streams.map((s) => s.waitFor('order.created', ORDERS, 120_000)));

    const first: number[] = [];
    const all: number[] = [];
    for (const [id, t0] of sentAt) {
      const receipts = streams.map(
        (s) => s.received.find((e) => e.envelope.data.id === id)!.at - t0,
      );
      first.push(Math.min(...receipts));
      all.push(Math.max(...receipts));
    }
    for (const s of streams) s.close();
    results.push({
      streams: streamCount,
      orders: ORDERS,
      orders_per_s: Math.round((ORDERS / elapsed) * 1000),
      first_stream_ms: latencySummary(first),
      all_streams_ms: latencySummary(all),
    });
    console.log(`streams=${streamCount} done`);
  }

  console.log('\norder POST → SSE receipt (ms), local stack');
  console.table(
    results.map((r) => ({
      streams: r.streams,
      orders: r.orders,
      'orders/s': r.orders_per_s,
      'first p50': r.first_stream_ms.p50,
      'first p95': r.first_stream_ms.p95,
      'first p99': r.first_stream_ms.p99,
      'all p50': r.all_streams_ms.p50,
      'all p95': r.all_streams_ms.p95,
      'all p99': r.all_streams_ms.p99,
    })),
  );
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(
    `realtime-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`,
    dir,
  );
  writeFileSync(
    file,
    `${JSON.stringify({ measured_at: new Date().toISOString(), results }, null, 2)}\n`,
  );
  console.log(`written ${file.pathname}`);
} finally {
  await stack.stop();
}
