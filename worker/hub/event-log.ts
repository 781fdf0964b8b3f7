import type { Envelope, EventType } from '../contracts/events.ts';

/** Retention: at least this many of the newest events … */
export const KEEP_AT_LEAST_EVENTS = 1_000;
/** … and everything received within this long. */
export const KEEP_FOR_MS = 24 * 60 * 60 * 1000;

/** The event that ends a table's session (이용 완료): the party after it is another party. */
const SESSION_COMPLETED: EventType = 'table.session_completed';
/** A party moved to another table: it has left `data.from_table_id`. */
const SESSION_MOVED: EventType = 'table.session_moved';
/** A party joined another table's: it has left `data.from_table_id`, its session ended. */
const SESSION_MERGED: EventType = 'table.session_merged';

/**
 * What the hub reads out of an envelope when it stores it, as SQL over the row being stored
 * (`type`, `table_session_id`, `envelope`): the same expressions fill the columns of rows stored
 * before the columns existed, so old and new rows cannot disagree.
 * - `from_table_id`: the table a party moved or merged away from — the second table whose stream
 *   gets the event;
 * - `left_session_id`: the party that left a table with this event — the completed session, the
 *   moved one, the merged one. Left the event's table (이용 완료, everywhere: it ended) or
 *   `from_table_id` (a move or a merge).
 */
const DERIVED_COLUMNS = {
  from_table_id: `CASE WHEN type IN ('${SESSION_MOVED}', '${SESSION_MERGED}')
    THEN json_extract(envelope, '$.data.from_table_id') END`,
  left_session_id: `CASE type
    WHEN '${SESSION_COMPLETED}' THEN table_session_id
    WHEN '${SESSION_MOVED}' THEN table_session_id
    WHEN '${SESSION_MERGED}' THEN json_extract(envelope, '$.data.merged_session_id') END`,
} as const;

/**
 * SQL: whether the party (the session `session` names) has left the table `table` names — it was
 * completed (wherever: it ended), or moved or merged away from that table. Served by the partial
 * index on `left_session_id`.
 */
function partyLeftTable(session: string, table: string): string {
  return `EXISTS (SELECT 1 FROM events WHERE left_session_id = ${session}
    AND (type = '${SESSION_COMPLETED}' OR from_table_id = ${table}))`;
}

/**
 * An event as the hub stored it: `seq` is its place in this store's arrival order, `eventId` its
 * outbox id (the envelope's `id`, and the SSE `id:` clients see), `tableSessionId` the party
 * (table session) it belongs to, `fromTableId` the table a party moved or merged away from (which
 * gets the event too).
 */
export type StoredEvent = {
  seq: number;
  eventId: number;
  type: string;
  tableId: string | null;
  tableSessionId: string | null;
  fromTableId: string | null;
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
        received_at INTEGER NOT NULL,
        from_table_id TEXT,
        left_session_id TEXT
      );
      CREATE INDEX IF NOT EXISTS events_received_at ON events (received_at);
      CREATE TABLE IF NOT EXISTS event_log_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    addLaterColumns(sql);
    // Replaced by events_departures, which finds moves and merges as well as completions.
    sql.exec(`
      DROP INDEX IF EXISTS events_completed_sessions;
      CREATE INDEX IF NOT EXISTS events_departures ON events (left_session_id)
      WHERE left_session_id IS NOT NULL;
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
    const { seq, from_table_id: fromTableId } = this.#sql
      .exec<{ seq: number; from_table_id: string | null }>(
        `INSERT INTO events (event_id, type, table_id, table_session_id, envelope, received_at,
           from_table_id, left_session_id)
         SELECT event_id, type, table_id, table_session_id, envelope, received_at,
           ${DERIVED_COLUMNS.from_table_id}, ${DERIVED_COLUMNS.left_session_id}
         FROM (SELECT ? AS event_id, ? AS type, ? AS table_id, ? AS table_session_id,
           ? AS envelope, ? AS received_at)
         RETURNING seq, from_table_id`,
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
      fromTableId,
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
   * admin (null); for a table, its own, the moves and merges away from it, and the store-wide
   * ones (no table: the menu). One query along the primary key.
   */
  after(seq: number, tableId: string | null): StoredEvent[] {
    return this.#sql
      .exec<{
        seq: number;
        event_id: number;
        type: string;
        table_id: string | null;
        table_session_id: string | null;
        from_table_id: string | null;
        envelope: string;
      }>(
        `SELECT seq, event_id, type, table_id, table_session_id, from_table_id, envelope
         FROM events
         WHERE seq > ?1 AND (?2 IS NULL OR table_id = ?2 OR from_table_id = ?2 OR table_id IS NULL)
         ORDER BY seq`,
        seq,
        tableId,
      )
      .toArray()
      .map((row) => ({
        seq: row.seq,
        eventId: row.event_id,
        type: row.type,
        tableId: row.table_id,
        tableSessionId: row.table_session_id,
        fromTableId: row.from_table_id,
        envelope: row.envelope,
      }));
  }

  /**
   * Whether `event` is of a party that has left its table — completed, or moved or merged away
   * from it — without being that 이용 완료 itself: a late delivery, of no concern to the table's
   * tablet any more. (A move or a merge is never of a party that left the table it names: the
   * party arrived there, or was there.)
   */
  partyLeft(event: StoredEvent): boolean {
    if (event.tableSessionId === null || event.type === SESSION_COMPLETED) return false;
    const { gone } = this.#sql
      .exec<{ gone: number }>(
        `SELECT ${partyLeftTable('?1', '?2')} AS gone`,
        event.tableSessionId,
        event.tableId,
      )
      .one();
    return gone === 1;
  }

  /**
   * Whether any of `tableId`'s own events after `seq` is of a party that has left that table (its
   * 이용 완료 included): replaying them would show the party seated now what an earlier one did.
   * The move or merge that took a party away is not the table's own event: it is the notice of
   * the departure, replayed like a live one.
   */
  partyLeftAfter(seq: number, tableId: string): boolean {
    return (
      this.#sql
        .exec(
          `SELECT 1 FROM events AS own
           WHERE own.seq > ?1 AND own.table_id = ?2
             AND ${partyLeftTable('own.table_session_id', '?2')}
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
 * Columns `events` gained after hubs were first deployed, in the order they came, each with how
 * the rows stored before it are filled in: the session from each envelope; then what the hub
 * derives when it stores an event (see {@link DERIVED_COLUMNS}).
 */
const LATER_COLUMNS: ReadonlyArray<readonly [name: string, fill: string]> = [
  ['table_session_id', "json_extract(envelope, '$.table_session_id')"],
  ['from_table_id', DERIVED_COLUMNS.from_table_id],
  ['left_session_id', DERIVED_COLUMNS.left_session_id],
];

/**
 * Brings a buffer made by an older hub up to date (a new one is created with every column): each
 * missing column is added and filled in from the stored rows, once.
 */
function addLaterColumns(sql: SqlStorage): void {
  const columns = sql
    .exec<{ name: string }>("SELECT name FROM pragma_table_info('events')")
    .toArray()
    .map((column) => column.name);
  for (const [name, fill] of LATER_COLUMNS) {
    if (columns.includes(name)) continue;
    sql.exec(`ALTER TABLE events ADD COLUMN ${name} TEXT; UPDATE events SET ${name} = ${fill};`);
  }
}
