/**
 * 품절 → tablets: how long after an admin sends `PATCH /api/admin/menus/{id}/availability` each
 * open tablet stream receives its `menu.availability_changed`, over the whole local pipeline
 * (Worker → outbox → relay → RabbitMQ → relay → StoreHub → SSE). One stream per table, each opened
 * with that table's own token, as the tablets of a dining room are.
 *
 * The dish is switched back and forth, one switch at a time: each waits until every stream has
 * received the one before, so that receipts are never mixed up between switches.
 */
import { setTimeout } from 'node:timers/promises';
import type { Listener } from '../support/event-stream.ts';
import { apiClient } from '../support/http.ts';
import { openStreams } from './delivery.ts';
import { latencySummary } from './stats.ts';

export type MenuDeliveryRun = {
  workerUrl: string;
  /** A store admin's token: the one who flips the switch. */
  adminToken: string;
  /** One token per table of the store: each opens that table's stream. */
  tablets: string[];
  /** A dish of the store, on sale; it is on sale again afterwards. */
  menuId: string;
  /** Timed switches (the first, untimed one warms up). */
  toggles: number;
};

const EVENT = 'menu.availability_changed';

/** Measures PATCH → SSE receipt on every tablet stream; see the file comment. */
export async function measureMenuDelivery(run: MenuDeliveryRun) {
  const call = apiClient(run.workerUrl);
  let available = true;
  /** Flips the dish; answers when the PATCH was sent. */
  const flip = async (): Promise<number> => {
    available = !available;
    const t0 = performance.now();
    const res = await call('PATCH', `/api/admin/menus/${run.menuId}/availability`, run.adminToken, {
      is_available: available,
    });
    if (res.status !== 200) throw new Error(`switch: ${res.status} ${JSON.stringify(res.body)}`);
    return t0;
  };

  const streams = await openStreams(
    `${run.workerUrl}/api/customer/orders/stream`,
    run.tablets,
    run.tablets.length,
  );
  try {
    await flip();
    await receiptsOfSwitch(streams, run.menuId, 1, 60_000);
    for (const s of streams) s.received.length = 0;

    const perStream: number[] = [];
    const first: number[] = [];
    const all: number[] = [];
    for (let n = 1; n <= run.toggles; n += 1) {
      const t0 = await flip();
      const receipts = (await receiptsOfSwitch(streams, run.menuId, n, 30_000)).map(
        (at) => at - t0,
      );
      perStream.push(...receipts);
      first.push(Math.min(...receipts));
      all.push(Math.max(...receipts));
    }
    return {
      streams: streams.length,
      toggles: run.toggles,
      stream_ms: latencySummary(perStream),
      first_stream_ms: latencySummary(first),
      all_streams_ms: latencySummary(all),
      /** Every stream's receipt of every switch (ms): what the table and the chart show. */
      samples: perStream,
    };
  } finally {
    for (const s of streams) s.close();
    if (!available) await flip();
  }
}

/**
 * Resolves once every stream has received `count` switches of `menuId`, with when each stream
 * received the last of them (`performance.now()`), in stream order.
 */
async function receiptsOfSwitch(
  streams: Listener[],
  menuId: string,
  count: number,
  timeoutMs: number,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipts = streams.map(
      (s) =>
        s.received.filter((e) => e.type === EVENT && e.envelope.data.menu_id === menuId)[count - 1]
          ?.at,
    );
    if (receipts.every((at) => at !== undefined)) return receipts as number[];
    if (Date.now() > deadline) {
      const missing = receipts.filter((at) => at === undefined).length;
      throw new Error(`switch ${count} did not reach ${missing} streams in ${timeoutMs} ms`);
    }
    await setTimeout(10);
  }
}
