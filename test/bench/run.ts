/**
 * `npm run bench`: the benchmark suite. Starts the local stack (`startStack`: Worker in workerd
 * via wrangler, relay, bridges, its own database and Redis), seeds a benchmark store with a year
 * of history, and measures each use case twice in the same run:
 * - through the Worker, over HTTP, as a tablet or an admin dashboard calls it;
 * - as the baseline: the same domain function — the same SQL — from Node over a pooled `pg`
 *   connection (drizzle's node-postgres driver), i.e. what the database itself costs.
 * Then order → SSE delivery with 100 streams, a dish sold out → SSE on every table's stream (see
 * menu-delivery.ts), and a load run ramping tablets until order-create p95 passes 1 s. Prints a table with ratios to the baseline and the targets, writes
 * test/bench/results/<date>.json and <date>.png (latency distributions).
 *
 * Environment: BENCH_SAMPLES (sequential requests per use case and side, default 300),
 * BENCH_HISTORY_ORDERS (default 180000), BENCH_LOAD_STAGE_MS (default 5000).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createOrder } from '../../worker/domain/orders.ts';
import { changeOrderStatus } from '../../worker/domain/order-status.ts';
import { completeSession } from '../../worker/domain/sessions.ts';
import { floorDashboard } from '../../worker/domain/dashboard.ts';
import { orderHistory } from '../../worker/domain/history.ts';
import { loadGuestMenu } from '../../worker/domain/menu-view.ts';
import { cacheKeys } from '../../worker/platform/cache.ts';
import { domainDatabase } from '../support/domain-database.ts';
import { apiClient, type Reply } from '../support/http.ts';
import { startStack } from '../support/stack.ts';
import { renderLatencyChart, type LatencySeries } from './chart.ts';
import { dashboardTokens, measureDelivery } from './delivery.ts';
import { rampTablets } from './load.ts';
import { logInStore } from './logins.ts';
import { measureMenuDelivery } from './menu-delivery.ts';
import { RESULTS_DIR, resultName, writeResults } from './results.ts';
import { seedBenchmarkStore } from './seed.ts';
import { latencySummary, timeConcurrent, timeSequential, type LatencySummary } from './stats.ts';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const HISTORY_ORDERS = Number(process.env.BENCH_HISTORY_ORDERS ?? 180_000);
const LOAD_STAGE_MS = Number(process.env.BENCH_LOAD_STAGE_MS ?? 5_000);
/** Clients of the throughput phase, and connections of the baseline's pool. */
const CONCURRENCY = 8;
/** Sessions completed per side; each is 100 orders placed first (not timed). */
const SESSIONS = 20;
const ORDERS_PER_SESSION = 100;
const DELIVERY_STREAMS = 100;
const DELIVERY_ORDERS = 300;
/** Orders a second during the delivery measurement: far above a restaurant's busiest minute. */
const DELIVERY_RATE = 10;
/** Who the baseline's direct domain calls name in the audit trail (an admin the bench made up). */
const BASELINE_ACTOR = { role: 'store_admin', id: randomUUID() } as const;
/** Times a dish is switched (품절 and back) while every table's stream is open. */
const MENU_TOGGLES = 20;

type Side = { samples: number[]; summary: LatencySummary; perSecond?: number };
type Target = { text: string; met: (worker: LatencySummary, baseline?: LatencySummary) => boolean };
type Measured = { name: string; worker: Side; baseline?: Side; target?: Target };

/** One use case: how the Worker is asked, and the same work as the baseline does it. */
type UseCase = {
  name: string;
  samples?: number;
  worker: (index: number) => Promise<unknown>;
  baseline?: (index: number) => Promise<unknown>;
  /** Untimed: what the use case needs on the emptied floor before each side runs. */
  setUp?: () => Promise<unknown>;
  /** Untimed work before each sequential request (both sides), e.g. deleting a cache key. */
  prepare?: (index: number) => Promise<unknown>;
  /** Whether a concurrent phase measures requests per second. */
  throughput: boolean;
  target?: Target;
};

const startedAt = new Date();
const stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: '1000000' } });
const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: CONCURRENCY });
const db = domainDatabase(pool);
const redis = new Redis(stack.redisUrl, { keyPrefix: stack.redisKeyPrefix });
const call = apiClient(stack.workerUrl);

/** The reply, if it has the expected status; a benchmark of failing requests measures nothing. */
function expectStatus(status: number) {
  return (reply: Reply): Reply => {
    if (reply.status !== status) {
      throw new Error(`expected ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`);
    }
    return reply;
  };
}

