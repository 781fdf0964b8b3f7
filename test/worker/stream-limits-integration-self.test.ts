import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import { storeHub } from '../../worker/hub/store-hub.ts';
import { STREAMS_PER_ACCOUNT } from '../../worker/hub/stream-limits.ts';
import { api, newStore, newTable } from './support/fixtures.ts';
import { deliverAll, envelope } from './support/relay.ts';
import {
  closeAllStreams,
  openStream,
  refusedStream,
  type SseReader,
  type StreamRefused,
} from './support/sse.ts';

const ADMIN_STREAM = '/api/admin/orders/stream';
const TABLE_STREAM = '/api/customer/orders/stream';

afterEach(closeAllStreams);

/** Opens `count` streams at `path` at once, each answered by the hub (its `retry:` arrived). */
async function openMany(path: string, token: string, count: number): Promise<SseReader[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const reader = await openStream(path, { token });
      expect(await reader.next()).toEqual({ kind: 'retry', ms: 3000 });
      return reader;
    }),
  );
}

/** Expects a refusal for too many streams: 429 RATE_LIMITED with `Retry-After`. */
function expectTooMany(refused: StreamRefused, limit: number): void {
  expect(refused.status).toBe(429);
  const retryAfter = Number(refused.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(refused.body?.error).toMatchObject({
    code: 'RATE_LIMITED',
    details: { limit, retry_after: retryAfter },
  });
}

/**
 * Disconnects a table's stream (or an admin's: `tableId` is then any table of the store) and
 * waits until the store's hub has let go of it. The hub finds out when a write to the stream
 * fails: here an event of the table, in service the next ping.
 */
async function disconnect(reader: SseReader, storeId: string, tableId: string): Promise<void> {
  const hub = storeHub(env, storeId);
  const before = (await hub.status()).streams;
  await reader.close();
  await deliverAll(envelope(storeId, { tableId }));
  await expect.poll(async () => (await hub.status()).streams, { timeout: 5_000 }).toBe(before - 1);
}

describe('how many streams may be open', () => {
  it(`lets one table hold ${STREAMS_PER_ACCOUNT.table} streams: one more is 429 until one closes, while other tables still connect`, async () => {
    const store = await newStore();
    const [table, neighbour] = [await newTable(store.id), await newTable(store.id)];
    const tablets = await openMany(TABLE_STREAM, table.token, STREAMS_PER_ACCOUNT.table);

    expectTooMany(
      await refusedStream(TABLE_STREAM, { token: table.token }),
      STREAMS_PER_ACCOUNT.table,
    );
    await openMany(TABLE_STREAM, neighbour.token, 1);

    await disconnect(tablets[0]!, store.id, table.id);
    await openMany(TABLE_STREAM, table.token, 1);
  });

  it('keeps a store to STREAM_LIMIT_PER_STORE open streams, whoever opens them', async () => {
    const limit = Number(env.STREAM_LIMIT_PER_STORE);
    // Set low for these tests (vitest.config.ts), below what one admin may hold.
    expect(limit).toBeLessThan(STREAMS_PER_ACCOUNT.store_admin);
    const [store, neighbour] = await Promise.all([newStore(), newStore()]);
    const table = await newTable(store.id);
    const dashboards = await openMany(ADMIN_STREAM, store.admin.token, limit);

    expectTooMany(await refusedStream(ADMIN_STREAM, { token: store.admin.token }), limit);
    expectTooMany(await refusedStream(TABLE_STREAM, { token: table.token }), limit);
    await openMany(ADMIN_STREAM, neighbour.admin.token, 1);

    await disconnect(dashboards[0]!, store.id, table.id);
    await openMany(TABLE_STREAM, table.token, 1);
  });

  it('states the limits in the API description', async () => {
    const { body } = await api('GET', '/openapi.json');
    const described = [ADMIN_STREAM, TABLE_STREAM].map(
      (path) => body.paths[path].get.description as string,
    );
    expect(described[0]).toContain(`${STREAMS_PER_ACCOUNT.store_admin} per store admin`);
    expect(described[1]).toContain(`${STREAMS_PER_ACCOUNT.table} per table`);
    for (const description of described) expect(description).toContain('429');
  });
});
