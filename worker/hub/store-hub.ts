import { DurableObject } from 'cloudflare:workers';
import type { RelayReceipt } from '../auth/relay-signature.ts';
import type { Principal } from '../auth/tokens.ts';
import type { Envelope } from './envelope.ts';
import { EventLog, type StoredEvent } from './event-log.ts';
import { RelayReceipts } from './relay-receipts.ts';
import {
  EventStream,
  PING_FRAME,
  SSE_HEADERS,
  eventFrame,
  resyncFrame,
  retryFrame,
} from './sse.ts';
import { StreamTickets, TICKET_TTL_SECONDS } from './stream-tickets.ts';

/** Comment pings on idle streams: under the 25 s of SPEC §4 (Cloudflare drops idle streams). */
export const PING_INTERVAL_MS = 20_000;
/** Retention runs at most this often: it only ever has a few rows to delete. */
const PRUNE_EVERY_MS = 60_000;

/** What became of a delivery: stored and sent, already stored, or a replayed request. */
export type Delivery = 'stored' | 'duplicate' | 'replayed';

/** Who a new stream is for, and where its client left off. */
export type StreamRequest = {
  /** The table whose events the stream carries; null for the store admin (every event). */
  tableId: string | null;
  /** `Last-Event-ID` as the client sent it; null on a first connect. */
  lastEventId: string | null;
};

/**
 * StoreHub — one Durable Object per store (named by the store id, see {@link storeHub}).
 *
 * Responsibilities:
 * - keep the store's replay buffer in SQLite: each event once (by outbox id, which is also its
 *   SSE id), ordered by its arrival here (`seq`, since outbox ids commit out of order), at least
 *   the newest 1,000 events and all of the last 24 h;
 * - refuse a replayed relay delivery, in the same step that stores the event;
 * - fan events out as SSE: admin streams get every event, a table's stream only that table's;
 *   ping idle streams; drop clients that are gone or do not read;
 * - on reconnect with `Last-Event-ID` (an outbox id), replay everything that arrived after that
 *   event before live events, or tell it to resync when the buffer no longer (or never) held it;
 * - issue and redeem single-use stream tickets for clients that cannot send headers.
 *
 * Streams live in memory only: a restart (a deploy, an eviction) cuts them, and clients come
 * back with `Last-Event-ID`, which the buffer in storage answers.
 */
export class StoreHub extends DurableObject<Env> {
  #events!: EventLog;
  #tickets!: StreamTickets;
  #receipts!: RelayReceipts;
  #streams = new Set<EventStream>();
  #pingIntervalMs = PING_INTERVAL_MS;
  #pingTimer: ReturnType<typeof setInterval> | null = null;
  #nextPruneAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      this.#events = new EventLog(sql);
      this.#tickets = new StreamTickets(sql);
      this.#receipts = new RelayReceipts(sql);
    });
  }

  /**
   * Stores an event the relay delivered (unless its signature was accepted before) and sends it
   * to the streams it belongs on. Storing and sending happen in one step, with no wait between,
   * so a stream opening concurrently sees the event either in its replay or live, never both.
   */
  deliver(event: Envelope, receipt: RelayReceipt): Delivery {
    const now = Date.now();
    if (!this.#receipts.accept(receipt, now)) return 'replayed';
    const stored = this.#events.append(event, now);
    if (!stored) return 'duplicate';
    if (now >= this.#nextPruneAt) {
      this.#events.prune(now);
      this.#nextPruneAt = now + PRUNE_EVERY_MS;
    }
    for (const stream of this.#streams) {
      if (stream.wants(stored.tableId)) stream.send(frameOf(stored));
    }
    return 'stored';
  }

  /**
   * Opens an SSE stream: `retry:`, then the events that arrived after the one `lastEventId` names
   * (or `resync`), then live events. The stream joins the live set in the same synchronous step
   * that reads the replay, so nothing is missed or sent twice between them.
   */
  openStream({ tableId, lastEventId }: StreamRequest): Response {
    const stream = new EventStream(tableId, (closed) => this.#forget(closed));
    stream.send(retryFrame());
    if (lastEventId) {
      const after = /^\d{1,15}$/.test(lastEventId)
        ? this.#events.resumePoint(Number(lastEventId))
        : null;
      if (after === null) {
        stream.send(resyncFrame(this.#events.newestEventId));
      } else {
        for (const event of this.#events.after(after, tableId)) stream.send(frameOf(event));
      }
    }
    this.#streams.add(stream);
    this.#startPings();
    return new Response(stream.body, { headers: SSE_HEADERS });
  }

  /** A single-use stream ticket for `principal`, of this hub's store. */
  createTicket(principal: Principal): {
    ticket: string;
    expires_in: number;
  } {
    return {
      ticket: this.#tickets.issue(principal, Date.now()),
      expires_in: TICKET_TTL_SECONDS,
    };
  }

  /** The principal a ticket was issued to, the first time only; null otherwise. */
  redeemTicket(ticket: string): Principal | null {
    return this.#tickets.redeem(ticket, Date.now());
  }

  /** Changes the ping interval of this hub's streams (until it restarts); for tests. */
  setPingInterval(ms: number): void {
    if (!Number.isInteger(ms) || ms < 10 || ms > PING_INTERVAL_MS) {
      throw new RangeError(`ping interval must be 10..${PING_INTERVAL_MS} ms`);
    }
    this.#pingIntervalMs = ms;
    this.#stopPings();
    this.#startPings();
  }

  /** What the hub holds: open streams and the buffer's bounds. */
  status(): { streams: number; newest_seq: number; pruned_through: number } {
    return {
      streams: this.#streams.size,
      newest_seq: this.#events.newestSeq,
      pruned_through: this.#events.prunedThrough,
    };
  }

  #forget(stream: EventStream): void {
    this.#streams.delete(stream);
    if (this.#streams.size === 0) this.#stopPings();
  }

  #startPings(): void {
    if (this.#pingTimer !== null || this.#streams.size === 0) return;
    this.#pingTimer = setInterval(() => {
      for (const stream of this.#streams) stream.send(PING_FRAME);
    }, this.#pingIntervalMs);
  }

  #stopPings(): void {
    if (this.#pingTimer === null) return;
    clearInterval(this.#pingTimer);
    this.#pingTimer = null;
  }
}

function frameOf(event: StoredEvent): string {
  return eventFrame(event.eventId, event.type, event.envelope);
}

/** The StoreHub of one store: one helper, so every caller names hubs the same way. */
export function storeHub(env: Env, storeId: string): DurableObjectStub<StoreHub> {
  return env.STORE_HUB.get(env.STORE_HUB.idFromName(storeId));
}
