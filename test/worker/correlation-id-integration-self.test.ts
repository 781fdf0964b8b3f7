/**
 * One id from tablet to screen: the `X-Request-Id` a client sends (or the one made for it) names
 * the request in its answer and travels with every event the request causes — in the outbox row,
 * in the envelope the relay delivers and in the admin's SSE `data:`.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { and, eq, isNull } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { recordEvent } from '../../worker/domain/events.ts';
import app from '../../worker/index.ts';
import { api, newStore, outboxOf, withDb, type ApiResponse } from './support/fixtures.ts';
import { diningRoom } from './support/ordering.ts';
import { deliverAll, envelope, postEvent, relayOutbox, signature } from './support/relay.ts';
import { closeAllStreams, openStream } from './support/sse.ts';

afterEach(closeAllStreams);

const ADMIN_STREAM = '/api/admin/orders/stream';

/** A request id as a tablet would make it, unique to the test. */
const tabletRequestId = () => `tablet-7-order-${crypto.randomUUID().slice(0, 8)}`;

/** POST /api/customer/orders of one 김치찌개, with these headers. */
function orderStew(
  table: { token: string },
  stewId: string,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  return api('POST', '/api/customer/orders', {
    token: table.token,
    body: { items: [{ menu_id: stewId, quantity: 1 }] },
    headers,
  });
}

/** The id the answer says the request was served under. */
function requestIdOf(res: ApiResponse): string {
  const id = res.headers.get('x-request-id');
  expect(id).not.toBeNull();
  return id!;
}

/** The correlation ids of the store's outbox rows of `type`, oldest first. */
async function correlationIdsOf(storeId: string, type: schema.EventType) {
  return (await outboxOf(storeId)).filter((row) => row.type === type).map((r) => r.correlationId);
}

describe('the request id a client sends', () => {
  it('is kept when it is up to 64 letters, digits, "-" or "_": the answer and the order’s event carry it', async () => {
    const { store, table, stew } = await diningRoom();
    const sent = tabletRequestId();

    const res = await orderStew(table, stew.id, { 'X-Request-Id': sent });

    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(requestIdOf(res)).toBe(sent);
    expect(await correlationIdsOf(store.id, 'order.created')).toEqual([sent]);
  });

  it('is kept at exactly 64 characters', async () => {
    const { store, table, stew } = await diningRoom();
    const longest = `${'a'.repeat(31)}_${'Z'.repeat(31)}-`;
    expect(longest).toHaveLength(64);

    const res = await orderStew(table, stew.id, { 'X-Request-Id': longest });

    expect(requestIdOf(res)).toBe(longest);
    expect(await correlationIdsOf(store.id, 'order.created')).toEqual([longest]);
  });

  it.each([
    ['65 characters', 'a'.repeat(65)],
    ['an "="', 'a=b'],
    ['a space', 'tablet 7'],
    ['a dot', 'tablet.7'],
    ['nothing at all', ''],
  ])(
    'is replaced by a fresh one when it has %s, which the answer and the event carry instead',
    async (_why, sent) => {
      const { store, table, stew } = await diningRoom();

      const res = await orderStew(table, stew.id, { 'X-Request-Id': sent });

      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const used = requestIdOf(res);
      expect(used).not.toBe(sent);
      expect(used).toMatch(schema.CORRELATION_ID_PATTERN);
      expect(await correlationIdsOf(store.id, 'order.created')).toEqual([used]);
    },
  );

  it('is made up when the client sends none: a different one per request, each on its own events', async () => {
    const { store, table, stew } = await diningRoom();

    const first = await orderStew(table, stew.id);
    const second = await orderStew(table, stew.id);

    const ids = [requestIdOf(first), requestIdOf(second)];
    expect(ids[0]).not.toBe(ids[1]);
    for (const id of ids) expect(id).toMatch(schema.CORRELATION_ID_PATTERN);
    expect(await correlationIdsOf(store.id, 'order.created')).toEqual(ids);
  });

  it('is named in an error answer too, under the same id', async () => {
    const { table } = await diningRoom();
    const sent = tabletRequestId();

    const res = await api('POST', '/api/customer/orders', {
      token: table.token,
      body: { items: [] },
      headers: { 'X-Request-Id': sent },
    });

    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(requestIdOf(res)).toBe(sent);
    expect(res.body.error.request_id).toBe(sent);
  });

  it('stays with its own request when two tablets order at the same moment', async () => {
    const { store, table, stew } = await diningRoom();
    const sent = Array.from({ length: 6 }, tabletRequestId);

    const answers = await Promise.all(
      sent.map((id) => orderStew(table, stew.id, { 'X-Request-Id': id })),
    );

    expect(answers.map((res) => res.status)).toEqual(sent.map(() => 201));
    const rows = (await outboxOf(store.id)).filter((row) => row.type === 'order.created');
    const byOrder = new Map(
      rows.map((row) => [(row.payload as { id: string }).id, row.correlationId]),
    );
    expect(answers.map((res) => byOrder.get(res.body.id))).toEqual(sent);
  });

  it('may be sent by a browser client from an allowed origin (its preflight admits the header)', async () => {
    const origin = 'https://tablet.example';
    const ctx = createExecutionContext();
    const preflight = await app.fetch(
      new Request('http://table-order.test/api/customer/orders', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-request-id',
        },
      }),
      { ...env, CORS_ORIGINS: origin },
      ctx,
    );
    await preflight.body?.cancel();
    await waitOnExecutionContext(ctx);

    expect(preflight.status).toBe(204);
    const allowed = preflight.headers.get('access-control-allow-headers')?.toLowerCase() ?? '';
    expect(allowed.split(',')).toContain('x-request-id');
  });
});

