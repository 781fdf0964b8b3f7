import { env, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TOKEN_TTL_SECONDS } from '../../worker/auth/tokens.ts';
import { PING_INTERVAL_MS, storeHub } from '../../worker/hub/store-hub.ts';
import {
  api,
  newStore,
  newSuperAdmin,
  newTable,
  type ApiResponse,
  type StoreFixture,
} from './support/fixtures.ts';
import { deliver, deliverAll, envelope } from './support/relay.ts';
import { payloadOf, signToken } from './support/tokens.ts';
import {
  closeAllStreams,
  openStream,
  refusal,
  type SseEvent,
  type SseReader,
} from './support/sse.ts';

const ADMIN_STREAM = '/api/admin/orders/stream';
const TABLE_STREAM = '/api/customer/orders/stream';
/** The first item of every stream. */
const RETRY = { kind: 'retry', ms: 3000 };

afterEach(closeAllStreams);

/** An outbox id above every one `envelope()` hands out: an event whose transaction started later. */
const biggerId = () => 9_000_000_000 + Math.floor(Math.random() * 1e6);

/** The outbox ids carried by received events, in arrival order. */
const outboxIds = (events: SseEvent[]) => events.map((e) => JSON.parse(e.data).id as number);

/** Moves the times of a store's stream tickets back, as if they had been issued `ms` earlier. */
function ticketsIssuedEarlier(storeId: string, ms: number): Promise<void> {
  return runInDurableObject(storeHub(env, storeId), (_hub, state) => {
    state.storage.sql.exec(
      `UPDATE stream_tickets SET expires_at = expires_at - ?, resumable_until = resumable_until - ?`,
      ms,
      ms,
    );
  });
}

