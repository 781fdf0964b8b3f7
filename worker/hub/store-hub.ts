import { DurableObject } from 'cloudflare:workers';
import type { Principal } from '../auth/tokens.ts';
import type { Envelope } from '../contracts/events.ts';
import type { RelayReceipt } from '../contracts/relay-signature.ts';
import { EventLog, type StoredEvent } from './event-log.ts';
import { RelayReceipts } from './relay-receipts.ts';
import {
  EventStream,
  PING_FRAME,
  SSE_HEADERS,
  eventFrame,
  noticeFrame,
  openingFrame,
  resyncFrame,
} from './sse.ts';
import {
  streamsPerStore,
  tooManyStreams,
  type StreamRole,
  type TooManyStreams,
} from './stream-limits.ts';
import { StreamTickets, TICKET_TTL_SECONDS, type TicketUse } from './stream-tickets.ts';
import {
  ORDER_UNACKNOWLEDGED,
  UnacknowledgedOrders,
  type OrderAlert,
} from './unacknowledged-orders.ts';

/** Comment pings on idle streams: well under 25 s, since Cloudflare's edge drops idle streams. */
export const PING_INTERVAL_MS = 20_000;
/** Retention runs at most this often: it only ever has a few rows to delete. */
const PRUNE_EVERY_MS = 60_000;

/** What became of a delivery: stored and sent, already stored, or a replayed request. */
export type Delivery = 'stored' | 'duplicate' | 'replayed';

/** Who opens a new stream, and where its client left off. */
export type StreamRequest = {
  /** A store admin (every event of the store) or a table (its own events). */
  role: StreamRole;
  /** The admin's or the table's id: the token's `sub`. */
  accountId: string;
  /** `Last-Event-ID` as the client sent it; null on a first connect. */
  lastEventId: string | null;
};

/** A stream not opened: too many are open; a slot is likely free after `retryAfterSeconds`. */
export type StreamRefusal = TooManyStreams & { retryAfterSeconds: number };

/**
 * StoreHub — one Durable Object per store (named by the store id, see {@link storeHub}).
 *
 * Responsibilities:
 * - keep the store's replay buffer in SQLite: each event once (by outbox id, which is also its
 *   SSE id), ordered by its arrival here (`seq`, since outbox ids commit out of order), at least
 *   the newest 1,000 events and all of the last 24 h;
 * - refuse a replayed relay delivery, in the same step that stores the event, and a replayed
 *   signed image request of this store;
 * - fan events out as SSE: admin streams get every event; a table's stream gets the store-wide
 *   ones (no table: the menu, which every tablet shows) and that table's own, only of the party
 *   now seated, and the notice that its party moved or merged to another table (both tables get
 *   `table.session_moved` / `table.session_merged`); ping idle streams; drop clients that are
 *   gone or do not read;
 * - on reconnect with `Last-Event-ID` (an outbox id), replay everything that arrived after that
 *   event before live events, or tell it to resync when the buffer no longer (or never) held it
 *   or, on a table's stream, when it would show the events of a party that has left (completed,
 *   moved or merged away);
 * - cap open streams per account and per store (see stream-limits);
 * - close an account's streams the moment its access is revoked;
 * - issue and redeem stream tickets for clients that cannot send headers: one opens a stream
 *   once, and resumes that stream after a cut;
 * - watch the orders nobody has acknowledged (from the events it stores, see
 *   UnacknowledgedOrders) and, on its alarm — the one alarm of the object, always set for the
 *   earliest next alert — raise `order.unacknowledged` on the admins' streams, one log line each.
 *
 * Streams live in memory only: a restart (a deploy, an eviction) cuts them, and clients come
 * back with `Last-Event-ID`, which the buffer in storage answers. The watched orders and the
 * alarm are in storage, and survive it.
 */
