import type { Envelope } from '../contracts/events.ts';

/**
 * The SSE event the hub raises itself when an order has waited too long unacknowledged. It is no
 * outbox event: it has no `id:` and is never replayed (the next alert, or the dashboard's
 * `unacknowledged_count`, tells a screen that reconnects).
 */
export const ORDER_UNACKNOWLEDGED = 'order.unacknowledged';

/** The longest wait between two alerts about one order, however often it was alerted. */
const MAX_ALERT_INTERVAL_MS = 30 * 60 * 1000;

/** How long an order seen to is remembered, so that its own event arriving late is ignored. */
const REMEMBER_SEEN_TO_MS = 24 * 60 * 60 * 1000;

/** One alert about an order nobody has acknowledged: the `data:` of its frame, and its store. */
export type OrderAlert = {
  storeId: string;
  orderId: string;
  tableId: string;
  ageSeconds: number;
  /** 1 for the first alert about the order, 2 for the next, … */
  escalation: number;
};

/** What `order.created` carries that the watch needs (anything else is not watched). */
type NewOrder = { id: string; createdAt: number; ackSeconds: number };

/**
 * The orders of the store that nobody has acknowledged yet, in the hub's SQLite storage, and when
 * each is next due to be alerted about. Everything comes from the events the hub stores, so it
 * needs no database:
 * - `order.created` with `ack_seconds` starts watching the order: first due `ack_seconds` after
 *   it was taken, then again after `ack_seconds × 2^n` (the n-th alert; at most 30 minutes);
 * - `order.acknowledged`, `order.status_changed` (it left `pending`), `order.cancelled` and the
 *   party's `table.session_completed` stop it. A stopped order is remembered for a day
 *   (`next_due_at` null), so that its `order.created` delivered late starts nothing;
 * - `table.session_moved` and `table.session_merged` take the party's orders to their new table
 *   (and, merged, session), so that the alert names the table where the guests are.
 *
 * An alert's next due time is written before its frame is sent (see {@link takeDue}): an alarm
 * that runs again for the same due time finds nothing due.
 */
