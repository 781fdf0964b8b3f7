import type { Envelope, EventType } from '../contracts/events.ts';

/** Retention: at least this many of the newest events … */
export const KEEP_AT_LEAST_EVENTS = 1_000;
/** … and everything received within this long. */
export const KEEP_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * The event that ends a table's session (이용 완료): the party after it is another party. Written
 * into the SQL as a literal, so that the partial index on it serves the queries.
 */
const SESSION_COMPLETED: EventType = 'table.session_completed';

/**
 * An event as the hub stored it: `seq` is its place in this store's arrival order, `eventId` its
 * outbox id (the envelope's `id`, and the SSE `id:` clients see), `tableSessionId` the party
 * (table session) it belongs to.
 */
export type StoredEvent = {
  seq: number;
  eventId: number;
  type: string;
  tableId: string | null;
  tableSessionId: string | null;
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
        table_session_id TEXT,
        envelope TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_received_at ON events (received_at);
      CREATE TABLE IF NOT EXISTS event_log_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    addSessionColumn(sql);
    sql.exec(`
      CREATE INDEX IF NOT EXISTS events_completed_sessions ON events (table_session_id)
      WHERE type = '${SESSION_COMPLETED}';
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
        `INSERT INTO events (event_id, type, table_id, table_session_id, envelope, received_at)
         VALUES (?, ?, ?, ?, ?, ?)
         RETURNING seq`,
        event.id,
        event.type,
        event.table_id,
        event.table_session_id,
        envelope,
        receivedAt,
      )
      .one();
    this.#newestSeq = seq;
    this.#newestEventId = event.id;
    return {
      seq,
      eventId: event.id,
      type: event.type,
      tableId: event.table_id,
      tableSessionId: event.table_session_id,
      envelope,
    };
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

  /**
   * The events after `seq`, oldest first, that a stream for `tableId` receives: all of them for an
   * admin (null), a table's own and the store-wide ones (no table: the menu) for a table.
   */
  after(seq: number, tableId: string | null): StoredEvent[] {
    return this.#sql
      .exec<{
        seq: number;
        event_id: number;
        type: string;
        table_id: string | null;
        table_session_id: string | null;
        envelope: string;
      }>(
        `SELECT seq, event_id, type, table_id, table_session_id, envelope FROM events
         WHERE seq > ? AND (? IS NULL OR table_id = ? OR table_id IS NULL)
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
        tableSessionId: row.table_session_id,
        envelope: row.envelope,
      }));
  }

  /**
   * Whether `event` is of a party that has left — its session's 이용 완료 is stored — without
   * being that 이용 완료 itself: a late delivery, of no concern to the tablet any more.
   */
  partyLeft(event: StoredEvent): boolean {
    if (event.tableSessionId === null || event.type === SESSION_COMPLETED) return false;
    return (
      this.#sql
        .exec(
          `SELECT 1 FROM events WHERE type = '${SESSION_COMPLETED}' AND table_session_id = ?
           LIMIT 1`,
          event.tableSessionId,
        )
        .toArray().length > 0
    );
  }

  /**
   * Whether any of `tableId`'s events after `seq` is of a party that has left (its 이용 완료
   * included): replaying them would show the party seated now what an earlier one did.
   */
  partyLeftAfter(seq: number, tableId: string): boolean {
    return (
      this.#sql
        .exec(
          `SELECT 1 FROM events
           WHERE seq > ? AND table_id = ? AND table_session_id IN (
             SELECT table_session_id FROM events WHERE type = '${SESSION_COMPLETED}'
           )
           LIMIT 1`,
          seq,
          tableId,
        )
        .toArray().length > 0
    );
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

/**
 * Hubs whose buffer was made before events carried their session have `events` without
 * `table_session_id`: the column is added and filled in from each stored envelope, once.
 */
function addSessionColumn(sql: SqlStorage): void {
  const columns = sql
    .exec<{ name: string }>("SELECT name FROM pragma_table_info('events')")
    .toArray()
    .map((column) => column.name);
  if (columns.includes('table_session_id')) return;
  sql.exec(`
    ALTER TABLE events ADD COLUMN table_session_id TEXT;
    UPDATE events SET table_session_id = json_extract(envelope, '$.table_session_id');
  `);
}