async function ticketFor(token: string): Promise<string> {
  const res = await api('POST', '/api/admin/stream-ticket', { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.expires_in).toBe(60);
  return res.body.ticket;
}

describe("the admin's live order stream", () => {
  it('says how soon to reconnect, then shows each new event with its id, type and envelope', async () => {
    const store = await newStore();
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    expect(dashboard.response.headers.get('content-type')).toBe('text/event-stream');
    expect(dashboard.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(dashboard.response.headers.get('x-accel-buffering')).toBe('no');
    expect(dashboard.response.headers.get('x-request-id')).toBeTruthy();
    expect(await dashboard.next()).toEqual(RETRY);

    const order = envelope(store.id, { tableId: crypto.randomUUID(), data: { order_number: 7 } });
    await deliverAll(order);

    const received = await dashboard.nextEvent();
    expect(received.event).toBe('order.created');
    expect(JSON.parse(received.data)).toEqual(order);
    expect(received.id).toBe(String(order.id));
  });

  it("never shows another store's events", async () => {
    const [store, neighbour] = await Promise.all([newStore(), newStore()]);
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    const theirs = envelope(neighbour.id);
    const ours = envelope(store.id);
    await deliverAll(theirs, ours);

    expect(outboxIds([await dashboard.nextEvent()])).toEqual([ours.id]);
  });

  it('shows events in the order they reach the store, each with its outbox id, even when a bigger id comes first', async () => {
    const store = await newStore();
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    const bigger = envelope(store.id, { id: biggerId() });
    const smaller = envelope(store.id);
    await deliverAll(bigger, smaller);

    const events = await dashboard.events(2);
    expect(events.map((e) => e.id)).toEqual([String(bigger.id), String(smaller.id)]);
    expect(outboxIds(events)).toEqual([bigger.id, smaller.id]);
  });
});

describe("a table's stream", () => {
  it("carries that table's events and the store-wide ones: not another table's, not another store's", async () => {
    const [store, neighbour] = await Promise.all([newStore(), newStore()]);
    const [table1, table2] = [await newTable(store.id), await newTable(store.id)];
    const tablet = await openStream(TABLE_STREAM, { token: table1.token });
    const mine = envelope(store.id, { tableId: table1.id });
    const menu = envelope(store.id, { type: 'menu.updated' });
    const mineAgain = envelope(store.id, { tableId: table1.id, type: 'order.status_changed' });
    await deliverAll(
      envelope(store.id, { tableId: table2.id }),
      mine,
      menu,
      envelope(neighbour.id, { tableId: table1.id }),
      envelope(neighbour.id, { type: 'menu.updated' }),
      mineAgain,
    );

    const events = await tablet.events(3);
    expect(outboxIds(events)).toEqual([mine.id, menu.id, mineAgain.id]);
    expect(events.map((e) => e.event)).toEqual([
      'order.created',
      'menu.updated',
      'order.status_changed',
    ]);
  });
});

describe('coming back with Last-Event-ID', () => {
  it('replays exactly the missed events, in order, then carries on live', async () => {
    const store = await newStore();
    const first = await openStream(ADMIN_STREAM, { token: store.admin.token });
    const seen = envelope(store.id);
    await deliverAll(seen);
    const last = await first.nextEvent();
    await first.close();

    const missed = [envelope(store.id), envelope(store.id), envelope(store.id)];
    await deliverAll(...missed);
    const back = await openStream(ADMIN_STREAM, { token: store.admin.token, lastEventId: last.id });
    expect(await back.next()).toEqual(RETRY);
    const replayed = await back.events(3);
    expect(outboxIds(replayed)).toEqual(missed.map((e) => e.id));
    expect(replayed.map((e) => e.id)).toEqual(missed.map((e) => String(e.id)));

    const live = envelope(store.id);
    await deliverAll(live);
    expect(outboxIds([await back.nextEvent()])).toEqual([live.id]);
  });

  it("accepts the envelope's id of the last event seen, and replays exactly the missed events", async () => {
    const store = await newStore();
    const first = await openStream(ADMIN_STREAM, { token: store.admin.token });
    await deliverAll(envelope(store.id), envelope(store.id));
    const lastSeen = JSON.parse((await first.events(2))[1]!.data).id as number;
    await first.close();

    const missed = [envelope(store.id), envelope(store.id)];
    await deliverAll(...missed);
    const back = await openStream(ADMIN_STREAM, {
      token: store.admin.token,
      lastEventId: String(lastSeen),
    });
    expect(outboxIds(await back.events(2))).toEqual(missed.map((e) => e.id));
    const live = envelope(store.id);
    await deliverAll(live);
    expect(outboxIds([await back.nextEvent()])).toEqual([live.id]);
  });

  it('still replays an event that committed late: a smaller id arriving after a bigger one', async () => {
    const store = await newStore();
    const first = await openStream(ADMIN_STREAM, { token: store.admin.token });
    const bigger = envelope(store.id, { id: biggerId() });
    await deliverAll(bigger);
    const last = await first.nextEvent();
    expect(last.id).toBe(String(bigger.id));
    await first.close();

    const late = envelope(store.id);
    expect(late.id).toBeLessThan(bigger.id);
    await deliverAll(late);
    const back = await openStream(ADMIN_STREAM, { token: store.admin.token, lastEventId: last.id });
    const replayed = await back.nextEvent();
    expect([replayed.id, JSON.parse(replayed.data).id]).toEqual([String(late.id), late.id]);
  });

  it("replays only the table's own missed events to a tablet", async () => {
    const store = await newStore();
    const [table1, table2] = [await newTable(store.id), await newTable(store.id)];
    const mine = [
      envelope(store.id, { tableId: table1.id }),
      envelope(store.id, { tableId: table1.id }),
    ];
    await deliverAll(mine[0]!, envelope(store.id, { tableId: table2.id }), mine[1]!);

    const tablet = await openStream(`${TABLE_STREAM}?last_event_id=0`, { token: table1.token });
    expect(outboxIds(await tablet.events(2))).toEqual(mine.map((e) => e.id));
  });

  it('accepts the id as ?last_event_id= for clients that cannot set the header', async () => {
    const store = await newStore();
    const events = [envelope(store.id), envelope(store.id), envelope(store.id)];
    await deliverAll(...events);

    const back = await openStream(`${ADMIN_STREAM}?last_event_id=${events[0]!.id}`, {
      token: store.admin.token,
    });
    expect(outboxIds(await back.events(2))).toEqual([events[1]!.id, events[2]!.id]);
  });

  it('misses nothing and repeats nothing while events keep arriving during the reconnect', async () => {
    const store = await newStore();
    const seen = envelope(store.id);
    await deliverAll(seen);
    const burst = Array.from({ length: 20 }, () => envelope(store.id));

    let reconnecting: Promise<SseReader> | undefined;
    for (const [i, event] of burst.entries()) {
      if (i === 5)
        reconnecting = openStream(ADMIN_STREAM, {
          token: store.admin.token,
          lastEventId: String(seen.id),
        });
      expect((await deliver(event)).body.stored).toBe(true);
    }
    const back = await reconnecting!;
    const events = await back.events(20);
    expect(events.map((e) => e.id)).toEqual(burst.map((e) => String(e.id)));
    expect(outboxIds(events)).toEqual(burst.map((e) => e.id));
  });

  it('asks the client to reload (resync) when the id is not an event the store holds, naming the newest one', async () => {
    const store = await newStore();
    const newest = envelope(store.id);
    await deliverAll(newest);

    const back = await openStream(ADMIN_STREAM, {
      token: store.admin.token,
      lastEventId: String(newest.id + 500),
    });
    expect(await back.next()).toEqual(RETRY);
    const resync = { kind: 'event', id: String(newest.id), event: 'resync', data: '{}' };
    expect(await back.nextEvent()).toEqual(resync);

    const live = envelope(store.id);
    await deliverAll(live);
    expect(outboxIds([await back.nextEvent()])).toEqual([live.id]);

    // After reloading, the client resumes from the id resync gave it.
    const reloaded = await openStream(ADMIN_STREAM, {
      token: store.admin.token,
      lastEventId: resync.id,
    });
    expect(outboxIds([await reloaded.nextEvent()])).toEqual([live.id]);
  });

  it("asks the client to reload when the id is another store's event", async () => {
    const [store, neighbour] = await Promise.all([newStore(), newStore()]);
    const theirs = envelope(neighbour.id);
    await deliverAll(theirs, envelope(store.id));
    const back = await openStream(ADMIN_STREAM, {
      token: store.admin.token,
      lastEventId: String(theirs.id),
    });
    expect((await back.nextEvent()).event).toBe('resync');
  });

  it('asks the client to reload from 0 when the store has no events yet', async () => {
    const store = await newStore();
    const back = await openStream(ADMIN_STREAM, { token: store.admin.token, lastEventId: '123' });
    expect(await back.nextEvent()).toEqual({ kind: 'event', id: '0', event: 'resync', data: '{}' });
  });

  it('asks the client to reload when the id is not a number', async () => {
    const store = await newStore();
    const back = await openStream(ADMIN_STREAM, { token: store.admin.token, lastEventId: 'abc' });
    expect((await back.nextEvent()).event).toBe('resync');
  });
});

describe('a first connect (no Last-Event-ID)', () => {
  it("is told where the store stands: the opening frame sets the last event id to the newest event's, 0 when none", async () => {
    const store = await newStore();
    const early = await openStream(ADMIN_STREAM, { token: store.admin.token });
    expect(await early.next()).toEqual(RETRY);
    expect(early.lastEventId).toBe('0');

    // The newest by arrival, not the biggest id.
    const events = [envelope(store.id), envelope(store.id, { id: biggerId() }), envelope(store.id)];
    await deliverAll(...events);
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    expect(await dashboard.next()).toEqual(RETRY);
    expect(dashboard.lastEventId).toBe(String(events[2]!.id));

    // Nothing was dispatched for it: what comes next is the next live event.
    const live = envelope(store.id);
    await deliverAll(live);
    expect(await dashboard.next()).toMatchObject({ kind: 'event', id: String(live.id) });
    expect(outboxIds(await early.events(4))).toEqual([...events, live].map((e) => e.id));
  });

  it('comes back from that id with what arrived meanwhile, though it had received no event', async () => {
    const store = await newStore();
    await deliverAll(envelope(store.id));
    const first = await openStream(ADMIN_STREAM, { token: store.admin.token });
    expect(await first.next()).toEqual(RETRY);
    await first.close();

    const meanwhile = [envelope(store.id), envelope(store.id)];
    await deliverAll(...meanwhile);
    const back = await openStream(ADMIN_STREAM, {
      token: store.admin.token,
      lastEventId: first.lastEventId,
    });
    expect(await back.next()).toEqual(RETRY);
    // A reconnect's opening frame names no id: the replay's own ids follow what it sent.
    expect(back.lastEventId).toBe(first.lastEventId);
    const replayed = await back.events(2);
    expect(outboxIds(replayed)).toEqual(meanwhile.map((e) => e.id));
    expect(back.lastEventId).toBe(String(meanwhile[1]!.id));
  });
});

describe('stream tickets, for EventSource (which cannot send headers)', () => {
  it('open a stream once; the same ticket again, not as a reconnect (no Last-Event-ID header), is refused', async () => {
    const store = await newStore();
    const ticket = await ticketFor(store.admin.token);
    expect(ticket.startsWith(`${store.id}.`)).toBe(true);

    const dashboard = await openStream(`${ADMIN_STREAM}?ticket=${ticket}`);
    const event = envelope(store.id);
    await deliverAll(event);
    expect(outboxIds([await dashboard.nextEvent()])).toEqual([event.id]);

    const invalid = { status: 401, code: 'TOKEN_INVALID' };
    expect(await refusal(`${ADMIN_STREAM}?ticket=${ticket}`)).toEqual(invalid);
    // The query parameter is not what EventSource sends when it reconnects.
    expect(await refusal(`${ADMIN_STREAM}?ticket=${ticket}&last_event_id=${event.id}`)).toEqual(
      invalid,
    );
  });

  it("let that stream's own reconnects (Last-Event-ID) present it again: exactly the missed events, then live ones", async () => {
    const store = await newStore();
    const path = `${ADMIN_STREAM}?ticket=${await ticketFor(store.admin.token)}`;
    const dashboard = await openStream(path);
    const seen = envelope(store.id);
    await deliverAll(seen);
    const last = await dashboard.nextEvent();
    await dashboard.close();

    const missed = [envelope(store.id), envelope(store.id), envelope(store.id)];
    await deliverAll(...missed);
    const back = await openStream(path, { lastEventId: last.id });
    expect(await back.next()).toEqual(RETRY);
    expect(outboxIds(await back.events(3))).toEqual(missed.map((e) => e.id));
    await back.close();

    // The next cut (every deploy makes one) resumes the same way.
    const again = await openStream(path, { lastEventId: back.lastEventId });
    const live = envelope(store.id);
    await deliverAll(live);
    expect(outboxIds([await again.nextEvent()])).toEqual([live.id]);
  });

  it('bring a tablet back with only its own events, though its stream had received none before the cut', async () => {
    const store = await newStore();
    const [table, neighbour] = [await newTable(store.id), await newTable(store.id)];
    await deliverAll(envelope(store.id, { tableId: neighbour.id }));
    const path = `${TABLE_STREAM}?ticket=${await ticketFor(table.token)}`;
    const tablet = await openStream(path);
    expect(await tablet.next()).toEqual(RETRY);
    await tablet.close();

    const mine = envelope(store.id, { tableId: table.id });
    await deliverAll(envelope(store.id, { tableId: neighbour.id }), mine);
    const back = await openStream(path, { lastEventId: tablet.lastEventId });
    expect(outboxIds([await back.nextEvent()])).toEqual([mine.id]);
  });

  /** Accounts whose access is taken away while their stream is between reconnects. */
  const REVOCATIONS: Array<{
    account: string;
    stream: string;
    holder: (store: StoreFixture) => Promise<{ id: string; token: string }>;
    revoke: (store: StoreFixture, id: string) => Promise<ApiResponse>;
    refused: { status: number; code: string };
  }> = [
    {
      account: 'an admin deactivated',
      stream: ADMIN_STREAM,
      holder: async (store) => store.admin,
      revoke: async (_store, id) =>
        api('PATCH', `/api/superadmin/admins/${id}/deactivate`, {
          token: (await newSuperAdmin()).token,
        }),
      refused: { status: 403, code: 'ACCOUNT_DISABLED' },
    },
    {
      account: 'a table given a new password',
      stream: TABLE_STREAM,
      holder: (store) => newTable(store.id),
      revoke: (store, id) =>
        api('PATCH', `/api/admin/tables/${id}`, {
          token: store.admin.token,
          body: { password: 'new-pass' },
        }),
      refused: { status: 401, code: 'TOKEN_INVALID' },
    },
  ];

  it.each(REVOCATIONS)(
    'refuse the reconnect of $account since, where it resumed before',
    async ({ stream, holder, revoke, refused }) => {
      const store = await newStore();
      const account = await holder(store);
      const path = `${stream}?ticket=${await ticketFor(account.token)}`;
      const first = await openStream(path);
      expect(await first.next()).toEqual(RETRY);
      await first.close();
      const resumed = await openStream(path, { lastEventId: first.lastEventId });
      expect(await resumed.next()).toEqual(RETRY);

      const revoked = await revoke(store, account.id);
      expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
      await resumed.untilEnded();
      expect(await refusal(path, { lastEventId: first.lastEventId })).toEqual(refused);
    },
  );

  it('resume for as long as a token lives, counted from the ticket’s issue, and no longer', async () => {
    const store = await newStore();
    const path = `${ADMIN_STREAM}?ticket=${await ticketFor(store.admin.token)}`;
    const first = await openStream(path);
    expect(await first.next()).toEqual(RETRY);
    await first.close();

    await ticketsIssuedEarlier(store.id, TOKEN_TTL_SECONDS * 1000 - 60_000);
    const resumed = await openStream(path, { lastEventId: first.lastEventId });
    expect(await resumed.next()).toEqual(RETRY);
    await resumed.close();
    await ticketsIssuedEarlier(store.id, 60_000);
    expect(await refusal(path, { lastEventId: first.lastEventId })).toEqual({
      status: 401,
      code: 'TOKEN_INVALID',
    });
  });

  it('resume no longer than the token that obtained the ticket lives', async () => {
    const store = await newStore();
    const { sub, ver } = payloadOf(store.admin.token);
    const inTwoMinutes = Math.floor(Date.now() / 1000) + 120;
    const shortLived = await signToken(
      { sub: sub!, role: 'store_admin', store_id: store.id, ver: ver as number },
      { expiresAt: inTwoMinutes },
    );
    const path = `${ADMIN_STREAM}?ticket=${await ticketFor(shortLived)}`;
    const first = await openStream(path);
    expect(await first.next()).toEqual(RETRY);
    await first.close();
    const resumed = await openStream(path, { lastEventId: first.lastEventId });
    expect(await resumed.next()).toEqual(RETRY);
    await resumed.close();

    await ticketsIssuedEarlier(store.id, 121_000);
    expect(await refusal(path, { lastEventId: first.lastEventId })).toEqual({
      status: 401,
      code: 'TOKEN_INVALID',
    });
  });

  it("open a tablet's own stream with a table's ticket", async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const tablet = await openStream(`${TABLE_STREAM}?ticket=${await ticketFor(table.token)}`);
    const mine = envelope(store.id, { tableId: table.id });
    await deliverAll(envelope(store.id, { tableId: crypto.randomUUID() }), mine);
    expect(outboxIds([await tablet.nextEvent()])).toEqual([mine.id]);
  });

  it("do not let a table's ticket open the admin stream, nor an admin's the table stream", async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    expect(await refusal(`${ADMIN_STREAM}?ticket=${await ticketFor(table.token)}`)).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
    expect(await refusal(`${TABLE_STREAM}?ticket=${await ticketFor(store.admin.token)}`)).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
  });

  it('are refused once expired', async () => {
    const store = await newStore();
    const ticket = await ticketFor(store.admin.token);
    await runInDurableObject(storeHub(env, store.id), (_hub, state) => {
      state.storage.sql.exec('UPDATE stream_tickets SET expires_at = ?', Date.now() - 1);
    });
    expect(await refusal(`${ADMIN_STREAM}?ticket=${ticket}`)).toEqual({
      status: 401,
      code: 'TOKEN_INVALID',
    });
  });

  it('are refused when made up, malformed, or moved to another store', async () => {
    const [store, neighbour] = await Promise.all([newStore(), newStore()]);
    const real = await ticketFor(store.admin.token);
    const secret = real.split('.')[1]!;
    for (const forged of [
      `${store.id}.${'ab'.repeat(32)}`,
      `${neighbour.id}.${secret}`,
      'not-a-ticket',
      `${store.id}.${secret.toUpperCase()}`,
      '',
    ]) {
      expect(await refusal(`${ADMIN_STREAM}?ticket=${forged}`), forged).toEqual({
        status: 401,
        code: 'TOKEN_INVALID',
      });
    }
    // The real one was not used up by the forgeries.
    const dashboard = await openStream(`${ADMIN_STREAM}?ticket=${real}`);
    expect(await dashboard.next()).toEqual(RETRY);
  });

  it('are given only to a store admin or a table that is logged in', async () => {
    const superAdmin = await newSuperAdmin();
    expect((await api('POST', '/api/admin/stream-ticket')).status).toBe(401);
    const res = await api('POST', '/api/admin/stream-ticket', { token: superAdmin.token });
    expect(res.status).toBe(403);
  });
});

