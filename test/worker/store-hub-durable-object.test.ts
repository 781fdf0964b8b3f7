import { env, evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../worker/auth/tokens.ts';
import { EventLog } from '../../worker/hub/event-log.ts';
import { eventFrame, openingFrame, PING_FRAME, resyncFrame } from '../../worker/hub/sse.ts';
import { storeHub } from '../../worker/hub/store-hub.ts';
import { newStore, newTable } from './support/fixtures.ts';
import { restartHub } from './support/hub.ts';
import { deliver, envelope } from './support/relay.ts';
import { closeAllStreams, openStream } from './support/sse.ts';

const HOUR = 60 * 60 * 1000;
const ADMIN_STREAM = '/api/admin/orders/stream';
const TABLE_STREAM = '/api/customer/orders/stream';

afterEach(closeAllStreams);

/**
 * Fills a hub's buffer straight through its storage: `old` events 25 h old, then `recent` ones.
 * Answers their outbox ids in arrival order (`ids[i]` is the event of seq i + 1).
 */
function fillBuffer(storeId: string, old: number, recent: number): Promise<number[]> {
  return runInDurableObject(storeHub(env, storeId), (_hub, state) => {
    const log = new EventLog(state.storage.sql);
    const now = Date.now();
    const ids: number[] = [];
    for (let i = 0; i < old + recent; i++) {
      const event = envelope(storeId);
      log.append(event, i < old ? now - 25 * HOUR : now);
      ids.push(event.id);
    }
    log.prune(now);
    return ids;
  });
}

/** The seqs left in a hub's buffer, and where retention cut. */
function bufferOf(storeId: string) {
  return runInDurableObject(storeHub(env, storeId), (_hub, state) => {
    const seqs = state.storage.sql
      .exec<{ seq: number }>('SELECT seq FROM events ORDER BY seq')
      .toArray()
      .map((row) => row.seq);
    const { prunedThrough } = new EventLog(state.storage.sql);
    return { first: seqs[0], last: seqs.at(-1), count: seqs.length, prunedThrough };
  });
}

describe('the replay buffer', () => {
  it('keeps the newest 1,000 events even when they are old, and remembers where it cut', async () => {
    const storeId = crypto.randomUUID();
    await fillBuffer(storeId, 1_100, 100);
    expect(await bufferOf(storeId)).toEqual({
      first: 201,
      last: 1_200,
      count: 1_000,
      prunedThrough: 200,
    });
  });

  it('keeps everything of the last 24 hours, however many events that is', async () => {
    const storeId = crypto.randomUUID();
    await fillBuffer(storeId, 50, 1_050);
    expect(await bufferOf(storeId)).toEqual({
      first: 51,
      last: 1_100,
      count: 1_050,
      prunedThrough: 50,
    });
  });

  it('sends resync to a client that left off before what is kept, and replays for one just inside', async () => {
    const store = await newStore();
    const ids = (await fillBuffer(store.id, 1_100, 0)).map(String);
    await evictDurableObject(storeHub(env, store.id));
    const open = (lastEventId: string) =>
      openStream(ADMIN_STREAM, { token: store.admin.token, lastEventId });

    // Seqs 1..100 are gone: the client that saw the 99th event cannot be served.
    const tooOld = await open(ids[98]!);
    expect(await tooOld.next()).toEqual({ kind: 'retry', ms: 3000 });
    expect(await tooOld.nextEvent()).toEqual({
      kind: 'event',
      id: ids[1_099],
      event: 'resync',
      data: '{}',
    });
    const live = envelope(store.id);
    expect((await deliver(live)).body).toEqual({ stored: true });
    const next = await tooOld.nextEvent();
    expect([next.id, JSON.parse(next.data).id]).toEqual([String(live.id), live.id]);

    const inside = await open(ids[1_094]!);
    const replayed = await inside.events(6);
    expect(replayed.map((e) => e.id)).toEqual([...ids.slice(1_095), String(live.id)]);

    // "From the beginning" cannot be served once anything was pruned.
    expect((await (await open('0')).nextEvent()).event).toBe('resync');

    // The new event pushed one more old one out (seq 101): the client that saw it must reload,
    // the one that saw the oldest event kept (seq 102) is served from the next.
    expect((await storeHub(env, store.id).status()).pruned_through).toBe(101);
    expect((await (await open(ids[100]!)).nextEvent()).event).toBe('resync');
    expect((await (await open(ids[101]!)).nextEvent()).id).toBe(ids[102]);
  });
});

describe('a hub restarted by a deploy', () => {
  it('cuts its streams; a client coming back with Last-Event-ID gets what it missed', async () => {
    const store = await newStore();
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    const seen = envelope(store.id);
    await deliver(seen);
    const last = await dashboard.nextEvent();

    await restartHub(store.id);
    await dashboard.untilEnded();

    const missed = [envelope(store.id), envelope(store.id)];
    for (const event of missed) expect((await deliver(event)).body).toEqual({ stored: true });
    const back = await openStream(ADMIN_STREAM, { token: store.admin.token, lastEventId: last.id });
    const replayed = await back.events(2);
    expect(replayed.map((e) => e.id)).toEqual(missed.map((e) => String(e.id)));
    expect(replayed.map((e) => JSON.parse(e.data).id)).toEqual(missed.map((e) => e.id));

    // The restarted hub still knows what it stored, and numbers arrivals on without reuse.
    expect((await deliver(seen)).body).toEqual({ stored: false });
    const live = envelope(store.id);
    await deliver(live);
    expect((await back.nextEvent()).id).toBe(String(live.id));
    expect((await storeHub(env, store.id).status()).newest_seq).toBe(4);
  });
});

describe('a hub whose buffer was made before it knew parties (sessions)', () => {
  it("learns each stored event's party, so the next party is kept from the previous one's orders", async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const previousParty = { tableId: table.id, tableSessionId: crypto.randomUUID() };
    const stored = [
      envelope(store.id, previousParty),
      envelope(store.id, { ...previousParty, type: 'table.session_completed' }),
    ];
    await runInDurableObject(storeHub(env, store.id), (_hub, state) => {
      const sql = state.storage.sql;
      sql.exec(`
        DROP TABLE events;
        CREATE TABLE events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          event_id INTEGER NOT NULL UNIQUE,
          type TEXT NOT NULL,
          table_id TEXT,
          envelope TEXT NOT NULL,
          received_at INTEGER NOT NULL
        );
      `);
      for (const event of stored) {
        sql.exec(
          'INSERT INTO events (event_id, type, table_id, envelope, received_at) VALUES (?, ?, ?, ?, ?)',
          event.id,
          event.type,
          event.table_id,
          JSON.stringify(event),
          Date.now(),
        );
      }
    });
    await restartHub(store.id);

    const tablet = await openStream(TABLE_STREAM, { token: table.token, lastEventId: '0' });
    expect(await tablet.nextEvent()).toEqual({
      kind: 'event',
      id: String(stored[1]!.id),
      event: 'resync',
      data: '{}',
    });
  });
});

