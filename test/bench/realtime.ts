/**
 * `npm run bench:realtime`: order-POST → SSE receipt latency with 1, 100 and 1,000 admin streams
 * open on the demo store (measureDelivery). Prints a table and writes
 * test/bench/results/realtime-<date>.json.
 * Environment: BENCH_ORDERS (default 500), BENCH_STREAMS (default "1,100,1000"), BENCH_RATE
 * (orders a second on a fixed schedule; default: each sent when the previous one was answered).
 */
import pg from 'pg';
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { apiClient } from '../support/http.ts';
import { startStack } from '../support/stack.ts';
import { dashboardTokens, measureDelivery } from './delivery.ts';
import { writeResults } from './results.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 500);
const STREAM_COUNTS = (process.env.BENCH_STREAMS ?? '1,100,1000').split(',').map(Number);
const RATE = process.env.BENCH_RATE === undefined ? undefined : Number(process.env.BENCH_RATE);

// A few admin tokens open up to 1,000 streams: lift the per-user rate limit for this stack.
const stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: '1000000' } });
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
      { store_id: DEMO_STORE_ID, table_number: n, password: '0000' },
      ip,
    );
    tablets.push(login.body.access_token);
  }
  const menuId = (await call('GET', '/api/customer/menus', tablets[0])).body.categories[0].menus[0]
    .id as string;

  const results = [];
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
    results.push(result);
    console.log(`streams=${streams} done`);
  }

  console.log('\norder POST → SSE receipt (ms), local stack');
  console.table(
    results.map((r) => ({
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
  await pool.end();
  await stack.stop();
}
