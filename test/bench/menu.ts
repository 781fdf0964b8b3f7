/**
 * `npm run bench:menu`: the guests' menu read (GET /api/customer/menus) through the local stack,
 * served from the Redis cache and — the same request after the key was deleted — from the
 * database (a miss, which also refills the cache). Prints a table and writes
 * test/bench/results/menu-<date>.json. BENCH_READS (default 300) reads per case.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { apiClient } from '../support/http.ts';
import { startStack } from '../support/stack.ts';
import { latencySummary } from './stats.ts';

const READS = Number(process.env.BENCH_READS ?? 300);
const stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: '1000000' } });
const redis = new Redis(stack.redisUrl);
try {
  const call = apiClient(stack.workerUrl);
  const login = await call(
    'POST',
    '/api/customer/auth/login',
    undefined,
    { store_id: DEMO_STORE_ID, table_number: 1, password: '0000' },
    { 'cf-connecting-ip': '198.18.0.2' },
  );
  const tablet = login.body.access_token as string;
  const key = `menu:categories:${DEMO_STORE_ID}`;

  async function measure(beforeEach: () => Promise<unknown>) {
    const samples: number[] = [];
    for (let i = 0; i < READS; i += 1) {
      await beforeEach();
      const t0 = performance.now();
      const res = await call('GET', '/api/customer/menus', tablet);
      samples.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`menu read: ${res.status}`);
    }
    return latencySummary(samples);
  }

  await call('GET', '/api/customer/menus', tablet); // warm: the isolate, the key ring, the cache
  const results = {
    cached: await measure(async () => undefined),
    uncached: await measure(() => redis.del(key)),
  };
  console.log(`\nGET /api/customer/menus, ${READS} sequential reads (ms), local stack`);
  console.table(results);
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(
    `menu-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`,
    dir,
  );
  writeFileSync(
    file,
    `${JSON.stringify({ measured_at: new Date().toISOString(), reads: READS, results }, null, 2)}\n`,
  );
  console.log(`written ${file.pathname}`);
} finally {
  redis.disconnect();
  await stack.stop();
}