describe('stream tickets in the hub', () => {
  const principal = (storeId: string): Principal => ({
    role: 'store_admin',
    sub: crypto.randomUUID(),
    storeId,
    ver: 1,
  });

  it('open a stream once, even when several redemptions race', async () => {
    const storeId = crypto.randomUUID();
    const hub = storeHub(env, storeId);
    const owner = principal(storeId);
    const { ticket, expires_in } = await hub.createTicket(owner);
    expect(expires_in).toBe(60);

    const results = await Promise.all(
      Array.from({ length: 5 }, () => hub.redeemTicket(ticket, 'open')),
    );
    expect(results.filter((result) => result !== null)).toEqual([owner]);
  });

  it('once used, resume that stream but never open another; unused, a resume opens', async () => {
    const storeId = crypto.randomUUID();
    const hub = storeHub(env, storeId);
    const owner = principal(storeId);
    const { ticket } = await hub.createTicket(owner);
    expect(await hub.redeemTicket(ticket, 'resume')).toEqual(owner);
    expect(await hub.redeemTicket(ticket, 'open')).toBeNull();
    expect(await hub.redeemTicket(ticket, 'resume')).toEqual(owner);
    expect(await hub.redeemTicket(ticket, 'resume')).toEqual(owner);
  });

  it('are worthless after 60 seconds unused, or past the resume window used; those are cleared away', async () => {
    const storeId = crypto.randomUUID();
    const hub = storeHub(env, storeId);
    const expire = (ticket: string) =>
      runInDurableObject(hub, (_hub, state) => {
        state.storage.sql.exec(
          'UPDATE stream_tickets SET expires_at = ? WHERE ticket = ?',
          Date.now() - 1,
          ticket,
        );
      });
    const { ticket } = await hub.createTicket(principal(storeId));
    await expire(ticket);
    expect(await hub.redeemTicket(ticket, 'open')).toBeNull();
    expect(await hub.redeemTicket(ticket, 'resume')).toBeNull();

    const { ticket: used } = await hub.createTicket(principal(storeId));
    expect(await hub.redeemTicket(used, 'open')).not.toBeNull();
    await expire(used);
    expect(await hub.redeemTicket(used, 'resume')).toBeNull();

    const { ticket: resuming } = await hub.createTicket(principal(storeId));
    expect(await hub.redeemTicket(resuming, 'open')).not.toBeNull();
    const { ticket: fresh } = await hub.createTicket(principal(storeId));
    const left = await runInDurableObject(hub, (_hub, state) =>
      state.storage.sql.exec<{ ticket: string }>('SELECT ticket FROM stream_tickets').toArray(),
    );
    expect(left.map((row) => row.ticket).sort()).toEqual([resuming, fresh].sort());
  });
});