describe('who may listen', () => {
  it('refuses a stream without a token or ticket', async () => {
    expect(await refusal(ADMIN_STREAM)).toEqual({ status: 401, code: 'TOKEN_MISSING' });
    expect(await refusal(TABLE_STREAM)).toEqual({ status: 401, code: 'TOKEN_MISSING' });
  });

  it("refuses a tablet the admin stream and an admin a table's stream", async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    expect(await refusal(ADMIN_STREAM, { token: table.token })).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
    expect(await refusal(TABLE_STREAM, { token: store.admin.token })).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
  });
});

describe('keeping streams healthy', () => {
  it('pings an idle stream with a comment', async () => {
    const store = await newStore();
    // The hub's interval runs on a fake clock (the hub shares this isolate); the clock is moved
    // inside the hub, so that the pings are written from the hub's own context.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    expect(await dashboard.next()).toEqual(RETRY);
    const staysIdle = () =>
      runInDurableObject(storeHub(env, store.id), () => vi.advanceTimersByTime(PING_INTERVAL_MS));
    try {
      await staysIdle();
      expect(await dashboard.next()).toEqual({ kind: 'comment', text: 'ping' });
      await staysIdle();
      expect(await dashboard.next()).toEqual({ kind: 'comment', text: 'ping' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops a client that went away, and the others keep receiving', async () => {
    const store = await newStore();
    const hub = storeHub(env, store.id);
    const [gone, staying] = await Promise.all([
      openStream(ADMIN_STREAM, { token: store.admin.token }),
      openStream(ADMIN_STREAM, { token: store.admin.token }),
    ]);
    expect((await hub.status()).streams).toBe(2);
    await gone.close();

    const events = [envelope(store.id), envelope(store.id)];
    await deliverAll(...events);
    expect(outboxIds(await staying.events(2))).toEqual(events.map((e) => e.id));
    // The failed write is noticed a moment later; the hub then forgets that client.
    await expect.poll(async () => (await hub.status()).streams).toBe(1);
  });
});

describe('the streams in the API description', () => {
  it('are documented as text/event-stream, with a token or a ticket', async () => {
    const { body } = await api('GET', '/openapi.json');
    for (const path of [ADMIN_STREAM, TABLE_STREAM]) {
      const operation = body.paths[path].get;
      expect(Object.keys(operation.responses[200].content)).toEqual(['text/event-stream']);
      expect(operation.security).toEqual([{ bearer: [] }, { streamTicket: [] }]);
    }
    expect(body.paths['/api/admin/stream-ticket'].post.security).toEqual([{ bearer: [] }]);
    expect(body.components.securitySchemes.streamTicket).toMatchObject({ in: 'query' });
  });
});