export class StoreHub extends DurableObject<Env> {
  #events!: EventLog;
  #tickets!: StreamTickets;
  #receipts!: RelayReceipts;
  #unacknowledged!: UnacknowledgedOrders;
  /** When the alarm is set for, as this instance last set or read it (null: none). */
  #alarmAt: number | null = null;
  #streams = new Set<EventStream>();
  #streamsPerStore: number;
  #pingTimer: ReturnType<typeof setInterval> | null = null;
  #nextPruneAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#streamsPerStore = streamsPerStore(env.STREAM_LIMIT_PER_STORE);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      this.#events = new EventLog(sql);
      this.#tickets = new StreamTickets(sql);
      this.#receipts = new RelayReceipts(sql);
      this.#unacknowledged = new UnacknowledgedOrders(sql);
      this.#alarmAt = await ctx.storage.getAlarm();
    });
  }

  /**
   * Stores an event the relay delivered (unless its signature was accepted before) and sends it
   * to the streams it belongs on. Storing and sending happen in one step, with no wait between,
   * so a stream opening concurrently sees the event either in its replay or live, never both.
   * Then the watch of unacknowledged orders follows it, and the alarm with it.
   */
  async deliver(event: Envelope, receipt: RelayReceipt): Promise<Delivery> {
    const now = Date.now();
    if (!this.#receipts.accept(receipt, now)) return 'replayed';
    const stored = this.#events.append(event, now);
    if (!stored) return 'duplicate';
    if (now >= this.#nextPruneAt) {
      this.#events.prune(now);
      this.#nextPruneAt = now + PRUNE_EVERY_MS;
    }
    // An event of a party that left its table before it arrived (a late redelivery: after its
    // 이용 완료, or its move or merge away) is not for that table's tablet any more.
    const partyLeft = this.#events.partyLeft(stored);
    for (const stream of this.#streams) {
      if (!stream.wants(stored)) continue;
      if (partyLeft && stream.tableId === stored.tableId) continue;
      stream.send(frameOf(stored));
    }
    // A late event of a party that left is no news about its orders: 이용 완료 stopped them.
    if (!partyLeft && this.#unacknowledged.follow(event, now)) await this.#setAlarm();
    return 'stored';
  }

  /**
   * The alarm: raises the alerts that are due on the admins' streams, then sets the alarm for the
   * next one. Each alert's next due time is stored before its frame is sent, so an alarm run
   * again (a retry, or a second run for the same time) raises nothing twice.
   */
  override async alarm(): Promise<void> {
    // This alarm is spent: the runtime set none after it unless we do.
    this.#alarmAt = null;
    for (const alert of this.#unacknowledged.takeDue(Date.now())) this.#raise(alert);
    await this.#setAlarm();
  }

  /**
   * Records a signed relay request other than an event delivery (the image endpoints); false
   * when the same signed request was accepted before (a replay). Same receipts as `deliver`.
   */
  acceptRelayRequest(receipt: RelayReceipt): boolean {
    return this.#receipts.accept(receipt, Date.now());
  }

  /**
   * Opens an SSE stream: `retry:`, then the events that arrived after the one `lastEventId` names
   * (or `resync`) — or, on a first connect, the newest event's id as the stream's last event ID —
   * then live events. The stream joins the live set in the same synchronous step that counts the
   * open streams and reads the replay (or the newest id), so no cap is passed by a race and
   * nothing is missed or sent twice between replay and live events. Over a cap: a refusal
   * instead.
   */
  openStream({ role, accountId, lastEventId }: StreamRequest): Response | StreamRefusal {
    const full = tooManyStreams(this.#streams, { role, accountId }, this.#streamsPerStore);
    // A slot frees when a stream closes; one whose client is gone is dropped when a ping to it
    // fails, at the latest.
    if (full) return { ...full, retryAfterSeconds: Math.ceil(PING_INTERVAL_MS / 1000) };
    const tableId = role === 'table' ? accountId : null;
    const stream = new EventStream({ accountId, tableId }, (closed) => this.#forget(closed));
    if (lastEventId) {
      stream.send(openingFrame(null));
      for (const frame of this.#replay(tableId, lastEventId)) stream.send(frame);
    } else {
      stream.send(openingFrame(this.#events.newestEventId));
    }
    this.#streams.add(stream);
    this.#startPings();
    return new Response(stream.body, { headers: SSE_HEADERS });
  }

  /**
   * Ends every open stream of an account whose access was just revoked (see `revokeAccess`): at
   * once and without a resync frame, so nothing more reaches it; its client's reconnect is then
   * refused by authentication.
   */
  closeStreamsOf(accountId: string): void {
    for (const stream of this.#streams) if (stream.accountId === accountId) stream.close();
  }

  /** A stream ticket for `principal`, of this hub's store (see StreamTickets). */
  createTicket(
    principal: Principal,
    tokenExpiresAt?: number,
  ): {
    ticket: string;
    expires_in: number;
  } {
    return {
      ticket: this.#tickets.issue(principal, Date.now(), tokenExpiresAt),
      expires_in: TICKET_TTL_SECONDS,
    };
  }

  /**
   * The principal a ticket was issued to, when it may `open` (its first use) or `resume` (its
   * stream's reconnect); null otherwise.
   */
  redeemTicket(ticket: string, use: TicketUse): Principal | null {
    return this.#tickets.redeem(ticket, use, Date.now());
  }

  /** What the hub holds: open streams and the buffer's bounds. */
  status(): { streams: number; newest_seq: number; pruned_through: number } {
    return {
      streams: this.#streams.size,
      newest_seq: this.#events.newestSeq,
      pruned_through: this.#events.prunedThrough,
    };
  }

  /**
   * What a client that last saw `lastEventId` gets before live events: the frames of the events
   * after it that belong on its stream (a table's: its own, the moves and merges away from it, and
   * the store-wide ones), or `resync` when the buffer cannot tell (an unknown or pruned id).
   *
   * A table's stream also resyncs when those events include a party that has left (a session
   * completed, or moved or merged to another table): the tablet reloads its order list, which —
   * like GET /api/customer/orders — holds only the party now seated. Leaving that party's events
   * out of the replay would not do: the tablet may still show its orders, and the 이용 완료 that
   * clears them carries its bill. A tablet that saw the 이용 완료 resumes after it and gets the new
   * party's events replayed. A move or merge away is the table's notice that its party left, not
   * one of that party's events at the table: replayed alone, it is replayed as it is.
   */
  #replay(tableId: string | null, lastEventId: string): string[] {
    const after = /^\d{1,15}$/.test(lastEventId)
      ? this.#events.resumePoint(Number(lastEventId))
      : null;
    if (after === null || (tableId !== null && this.#events.partyLeftAfter(after, tableId))) {
      return [resyncFrame(this.#events.newestEventId)];
    }
    return this.#events.after(after, tableId).map(frameOf);
  }

  /** Sends one alert to every admin stream (a table's never gets it), and logs it. */
  #raise(alert: OrderAlert): void {
    const frame = noticeFrame(ORDER_UNACKNOWLEDGED, {
      order_id: alert.orderId,
      table_id: alert.tableId,
      age_seconds: alert.ageSeconds,
      escalation: alert.escalation,
    });
    for (const stream of this.#streams) if (stream.tableId === null) stream.send(frame);
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'order escalated',
        store_id: alert.storeId,
        order_id: alert.orderId,
        table_id: alert.tableId,
        escalation: alert.escalation,
        age_seconds: alert.ageSeconds,
      }),
    );
  }

  /** Sets the alarm for the earliest alert due (none: no alarm), unless it is set for it. */
  async #setAlarm(): Promise<void> {
    const next = this.#unacknowledged.nextDueAt();
    if (next === this.#alarmAt) return;
    this.#alarmAt = next;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  #forget(stream: EventStream): void {
    this.#streams.delete(stream);
    if (this.#streams.size === 0) this.#stopPings();
  }

  #startPings(): void {
    if (this.#pingTimer !== null || this.#streams.size === 0) return;
    this.#pingTimer = setInterval(() => {
      for (const stream of this.#streams) stream.send(PING_FRAME);
    }, PING_INTERVAL_MS);
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
