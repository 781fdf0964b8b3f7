/**
 * Server-sent events (WHATWG HTML, "Server-sent events"): the frames the hub writes, and one
 * client's stream. Frames are whole strings; `data:` is one line of JSON, so it never needs
 * splitting.
 */
import { RESYNC_EVENT } from '../contracts/events.ts';

/** How long a client waits before reconnecting, sent first on every stream (see openingFrame). */
export const RETRY_MS = 3_000;

/** A frame that keeps proxies and Cloudflare's edge from closing an idle stream. */
export const PING_FRAME = ': ping\n\n';

/** Response headers of every stream: no caching, no transformation, no proxy buffering. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const;

/** Frames queued for a client that is not reading before it is dropped as dead. */
const MAX_QUEUED_FRAMES = 1_000;

/**
 * The first frame of every stream: `retry:`, and on a first connect (no `Last-Event-ID`) `id:` the
 * outbox id of the newest stored event (0: none yet). An `id:` without `data:` dispatches no event
 * but sets the client's last event ID (WHATWG HTML, "dispatch the event"), so that its reconnect
 * sends `Last-Event-ID` even if no event reached it, and misses nothing sent meanwhile. A
 * reconnect's frame carries no `id:`: its own `Last-Event-ID` stands until the replay moves it on.
 */
export function openingFrame(newestEventId: number | null): string {
  const id = newestEventId === null ? '' : `id: ${newestEventId}\n`;
  return `retry: ${RETRY_MS}\n${id}\n`;
}

/**
 * One event: `id:` is its outbox id (the envelope's `id`), so a client may send back either as
 * `Last-Event-ID`; `data:` is the envelope JSON.
 */
export function eventFrame(eventId: number, type: string, envelope: string): string {
  return `id: ${eventId}\nevent: ${type}\ndata: ${envelope}\n\n`;
}

/**
 * A notice the hub raises itself (not an outbox event): no `id:`, so the client's last event ID
 * stays the last event it received, and its reconnect resumes from there; `data:` is `data` as
 * JSON.
 */
export function noticeFrame(type: string, data: object): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Tells the client its `Last-Event-ID` cannot be replayed: it reloads its snapshot. The `id:` is
 * the outbox id of the newest stored event (0: none yet), so a reconnect after the reload resumes
 * from here.
 */
export function resyncFrame(newestEventId: number): string {
  return `id: ${newestEventId}\nevent: ${RESYNC_EVENT}\ndata: {}\n\n`;
}

/** Who opened a stream: the account (token `sub`) and, for a table, the table it listens to. */
export type StreamOwner = {
  /** The store admin's or the table's id, as its token names it. */
  accountId: string;
  /**
   * The table whose events the stream carries, with the store-wide ones; null for a store admin
   * (every event).
   */
  tableId: string | null;
};

/**
 * One client's stream: the admin's (every event of the store, `tableId` null) or one table's (its
 * own events, the moves and merges away from it, and the store-wide ones).
 * Writes never wait: a client that is gone, failed a write or fell too far behind is closed and
 * reported through `onClose` once, so that one dead client never holds up the others.
 */
export class EventStream {
  readonly accountId: string;
  readonly tableId: string | null;
  readonly body: ReadableStream<Uint8Array>;
  #writer: WritableStreamDefaultWriter<string>;
  #onClose: (stream: EventStream) => void;
  #open = true;

  constructor(owner: StreamOwner, onClose: (stream: EventStream) => void) {
    const encoder = new TextEncoderStream();
    this.accountId = owner.accountId;
    this.tableId = owner.tableId;
    this.body = encoder.readable;
    this.#writer = encoder.writable.getWriter();
    this.#onClose = onClose;
    // Rejects when the client goes away (the body is cancelled): drop it without waiting for
    // the next write to fail.
    this.#writer.closed.catch(() => this.close());
  }

  /**
   * Whether an event belongs on this stream: every event on an admin's; on a table's, its own,
   * the moves and merges away from it (`fromTableId`: the party left this table) and the
   * store-wide ones (`tableId` null: the menu), which every tablet shows.
   */
  wants(event: { tableId: string | null; fromTableId: string | null }): boolean {
    return (
      this.tableId === null ||
      event.tableId === null ||
      this.tableId === event.tableId ||
      this.tableId === event.fromTableId
    );
  }

  /** Queues a frame; a closed, failing or hopelessly slow client is closed instead. */
  send(frame: string): void {
    if (!this.#open) return;
    const queued = this.#writer.desiredSize;
    if (queued === null || queued < -MAX_QUEUED_FRAMES) {
      this.close();
      return;
    }
    this.#writer.write(frame).catch(() => this.close());
  }

  /** Ends the stream (the client reconnects with `Last-Event-ID`). Idempotent. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#writer.abort('stream closed').catch(() => {});
    this.#onClose(this);
  }
}
