import { z } from '@hono/zod-openapi';
import { TOKEN_TTL_SECONDS, type Principal } from '../auth/tokens.ts';
import { ApiError } from '../api-error.ts';
import { hexOf } from '../contracts/encoding.ts';

/** How long a stream ticket can open a stream. */
export const TICKET_TTL_SECONDS = 60;

/** `<store id>.<64 hex>`: the prefix names the hub that issued (and redeems) the ticket. */
const TICKET = /^([0-9a-f-]{36})\.([0-9a-f]{64})$/;
const StoreId = z.uuid();

/**
 * What a request does with a ticket: `open` a stream (the ticket's first use), or `resume` the
 * stream it opened — the reconnect `EventSource` makes on its own, to the same URL, with
 * `Last-Event-ID`.
 */
export type TicketUse = 'open' | 'resume';

/**
 * Tickets that stand in for a bearer token where a client cannot send headers (`EventSource`),
 * kept in the store's hub. A ticket opens one stream, within {@link TICKET_TTL_SECONDS}: the
 * first redemption marks it used in a single statement, so two concurrent ones cannot both
 * succeed. Used, it resumes that stream after a cut (a deploy, a restart) until the token that
 * obtained it expires — a ticket never outlives its token. Whether the account may still listen is
 * checked on every redemption by the caller.
 */
export class StreamTickets {
  #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    // `expires_at`: when the row stops being good for anything — while unused, the end of its
    // opening window; once used, `resumable_until`.
    sql.exec(`
      CREATE TABLE IF NOT EXISTS stream_tickets (
        ticket TEXT PRIMARY KEY,
        principal TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        resumable_until INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0
      );
    `);
    addResumeColumns(sql);
  }

  /**
   * A new ticket for `principal` (of this hub's store): it opens a stream within
   * {@link TICKET_TTL_SECONDS} and resumes it until `tokenExpiresAt` (epoch ms; at most a token's
   * lifetime from now).
   */
  issue(
    principal: Principal,
    now: number,
    tokenExpiresAt = now + TOKEN_TTL_SECONDS * 1000,
  ): string {
    if (principal.storeId === null) throw new Error('only a store’s admin or table gets tickets');
    this.#sql.exec('DELETE FROM stream_tickets WHERE expires_at <= ?', now);
    const secret = hexOf(crypto.getRandomValues(new Uint8Array(32)));
    const ticket = `${principal.storeId}.${secret}`;
    this.#sql.exec(
      `INSERT INTO stream_tickets (ticket, principal, expires_at, resumable_until)
       VALUES (?, ?, ?, ?)`,
      ticket,
      JSON.stringify(principal),
      now + TICKET_TTL_SECONDS * 1000,
      Math.min(tokenExpiresAt, now + TOKEN_TTL_SECONDS * 1000),
    );
    return ticket;
  }

  /**
   * The ticket's principal: to `open`, once, within its opening window; to `resume`, once used
   * and until `resumable_until`. Null for an unknown or expired ticket, a used one opening again,
   * or an unused one resuming. A first use that comes as a resume (a client that sends
   * `Last-Event-ID` on its first connect) opens.
   */
  redeem(ticket: string, use: TicketUse, now: number): Principal | null {
    const [row] = this.#sql
      .exec<{ principal: string }>(
        `UPDATE stream_tickets SET used = 1, expires_at = resumable_until
         WHERE ticket = ? AND used = 0 AND expires_at > ?
         RETURNING principal`,
        ticket,
        now,
      )
      .toArray();
    if (row) return JSON.parse(row.principal) as Principal;
    return use === 'resume' ? this.#resumed(ticket, now) : null;
  }

  #resumed(ticket: string, now: number): Principal | null {
    const [row] = this.#sql
      .exec<{ principal: string }>(
        'SELECT principal FROM stream_tickets WHERE ticket = ? AND used = 1 AND expires_at > ?',
        ticket,
        now,
      )
      .toArray();
    return row ? (JSON.parse(row.principal) as Principal) : null;
  }
}

/**
 * Hubs whose tickets were single-use only have `stream_tickets` without the columns for
 * resuming: they are added. Their tickets, once used, resume nothing (`resumable_until` 0).
 */
function addResumeColumns(sql: SqlStorage): void {
  const columns = sql
    .exec<{ name: string }>("SELECT name FROM pragma_table_info('stream_tickets')")
    .toArray()
    .map((column) => column.name);
  if (columns.includes('used')) return;
  sql.exec(`
    ALTER TABLE stream_tickets ADD COLUMN resumable_until INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE stream_tickets ADD COLUMN used INTEGER NOT NULL DEFAULT 0;
  `);
}

/** The store whose hub issued `ticket`; throws 401 `TOKEN_INVALID` for a malformed ticket. */
export function storeOfTicket(ticket: string): string {
  const storeId = TICKET.exec(ticket)?.[1];
  if (!storeId || !StoreId.safeParse(storeId).success) throw ticketInvalid();
  return storeId;
}

/**
 * 401 for a ticket that is malformed, unknown, expired or used (unless resuming) — one answer for
 * all.
 */
export function ticketInvalid(): ApiError {
  return new ApiError(401, 'TOKEN_INVALID', '유효하지 않거나 이미 사용된 스트림 티켓입니다.');
}