describe('an admin’s change', () => {
  it('carries the admin’s request id, and the order it changed keeps the tablet’s', async () => {
    const { store, table, stew } = await diningRoom();
    const [fromTablet, fromCounter] = [tabletRequestId(), `counter-${crypto.randomUUID()}`];
    const placed = await orderStew(table, stew.id, { 'X-Request-Id': fromTablet });

    const moved = await api('PATCH', `/api/admin/orders/${placed.body.id}/status`, {
      token: store.admin.token,
      body: { status: 'preparing' },
      headers: { 'X-Request-Id': fromCounter },
    });

    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(requestIdOf(moved)).toBe(fromCounter);
    const events = (await outboxOf(store.id)).map((row) => [row.type, row.correlationId]);
    expect(events).toEqual(
      expect.arrayContaining([
        ['order.created', fromTablet],
        ['order.status_changed', fromCounter],
      ]),
    );
  });

  it('carries the request id when its work finishes after the answer (a 504 whose work lands later)', async () => {
    const { store, table, stew } = await diningRoom();
    expect((await orderStew(table, stew.id)).status).toBe(201);
    const sent = `counter-${crypto.randomUUID()}`;
    const active = and(
      eq(schema.tableSessions.tableId, table.id),
      isNull(schema.tableSessions.endedAt),
    );

    // Another transaction holds the session, so 이용 완료 waits past its budget and answers 504;
    // its work goes on in the background (`waitUntil`) and commits once the lock is free.
    const ctx = createExecutionContext();
    let answered: Response | undefined;
    await withDb((db) =>
      db.transaction(async (tx) => {
        await tx.select().from(schema.tableSessions).where(active).for('update');
        answered = await app.fetch(
          new Request(`http://table-order.test/api/admin/tables/${table.id}/complete-session`, {
            method: 'POST',
            headers: { authorization: `Bearer ${store.admin.token}`, 'X-Request-Id': sent },
          }),
          { ...env, TIMEOUT_COMPLEX_MS: '300' },
          ctx,
        );
        await answered.body?.cancel();
      }),
    );
    expect(answered!.status).toBe(504);
    expect(answered!.headers.get('x-request-id')).toBe(sent);
    await waitOnExecutionContext(ctx);

    expect(await correlationIdsOf(store.id, 'table.session_completed')).toEqual([sent]);
  });
});

describe('an event no request caused', () => {
  it('has no correlation id (the cron, a script)', async () => {
    const store = await newStore();

    await withDb((db) =>
      db.transaction((tx) =>
        recordEvent(tx, { type: 'menu.updated', storeId: store.id, data: { menu_id: 'm-1' } }),
      ),
    );

    expect(await correlationIdsOf(store.id, 'menu.updated')).toEqual([null]);
  });
});

describe('the admin’s screen', () => {
  it('receives the order with the id the tablet sent, through the relay', async () => {
    const { store, table, stew } = await diningRoom();
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    await dashboard.next();
    const sent = tabletRequestId();
    const placed = await orderStew(table, stew.id, { 'X-Request-Id': sent });
    expect(placed.status).toBe(201);

    const [relayed] = await relayOutbox(store.id);

    expect(relayed!.correlation_id).toBe(sent);
    const received = await dashboard.nextEvent();
    expect(received.event).toBe('order.created');
    expect(JSON.parse(received.data)).toMatchObject({
      type: 'order.created',
      data: { id: placed.body.id },
      correlation_id: sent,
    });
  });

  it('still takes an event sent without correlation_id (an older relay), as caused by no request', async () => {
    const store = await newStore();
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    await dashboard.next();
    const { correlation_id: _dropped, ...older } = envelope(store.id);
    const body = JSON.stringify(older);

    const res = await postEvent(body, await signature(body));

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(JSON.parse((await dashboard.nextEvent()).data)).toEqual({
      ...older,
      correlation_id: null,
    });
  });

  it('refuses an event whose correlation_id is not a request id (400), and stores nothing', async () => {
    const store = await newStore();
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    await dashboard.next();
    for (const correlationId of ['a=b', 'a'.repeat(65), '', 42]) {
      const body = JSON.stringify({ ...envelope(store.id), correlation_id: correlationId });
      const res = await postEvent(body, await signature(body));
      expect(res.status, body).toBe(400);
      expect(res.body.error?.code).toBe('VALIDATION_ERROR');
    }
    // Positive control: the next event the stream gets is a well-formed one sent after them.
    const good = envelope(store.id, { correlationId: tabletRequestId() });
    await deliverAll(good);
    expect(JSON.parse((await dashboard.nextEvent()).data)).toEqual(good);
  });
});