describe('a hub whose stream tickets were single-use only', () => {
  it('keeps its unused tickets opening a stream, and its new ones resume too', async () => {
    const storeId = crypto.randomUUID();
    const owner: Principal = { role: 'store_admin', sub: crypto.randomUUID(), storeId, ver: 1 };
    const earlier = `${storeId}.${'ab'.repeat(32)}`;
    await runInDurableObject(storeHub(env, storeId), (_hub, state) => {
      state.storage.sql.exec(
        `DROP TABLE stream_tickets;
         CREATE TABLE stream_tickets (
           ticket TEXT PRIMARY KEY,
           principal TEXT NOT NULL,
           expires_at INTEGER NOT NULL
         );
         INSERT INTO stream_tickets (ticket, principal, expires_at) VALUES (?, ?, ?);`,
        earlier,
        JSON.stringify(owner),
        Date.now() + 60_000,
      );
    });
    await restartHub(storeId);

    const hub = storeHub(env, storeId);
    expect(await hub.redeemTicket(earlier, 'open')).toEqual(owner);
    expect(await hub.redeemTicket(earlier, 'resume')).toBeNull();
    const { ticket } = await hub.createTicket(owner);
    expect(await hub.redeemTicket(ticket, 'open')).toEqual(owner);
    expect(await hub.redeemTicket(ticket, 'resume')).toEqual(owner);
  });
});

describe('relay receipts in the hub', () => {
  it('refuse a delivery signed exactly like an accepted one, and are forgotten after the window', async () => {
    const storeId = crypto.randomUUID();
    const hub = storeHub(env, storeId);
    const receipt = (signature: string, expiresAt = Date.now() + 5 * 60_000) => ({
      signature: signature.repeat(64),
      expiresAt,
    });
    expect(await hub.deliver(envelope(storeId), receipt('a'))).toBe('stored');
    expect(await hub.deliver(envelope(storeId), receipt('a'))).toBe('replayed');
    const event = envelope(storeId);
    expect(await hub.deliver(event, receipt('b'))).toBe('stored');
    expect(await hub.deliver(event, receipt('c'))).toBe('duplicate');

    expect(await hub.deliver(envelope(storeId), receipt('d', Date.now() - 2 * HOUR))).toBe(
      'stored',
    );
    await hub.deliver(envelope(storeId), receipt('e'));
    const kept = await runInDurableObject(hub, (_hub, state) =>
      state.storage.sql
        .exec<{ signature: string }>('SELECT signature FROM relay_receipts ORDER BY signature')
        .toArray()
        .map((row) => row.signature[0]),
    );
    expect(kept).toEqual(['a', 'b', 'c', 'e']);
  });
});

describe('SSE frames', () => {
  it('are the ones the spec describes', () => {
    expect(openingFrame(null)).toBe('retry: 3000\n\n');
    expect(openingFrame(42)).toBe('retry: 3000\nid: 42\n\n');
    expect(PING_FRAME).toBe(': ping\n\n');
    expect(eventFrame(3, 'order.created', '{"id":3}')).toBe(
      'id: 3\nevent: order.created\ndata: {"id":3}\n\n',
    );
    expect(resyncFrame(12)).toBe('id: 12\nevent: resync\ndata: {}\n\n');
  });
});
