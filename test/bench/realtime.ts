/**
 * `npm run bench:realtime`: order-POST → SSE receipt latency with 1, 100 and 1,000 admin streams
 * open on the demo store (measureDelivery), with one relay or several side by side. Prints a
 * table and writes test/bench/results/realtime-<date>.json.
 * Environment: BENCH_ORDERS (default 500), BENCH_STREAMS (default "1,100,1000"), BENCH_RATE
 * (orders a second on a fixed schedule; default: each sent when the previous one was answered),
 * BENCH_RELAYS (relay processes per run, default "1"; "1,3" runs every stream count with 1, then
 * with 3 relays on the same namespace).
 */
import pg from 'pg';
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { plainDishOf } from '../support/demo-menu.ts';
import { apiClient } from '../support/http.ts';
import { relayPortOf, spawnRelay, type SpawnedRelay } from '../support/relay-fixtures.ts';
import { startStack } from '../support/stack.ts';
import { tabletDevice } from '../support/tablets.ts';
import { dashboardTokens, measureDelivery } from './delivery.ts';
import { writeResults } from './results.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 500);
const STREAM_COUNTS = (process.env.BENCH_STREAMS ?? '1,100,1000').split(',').map(Number);
const RATE = process.env.BENCH_RATE === undefined ? undefined : Number(process.env.BENCH_RATE);
const RELAY_COUNTS = (process.env.BENCH_RELAYS ?? '1').split(',').map(Number);

// A few admin tokens open up to 1,000 streams: lift the per-user rate limit for this stack. The
// bench runs the relays itself, as many as each run asks for.
const stack = await startStack({ relay: false, vars: { RATE_LIMIT_PER_MINUTE: '1000000' } });
let relays: SpawnedRelay[] = [];

/** Starts `count` relays on the stack's namespace, each on a port of its own. */
async function startRelays(count: number): Promise<void> {
  relays = Array.from({ length: count }, () =>
    spawnRelay({ ...stack.relayEnv, RELAY_HTTP_PORT: '0' }),
  );
  await Promise.all(relays.map(relayPortOf));
}

/** Stops the running relays (SIGTERM) and waits until each has exited. */
async function stopRelays(): Promise<void> {
  for (const relay of relays) relay.process.kill('SIGTERM');
  await Promise.all(relays.map((relay) => relay.exited));
  relays = [];
}

const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
const call = apiClient(stack.workerUrl);
try {
  const ip = { 'cf-connecting-ip': '198.18.0.1' };
  const tablets: string[] = [];
  for (const n of [1, 2, 3, 4, 5]) {
    const login = await call(
      'POST',
      '/api/customer/auth/login',
      undefined,
      { store_id: DEMO_STORE_ID, table_number: n, password: '0000', device_id: tabletDevice(n) },
      ip,
    );
    tablets.push(login.body.access_token);
  }
  const menuId = plainDishOf((await call('GET', '/api/customer/menus', tablets[0])).body);

  const results = [];
  for (const relayCount of RELAY_COUNTS) {
    await startRelays(relayCount);
    for (const streams of STREAM_COUNTS) {
      const { samples: _samples, ...result } = await measureDelivery({
        workerUrl: stack.workerUrl,
        // Admins of their own per run: the streams of the run before may not all be let go yet.
        adminTokens: await dashboardTokens(stack.workerUrl, pool, DEMO_STORE_ID, streams),
        tablets,
        menuId,
        streams,
        orders: ORDERS,
        ratePerSecond: RATE,
      });
      results.push({ relays: relayCount, ...result });
      console.log(`relays=${relayCount} streams=${streams} done`);
    }
    await stopRelays();
  }

  console.log('\norder POST → SSE receipt (ms), local stack');
  console.table(
    results.map((r) => ({
      relays: r.relays,
      streams: r.streams,
      orders: r.orders,
      rate: r.rate_per_s,
      'orders/s': r.orders_per_s,
      'first p50': r.first_stream_ms.p50,
      'first p95': r.first_stream_ms.p95,
      'first p99': r.first_stream_ms.p99,
      'all p50': r.all_streams_ms.p50,
      'all p95': r.all_streams_ms.p95,
      'all p99': r.all_streams_ms.p99,
    })),
  );
  console.log(`written ${writeResults('realtime-', { results }).pathname}`);
} finally {
  await stopRelays();
  await pool.end();
  await stack.stop();
}