try {
  let t0 = performance.now();
  const store = await seedBenchmarkStore(pool, { historyOrders: HISTORY_ORDERS });
  const seedSeconds = Math.round((performance.now() - t0) / 100) / 10;
  console.log(
    `seeded ${HISTORY_ORDERS} history orders over ${store.tables.length} tables in ${seedSeconds} s`,
  );

  const { admin, tablets } = await logInStore(stack.workerUrl, store);

  const tableOf = (index: number) => store.tables[index % store.tables.length]!;
  const tabletOf = (index: number) => tablets[index % tablets.length]!;
  /** One to three lines of different menus, varying with `index`. */
  const linesOf = (index: number) =>
    Array.from({ length: 1 + (index % 3) }, (_, line) => ({
      menuId: store.menus[(index + line * 5) % store.menus.length]!.id,
      quantity: 1 + (line % 2),
    }));
  const placeDirectly = (index: number) =>
    createOrder(db, { storeId: store.storeId, tableId: tableOf(index).id, items: linesOf(index) });
  /** Ends every open session of the store (untimed), so the floor starts empty. */
  const clearFloor = async () => {
    const { rows } = await pool.query<{ table_id: string }>(
      'select table_id from table_sessions where store_id = $1 and ended_at is null',
      [store.storeId],
    );
    for (const row of rows) await completeSession(db, store.storeId, row.table_id, BASELINE_ACTOR);
  };

  // Orders waiting for their next kitchen state, three moves each, handed out in order.
  const moves: { orderId: string; status: 'preparing' | 'cooked' | 'delivered' }[] = [];
  const stockMoves = async (orderCount: number) => {
    moves.length = 0;
    for (let index = 0; index < orderCount; index += 1) {
      const { order } = await placeDirectly(index);
      for (const status of ['preparing', 'cooked', 'delivered'] as const) {
        moves.push({ orderId: order.id, status });
      }
    }
  };
  // With several clients, an order's three moves must not race each other: client-side, the
  // moves are interleaved by order so that concurrent indexes hit different orders.
  const moveAt = (index: number) => {
    const orders = moves.length / 3;
    return moves[(index % orders) * 3 + Math.floor(index / orders)]!;
  };

  // Each history request asks for a page nobody asked for before (table, 30-day window, page
  // number), so that the Worker's cache never answers it: this measures the query.
  let historyRequests = 0;
  /** A busy evening: three orders on every table. */
  const busyFloor = async () => {
    for (let index = 0; index < store.tables.length * 3; index += 1) await placeDirectly(index);
    // The Worker's floor writes of the previous use case left the invalidation marker, which
    // refuses fills for 15 s: remove it, so that the warm-up fills the cache.
    await redis.del(cacheKeys.dashboard(store.storeId));
  };

  const historyQuery = () => {
    const n = historyRequests++;
    const day = (offset: number) =>
      new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
    const start = 30 + ((n * 7) % 330);
    return {
      table: tableOf(n),
      from: day(start),
      to: day(start - 30),
      page: 1 + (Math.floor(n / 1650) % 3),
    };
  };

  const useCases: UseCase[] = [
    {
      // What the local dev server costs before any of our code runs: wrangler's proxy, workerd,
      // the HTTP client. Every Worker row below includes it; production has none of it.
      name: 'floor: GET /healthz',
      worker: () => call('GET', '/healthz').then(expectStatus(200)),
      throughput: true,
    },
    {
      name: 'menu read (cached)',
      worker: (i) => call('GET', '/api/customer/menus', tabletOf(i)).then(expectStatus(200)),
      baseline: () => loadGuestMenu(db, store.storeId),
      throughput: true,
      target: { text: 'p95 ≤ 10 ms', met: (w) => w.p95 <= 10 },
    },
    {
      name: 'menu read (cache miss)',
      prepare: () => redis.del(cacheKeys.guestMenu(store.storeId)),
      worker: (i) => call('GET', '/api/customer/menus', tabletOf(i)).then(expectStatus(200)),
      baseline: () => loadGuestMenu(db, store.storeId),
      throughput: false,
    },
    {
      name: 'order create',
      worker: (i) =>
        call(
          'POST',
          '/api/customer/orders',
          tabletOf(i),
          { items: linesOf(i).map((l) => ({ menu_id: l.menuId, quantity: l.quantity })) },
          { 'idempotency-key': randomUUID() },
        ).then(expectStatus(201)),
      baseline: (i) =>
        createOrder(db, {
          storeId: store.storeId,
          tableId: tableOf(i).id,
          items: linesOf(i),
          idempotencyKey: randomUUID(),
        }),
      throughput: true,
      target: {
        text: 'p95 ≤ 3 × pg p95 + 5 ms',
        met: (w, b) => b !== undefined && w.p95 <= 3 * b.p95 + 5,
      },
    },
    {
      name: 'status change',
      setUp: () => stockMoves(Math.ceil((SAMPLES + 1) / 3)),
      worker: (i) => {
        const move = moveAt(i);
        return call('PATCH', `/api/admin/orders/${move.orderId}/status`, admin, {
          status: move.status,
        }).then(expectStatus(200));
      },
      baseline: (i) => {
        const move = moveAt(i);
        return changeOrderStatus(db, store.storeId, move.orderId, move.status, BASELINE_ACTOR);
      },
      throughput: true,
    },
    {
      name: 'dashboard (cached)',
      setUp: busyFloor,
      worker: () => call('GET', '/api/admin/dashboard', admin).then(expectStatus(200)),
      baseline: () => floorDashboard(db, store.storeId),
      throughput: true,
    },
    {
      name: 'dashboard (cache miss)',
      setUp: busyFloor,
      prepare: () => redis.del(cacheKeys.dashboard(store.storeId)),
      worker: () => call('GET', '/api/admin/dashboard', admin).then(expectStatus(200)),
      baseline: () => floorDashboard(db, store.storeId),
      throughput: false,
    },
    {
      name: 'history page (30 days)',
      worker: () => {
        const q = historyQuery();
        return call(
          'GET',
          `/api/admin/tables/${q.table.id}/order-history?from=${q.from}&to=${q.to}&page=${q.page}`,
          admin,
        ).then(expectStatus(200));
      },
      baseline: () => {
        const q = historyQuery();
        return orderHistory(db, store.storeId, q.table.id, { ...q, pageSize: 20 });
      },
      throughput: true,
      target: { text: 'p95 ≤ 50 ms', met: (w) => w.p95 <= 50 },
    },
    {
      name: `complete session (${ORDERS_PER_SESSION} orders)`,
      samples: SESSIONS,
      prepare: async (i) => {
        for (let n = 0; n < ORDERS_PER_SESSION; n += 1) {
          await createOrder(db, {
            storeId: store.storeId,
            tableId: tableOf(i).id,
            items: linesOf(n),
          });
        }
      },
      worker: (i) =>
        call('POST', `/api/admin/tables/${tableOf(i).id}/complete-session`, admin)
          .then(expectStatus(200))
          .then((reply) => {
            if (reply.body.order_count !== ORDERS_PER_SESSION) throw new Error('short session');
          }),
      baseline: (i) => completeSession(db, store.storeId, tableOf(i).id, BASELINE_ACTOR),
      throughput: false,
      target: { text: 'p95 ≤ 300 ms', met: (w) => w.p95 <= 300 },
    },
  ];

  /**
   * Waits until the real-time pipeline has caught up: every outbox row published and every
   * published event delivered to the hub (the relay's own counters). Both sides write events, and
   * a backlog still flowing through the relay and the Worker would be measured with the next
   * use case.
   */
  const settle = async () => {
    const counter = (metrics: string, name: string) =>
      Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [{ rows }, metrics] = await Promise.all([
        pool.query<{ n: number }>(
          'select count(*)::int as n from outbox where published_at is null',
        ),
        fetch(`${stack.relayUrl}/metrics`).then((res) => res.text()),
      ]);
      const published = counter(metrics, 'table_order_relay_events_published_total');
      const delivered = counter(metrics, 'table_order_relay_events_delivered_total');
      if (rows[0]!.n === 0 && delivered >= published) return;
      if (Date.now() > deadline) throw new Error('the relay did not catch up in 120 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  /** Fresh state for a use case, before each side runs (untimed). */
  const setUp = async (useCase: UseCase) => {
    await clearFloor();
    await useCase.setUp?.();
    await settle();
  };

  const measured: Measured[] = [];
  for (const useCase of useCases) {
    const count = useCase.samples ?? SAMPLES;
    const measureSide = async (run: (index: number) => Promise<unknown>): Promise<Side> => {
      const prepare = useCase.prepare ?? (async () => undefined);
      await setUp(useCase);
      // Index 0 warms up (the isolate, the code path, the cache); the timed runs are 1 … count.
      await prepare(0);
      await run(0);
      const samples = await timeSequential(
        count,
        (index) => run(index + 1),
        (index) => prepare(index + 1),
      );
      let perSecond: number | undefined;
      if (useCase.throughput) {
        await setUp(useCase);
        perSecond = (await timeConcurrent(CONCURRENCY, count, run)).perSecond;
      }
      return { samples, summary: latencySummary(samples), perSecond };
    };
    const worker = await measureSide(useCase.worker);
    const baseline = useCase.baseline ? await measureSide(useCase.baseline) : undefined;
    measured.push({ name: useCase.name, worker, baseline, target: useCase.target });
    console.log(`${useCase.name}: worker p95 ${worker.summary.p95} ms`);
  }
  await clearFloor();
  await settle();

  const delivery = await measureDelivery({
    workerUrl: stack.workerUrl,
    adminTokens: await dashboardTokens(stack.workerUrl, pool, store.storeId, DELIVERY_STREAMS),
    tablets,
    menuId: store.menus[0]!.id,
    streams: DELIVERY_STREAMS,
    orders: DELIVERY_ORDERS,
    ratePerSecond: DELIVERY_RATE,
  });
  measured.push({
    name: `order → SSE (${DELIVERY_STREAMS} streams, ${DELIVERY_RATE}/s)`,
    worker: {
      samples: delivery.samples,
      summary: delivery.all_streams_ms,
      perSecond: delivery.orders_per_s,
    },
    target: { text: 'p99 ≤ 100 ms', met: (w) => w.p99 <= 100 },
  });
  await clearFloor();
  await settle();

  const menuDelivery = await measureMenuDelivery({
    workerUrl: stack.workerUrl,
    adminToken: admin,
    tablets,
    menuId: store.menus[0]!.id,
    toggles: MENU_TOGGLES,
  });
  measured.push({
    name: `sold out → SSE (${menuDelivery.streams} tablet streams)`,
    worker: { samples: menuDelivery.samples, summary: menuDelivery.stream_ms },
    target: { text: 'p99 ≤ 1 s', met: (w) => w.p99 <= 1_000 },
  });
  await settle();

  const load = await rampTablets({
    workerUrl: stack.workerUrl,
    tokens: tablets,
    menuIds: store.menus.map((menu) => menu.id),
    stages: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    stageMs: LOAD_STAGE_MS,
    p95LimitMs: 1_000,
  });

  const rows = measured.map((m) => ({
    'use case': m.name,
    p50: m.worker.summary.p50,
    p95: m.worker.summary.p95,
    p99: m.worker.summary.p99,
    'req/s': m.worker.perSecond ?? '',
    'pg p50': m.baseline?.summary.p50 ?? '',
    'pg p95': m.baseline?.summary.p95 ?? '',
    'pg p99': m.baseline?.summary.p99 ?? '',
    'pg req/s': m.baseline?.perSecond ?? '',
    'p95 ×pg': m.baseline
      ? Math.round((m.worker.summary.p95 / m.baseline.summary.p95) * 10) / 10
      : '',
    target: m.target?.text ?? '',
    met: m.target ? (m.target.met(m.worker.summary, m.baseline?.summary) ? 'yes' : 'NO') : '',
  }));
  console.log(
    `\nTable Order benchmark, ${availableParallelism()} cores; latencies in ms over ${SAMPLES} ` +
      `sequential requests (complete session: ${SESSIONS}); req/s with ${CONCURRENCY} clients. ` +
      `pg = the same domain function from Node over pooled pg.`,
  );
  console.table(rows);
  console.log(
    `load: knee at ${load.knee?.tablets ?? 0} concurrent tablets ` +
      `(${load.knee?.orders_per_s ?? 0} orders/s, p95 ${load.knee?.latency_ms.p95 ?? '–'} ms); ` +
      `stages: ${load.stages.map((s) => `${s.tablets}→p95 ${s.latency_ms.p95}`).join(', ')}`,
  );

  const file = writeResults(
    '',
    {
      cores: availableParallelism(),
      node: process.version,
      history_orders: HISTORY_ORDERS,
      seed_seconds: seedSeconds,
      samples: SAMPLES,
      concurrency: CONCURRENCY,
      use_cases: measured.map((m, index) => ({
        ...rows[index],
        worker: { ...m.worker.summary, per_s: m.worker.perSecond },
        baseline: m.baseline && { ...m.baseline.summary, per_s: m.baseline.perSecond },
      })),
      delivery: { ...delivery, samples: undefined },
      menu_delivery: { ...menuDelivery, samples: undefined },
      load,
    },
    startedAt,
  );
  const series: LatencySeries[] = measured.flatMap((m) => [
    { useCase: m.name, side: 'worker' as const, samples: m.worker.samples },
    ...(m.baseline
      ? [{ useCase: m.name, side: 'baseline' as const, samples: m.baseline.samples }]
      : []),
  ]);
  const chart = new URL(`${resultName('', startedAt)}.png`, RESULTS_DIR);
  await renderLatencyChart(series, chart, `Table Order benchmark ${startedAt.toISOString()}`);
  console.log(`written ${file.pathname}, ${chart.pathname}`);
} finally {
  redis.disconnect();
  await pool.end();
  await stack.stop();
}
