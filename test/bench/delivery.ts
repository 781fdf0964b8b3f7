/**
 * Order-POST → SSE receipt latency over the whole local pipeline (Worker → outbox → relay →
 * RabbitMQ → relay → StoreHub → SSE) with a number of admin streams open on one store.
 *
 * Each order's clock starts when its POST is sent and stops when a stream receives its
 * `order.created`; "first" is the first stream to get it, "all" the last of all the streams.
 */
import { setTimeout } from 'node:timers/promises';
import type pg from 'pg';
import { listen, type Listener } from '../support/event-stream.ts';
import { apiClient } from '../support/http.ts';
import { seedDashboardAdmins } from './seed.ts';
import { latencySummary } from './stats.ts';

export type DeliveryRun = {
  workerUrl: string;
  /**
   * Store admin tokens the dashboards are opened with, in turn: one account may hold only so
   * many streams (see {@link dashboardTokens}).
   */
  adminTokens: string[];
  /** Tablet tokens of the same store; orders go round-robin over them. */
  tablets: string[];
  menuId: string;
  streams: number;
  orders: number;
  /**
   * Orders per second, sent on a fixed schedule whether or not earlier ones were answered (an
   * open loop, as independent tablets are). Without it, each order is sent when the previous one
   * was answered: the store's maximum rate, which measures saturation rather than latency.
   */
  ratePerSecond?: number;
};

export async function measureDelivery(run: DeliveryRun) {
  const call = apiClient(run.workerUrl);
  const order = (tablet: string) =>
    call('POST', '/api/customer/orders', tablet, { items: [{ menu_id: run.menuId, quantity: 1 }] });

  const streams = await openStreams(
    `${run.workerUrl}/api/admin/orders/stream`,
    run.adminTokens,
    run.streams,
  );
  try {
    // Every stream must be open before the clock runs: wait until each has seen a warm-up order.
    const warmUp = await order(run.tablets[0]!);
    await receivedEverywhere(streams, [warmUp.body.id], 60_000);
    for (const s of streams) s.received.length = 0;

    const sentAt = new Map<string, number>();
    const place = async (i: number) => {
      const t0 = performance.now();
      const res = await order(run.tablets[i % run.tablets.length]!);
      if (res.status !== 201)
        throw new Error(`order ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      sentAt.set(res.body.id, t0);
    };
    const started = performance.now();
    if (run.ratePerSecond === undefined) {
      for (let i = 0; i < run.orders; i += 1) await place(i);
    } else {
      const gapMs = 1000 / run.ratePerSecond;
      await Promise.all(
        Array.from({ length: run.orders }, async (_, i) => {
          await setTimeout(Math.max(0, started + i * gapMs - performance.now()));
          await place(i);
        }),
      );
    }
    const elapsed = performance.now() - started;
    await receivedEverywhere(streams, [...sentAt.keys()], 120_000);

    const first: number[] = [];
    const all: number[] = [];
    for (const [id, t0] of sentAt) {
      const receipts = streams.map(
        (s) => s.received.find((e) => e.envelope.data.id === id)!.at - t0,
      );
      first.push(Math.min(...receipts));
      all.push(Math.max(...receipts));
    }
    return {
      streams: run.streams,
      orders: run.orders,
      rate_per_s: run.ratePerSecond ?? 'back to back',
      orders_per_s: Math.round((run.orders / elapsed) * 1000),
      first_stream_ms: latencySummary(first),
      all_streams_ms: latencySummary(all),
      /** Per order, the last stream's receipt (ms): what the chart shows. */
      samples: all,
    };
  } finally {
    for (const s of streams) s.close();
  }
}

/**
 * Resolves once every stream has received `order.created` for every one of `orderIds`. Other
 * events (a backlog of earlier work still on its way) do not count.
 */
async function receivedEverywhere(streams: Listener[], orderIds: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  // Per stream, the orders still awaited and how far its events were read: each poll reads only
  // what arrived since, so the wait costs the client (which timestamps receipts) next to nothing.
  const waiting = streams.map((stream) => ({ stream, read: 0, missing: new Set(orderIds) }));
  const missing = () =>
    waiting.some((w) => {
      for (; w.read < w.stream.received.length; w.read += 1) {
        const event = w.stream.received[w.read]!;
        if (event.type === 'order.created') w.missing.delete(event.envelope.data.id as string);
      }
      return w.missing.size > 0;
    });
  while (missing()) {
    if (Date.now() > deadline)
      throw new Error(`orders not delivered to every stream in ${timeoutMs} ms`);
    await setTimeout(50);
  }
}

/**
 * Tokens for `streams` dashboards of the store: logs in the store admins seeded for them (enough
 * to stay within the per-account stream cap), one after the other.
 */
export async function dashboardTokens(
  workerUrl: string,
  pool: pg.Pool,
  storeId: string,
  streams: number,
): Promise<string[]> {
  const call = apiClient(workerUrl);
  const tokens: string[] = [];
  for (const admin of await seedDashboardAdmins(pool, storeId, streams)) {
    const login = await call(
      'POST',
      '/api/admin/auth/login',
      undefined,
      { store_id: storeId, ...admin },
      { 'cf-connecting-ip': '198.18.0.2' },
    );
    if (login.status !== 200) {
      throw new Error(`dashboard login: ${login.status} ${JSON.stringify(login.body)}`);
    }
    tokens.push(login.body.access_token);
  }
  return tokens;
}

/**
 * Opens `count` streams at `url` (dashboards, or tablets with a token each), taking `tokens` in
 * turn, in waves that wait for the previous wave to be open, as clients with retry jitter would;
 * a stream refused under the burst (503) connects again.
 */
export async function openStreams(
  url: string,
  tokens: string[],
  count: number,
): Promise<Listener[]> {
  const connect = async (index: number): Promise<Listener> => {
    const token = tokens[index % tokens.length]!;
    for (;;) {
      const listener = listen(url, { token });
      try {
        await listener.opened();
        return listener;
      } catch {
        listener.close();
        await setTimeout(200);
      }
    }
  };
  const streams: Listener[] = [];
  while (streams.length < count) {
    const wave = Math.min(50, count - streams.length);
    const first = streams.length;
    streams.push(
      ...(await Promise.all(Array.from({ length: wave }, (_, i) => connect(first + i)))),
    );
  }
  return streams;
}