export class UnacknowledgedOrders {
  #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`
      CREATE TABLE IF NOT EXISTS unacknowledged_orders (
        order_id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL,
        table_id TEXT NOT NULL,
        table_session_id TEXT,
        created_at INTEGER NOT NULL,
        ack_seconds INTEGER NOT NULL,
        escalations INTEGER NOT NULL DEFAULT 0,
        next_due_at INTEGER,
        seen_to_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS unacknowledged_orders_due ON unacknowledged_orders (next_due_at)
      WHERE next_due_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS unacknowledged_orders_session
      ON unacknowledged_orders (table_session_id);
    `);
  }

  /**
   * Follows one event the hub has just stored (`now`: when), starting, stopping or moving the
   * watch of its orders. Answers whether the next due time may have changed.
   */
  follow(event: Envelope, now: number): boolean {
    const data = event.data;
    switch (event.type) {
      case 'order.created':
        return this.#watch(event, newOrderOf(data));
      case 'order.acknowledged':
      case 'order.status_changed':
        return this.#seenTo(event, text(data.order_id), now);
      case 'order.cancelled':
        return this.#seenTo(event, text(data.id), now);
      case 'table.session_completed':
        return this.#partyLeft(event.table_session_id, now);
      case 'table.session_moved':
        return this.#partyMoved(event.table_session_id, event.table_session_id, event.table_id);
      case 'table.session_merged':
        return this.#partyMoved(
          text(data.merged_session_id),
          event.table_session_id,
          event.table_id,
        );
      default:
        return false;
    }
  }

  /** When the next alert is due (ms since the epoch), or null when no order is waiting. */
  nextDueAt(): number | null {
    return this.#sql
      .exec<{ due: number | null }>(
        'SELECT min(next_due_at) AS due FROM unacknowledged_orders WHERE next_due_at IS NOT NULL',
      )
      .one().due;
  }

  /**
   * The alerts due by `now`, earliest first, each order's next due time already moved on
   * (`now` + its doubled interval) and its count of alerts raised, in storage.
   */
  takeDue(now: number): OrderAlert[] {
    const due = this.#sql
      .exec<{
        order_id: string;
        store_id: string;
        table_id: string;
        created_at: number;
        ack_seconds: number;
        escalations: number;
      }>(
        `SELECT order_id, store_id, table_id, created_at, ack_seconds, escalations
         FROM unacknowledged_orders WHERE next_due_at <= ? ORDER BY next_due_at, order_id`,
        now,
      )
      .toArray();
    return due.map((order) => {
      const escalation = order.escalations + 1;
      const interval = Math.min(order.ack_seconds * 1000 * 2 ** escalation, MAX_ALERT_INTERVAL_MS);
      this.#sql.exec(
        'UPDATE unacknowledged_orders SET escalations = ?, next_due_at = ? WHERE order_id = ?',
        escalation,
        now + interval,
        order.order_id,
      );
      return {
        storeId: order.store_id,
        orderId: order.order_id,
        tableId: order.table_id,
        ageSeconds: Math.floor((now - order.created_at) / 1000),
        escalation,
      };
    });
  }

  /** Starts watching a new order, unless it is watched or was seen to already. */
  #watch(event: Envelope, order: NewOrder | null): boolean {
    if (order === null || event.table_id === null) return false;
    const inserted = this.#sql
      .exec(
        `INSERT INTO unacknowledged_orders
           (order_id, store_id, table_id, table_session_id, created_at, ack_seconds, next_due_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (order_id) DO NOTHING
         RETURNING order_id`,
        order.id,
        event.store_id,
        event.table_id,
        event.table_session_id,
        order.createdAt,
        order.ackSeconds,
        order.createdAt + order.ackSeconds * 1000,
      )
      .toArray();
    return inserted.length > 0;
  }

  /**
   * Stops watching an order someone has seen to; one not watched (yet) is remembered as seen to,
   * so that its `order.created` arriving after this event starts nothing.
   */
  #seenTo(event: Envelope, orderId: string | null, now: number): boolean {
    if (orderId === null || event.table_id === null) return false;
    this.#forgetOld(now);
    this.#sql.exec(
      `INSERT INTO unacknowledged_orders
         (order_id, store_id, table_id, table_session_id, created_at, ack_seconds, seen_to_at)
       VALUES (?, ?, ?, ?, ?, 0, ?)
       ON CONFLICT (order_id) DO UPDATE SET next_due_at = NULL,
         seen_to_at = coalesce(seen_to_at, excluded.seen_to_at)`,
      orderId,
      event.store_id,
      event.table_id,
      event.table_session_id,
      now,
      now,
    );
    return true;
  }

  /** The party left (이용 완료): its orders are history, nobody is to be alerted about them. */
  #partyLeft(sessionId: string | null, now: number): boolean {
    if (sessionId === null) return false;
    this.#forgetOld(now);
    const stopped = this.#sql
      .exec(
        `UPDATE unacknowledged_orders SET next_due_at = NULL, seen_to_at = ?
         WHERE table_session_id = ? AND next_due_at IS NOT NULL
         RETURNING order_id`,
        now,
        sessionId,
      )
      .toArray();
    return stopped.length > 0;
  }

  /** The party of `fromSession` is now `toSession` at `tableId`: its orders go along. */
  #partyMoved(
    fromSession: string | null,
    toSession: string | null,
    tableId: string | null,
  ): boolean {
    if (fromSession === null || tableId === null) return false;
    this.#sql.exec(
      'UPDATE unacknowledged_orders SET table_session_id = ?, table_id = ? WHERE table_session_id = ?',
      toSession,
      tableId,
      fromSession,
    );
    return false;
  }

  /** Forgets the orders seen to more than a day ago: their events will not come again. */
  #forgetOld(now: number): void {
    this.#sql.exec(
      'DELETE FROM unacknowledged_orders WHERE seen_to_at < ?',
      now - REMEMBER_SEEN_TO_MS,
    );
  }
}

/** The order an `order.created` event carries, if it is to be watched (it has `ack_seconds`). */
function newOrderOf(data: Record<string, unknown>): NewOrder | null {
  const id = text(data.id);
  const createdAt = typeof data.created_at === 'string' ? Date.parse(data.created_at) : NaN;
  const ackSeconds = data.ack_seconds;
  if (id === null || Number.isNaN(createdAt)) return null;
  if (typeof ackSeconds !== 'number' || !Number.isInteger(ackSeconds) || ackSeconds <= 0) {
    return null;
  }
  return { id, createdAt, ackSeconds };
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
