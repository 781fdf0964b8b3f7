import type { Envelope } from './envelope.ts';

/** Retention: at least this many of the newest events … */
export const KEEP_AT_LEAST_EVENTS = 1_000;
/** … and everything received within this long. */
export const KEEP_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * An event as the hub stored it: `seq` is its place in this store's arrival order, `eventId` its
 * outbox id (the envelope's `id`, and the SSE `id:` clients see).
 */
export type StoredEvent = {
  seq: number;
  eventId: number;
  type: string;
  tableId: string | null;
  envelope: string;
};

/**
 * The store's replay buffer, in the hub's SQLite storage.
 *
 * Clients know an event by its outbox id (`event_id`, the SSE `id:` and the envelope's `id`), but
 * the buffer is ordered and replayed by `seq`, which numbers events in the order they reached the
 * hub, with no holes. Outbox ids are global and transactions commit out of id order, so
 * "everything after id X" would skip an event that committed late; "everything that arrived after
 * event X" does not. `event_id` is unique, so an event the relay delivers twice is stored, and
 * sent, once.
 */
export class EventLog {
  #sql: SqlStorage;
  #newestSeq: number;
  #newestEventId: number;
  #prunedThrough: number;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    // AUTOINCREMENT: a seq is never handed out twice, even if the newest rows were deleted.
    sql.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id INTEGER NOT NULL UNIQUE,
        type TEXT NOT NULL,
        table_id TEXT,
        envelope TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_received_at ON events (received_at);
      CREATE TABLE IF NOT EXISTS event_log_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    this.#prunedThrough =
      sql
        .exec<{ value: number }>("SELECT value FROM event_log_state WHERE key = 'pruned_through'")
        .toArray()[0]?.value ?? 0;
    const newest = sql
      .exec<{ seq: number; event_id: number }>(
        'SELECT seq, event_id FROM events ORDER BY seq DESC LIMIT 1',
      )
      .toArray()[0];
    this.#newestSeq = Math.max(newest?.seq ?? 0, this.#prunedThrough);
    this.#newestEventId = newest?.event_id ?? 0;
  }

  /** The seq of the newest event (0: none yet). */
  get newestSeq(): number {
    return this.#newestSeq;
  }

  /** The outbox id of the newest event (0: none yet). */
  get newestEventId(): number {
    return this.#newestEventId;
  }

  /** The highest seq deleted by retention (0: none). */
  get prunedThrough(): number {
    return this.#prunedThrough;
  }

  /** Stores an event in arrival order; null when its id is already stored. */
  append(event: Envelope, receivedAt: number): StoredEvent | null {
    // Looked up first: an insert that hits the unique event_id would still use up a seq.
    const known = this.#sql.exec('SELECT 1 FROM events WHERE event_id = ?', event.id).toArray();
    if (known.length > 0) return null;
    const envelope = JSON.stringify(event);
    const { seq } = this.#sql
      .exec<{ seq: number }>(
        `INSERT INTO events (event_id, type, table_id, envelope, received_at)
         VALUES (?, ?, ?, ?, ?)
         RETURNING seq`,
        event.id,
        event.type,
        event.table_id,
        envelope,
        receivedAt,
      )
      .one();
    this.#newestSeq = seq;
    this.#newestEventId = event.id;
    return { seq, eventId: event.id, type: event.type, tableId: event.table_id, envelope };
  }

  /**
   * Where the replay for a client that last saw outbox event `eventId` starts: the seq to replay
   * after, or null when the buffer cannot fill the gap (the event was pruned, or never reached
   * this hub). 0 means "from the beginning", which only works while nothing has been pruned.
   */
  resumePoint(eventId: number): number | null {
    const seq =
      eventId === 0
        ? 0
        : this.#sql
            .exec<{ seq: number }>('SELECT seq FROM events WHERE event_id = ?', eventId)
            .toArray()[0]?.seq;
    // A stored event older than the cut would have holes after it (retention deletes by time).
    if (seq === undefined || seq < this.#prunedThrough) return null;
    return seq;
  }

  /** The events after `seq`, oldest first, that a stream for `tableId` (null: admin) receives. */
  after(seq: number, tableId: string | null): StoredEvent[] {
    return this.#sql
      .exec<{
        seq: number;
        event_id: number;
        type: string;
        table_id: string | null;
        envelope: string;
      }>(
        `SELECT seq, event_id, type, table_id, envelope FROM events
         WHERE seq > ? AND (? IS NULL OR table_id = ?)
         ORDER BY seq`,
        seq,
        tableId,
        tableId,
      )
      .toArray()
      .map((row) => ({
        seq: row.seq,
        eventId: row.event_id,
        type: row.type,
        tableId: row.table_id,
        envelope: row.envelope,
      }));
  }

  /**
   * Deletes the events that are both older than {@link KEEP_FOR_MS} and beyond the newest
   * {@link KEEP_AT_LEAST_EVENTS}, and remembers the highest seq deleted.
   */
  prune(now: number): void {
    const before = now - KEEP_FOR_MS;
    const through = this.#newestSeq - KEEP_AT_LEAST_EVENTS;
    if (through <= this.#prunedThrough) return;
    const { seq } = this.#sql
      .exec<{ seq: number | null }>(
        'SELECT max(seq) AS seq FROM events WHERE received_at < ? AND seq <= ?',
        before,
        through,
      )
      .one();
    if (seq === null) return;
    this.#sql.exec('DELETE FROM events WHERE received_at < ? AND seq <= ?', before, through);
    this.#prunedThrough = Math.max(this.#prunedThrough, seq);
    this.#sql.exec(
      `INSERT INTO event_log_state (key, value) VALUES ('pruned_through', ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      this.#prunedThrough,
    );
  }
}
