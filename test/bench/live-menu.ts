/**
 * `node test/bench/live-menu.ts`: the live-menu measurement of `npm run bench` on its own — a dish
 * switched sold out and back while every table of a 50-table store has its stream open; the time
 * from the PATCH to each stream's `menu.availability_changed` (measureMenuDelivery). The store has
 * no history (it plays no part here), so the run takes well under a minute. Prints a table and
 * writes test/bench/results/live-menu-<date>.json.
 * Environment: BENCH_TOGGLES (default 20), BENCH_TABLES (default 50).
 */
import pg from 'pg';
import { startStack } from '../support/stack.ts';
import { logInStore } from './logins.ts';
import { measureMenuDelivery } from './menu-delivery.ts';
import { writeResults } from './results.ts';
import { seedBenchmarkStore } from './seed.ts';

const TOGGLES = Number(process.env.BENCH_TOGGLES ?? 20);
const TABLES = Number(process.env.BENCH_TABLES ?? 50);

const stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: '1000000' } });
const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
try {
  const store = await seedBenchmarkStore(pool, { tables: TABLES, historyOrders: 0 });
  const { admin, tablets } = await logInStore(stack.workerUrl, store);
  const { samples: _samples, ...result } = await measureMenuDelivery({
    workerUrl: stack.workerUrl,
    adminToken: admin,
    tablets,
    menuId: store.menus[0]!.id,
    toggles: TOGGLES,
  });

  console.log('\nsold out PATCH → SSE receipt on each tablet stream (ms), local stack');
  const receipts = {
    'each stream': result.stream_ms,
    'first stream': result.first_stream_ms,
    'all streams': result.all_streams_ms,
  };
  console.table(
    Object.entries(receipts).map(([receipt, summary]) => ({
      receipt,
      streams: result.streams,
      toggles: result.toggles,
      ...summary,
    })),
  );
  console.log(`written ${writeResults('live-menu-', result).pathname}`);
} finally {
  await pool.end();
  await stack.stop();
}
