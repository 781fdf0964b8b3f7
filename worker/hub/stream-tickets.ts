import { z } from '@hono/zod-openapi';
import type { Principal } from '../auth/tokens.ts';
import { ApiError } from '../api-error.ts';
import { hexOf } from '../contracts/encoding.ts';

/** How long a stream ticket can be redeemed. */
export const TICKET_TTL_SECONDS = 60;

/** `<store id>.<64 hex>`: the prefix names the hub that issued (and redeems) the ticket. */
const TICKET = /^([0-9a-f-]{36})\.([0-9a-f]{64})$/;
const StoreId = z.uuid();

/**
 * Single-use tickets that stand in for a bearer token where a client cannot send headers
 * (`EventSource`), kept in the store's hub so that redeeming one is a single delete: two
 * concurrent redemptions cannot both succeed.
 */
export class StreamTickets {
  #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`
      CREATE TABLE IF NOT EXISTS stream_tickets (
        ticket TEXT PRIMARY KEY,
        principal TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
    `);
  }

  /** A new ticket for `principal` (of this hub's store), valid {@link TICKET_TTL_SECONDS}. */
  issue(principal: Principal, now: number): string {
    if (principal.storeId === null) throw new Error('only a store’s admin or table gets tickets');
    this.#sql.exec('DELETE FROM stream_tickets WHERE expires_at <= ?', now);
    const secret = hexOf(crypto.getRandomValues(new Uint8Array(32)));
    const ticket = `${principal.storeId}.${secret}`;
    this.#sql.exec(
      'INSERT INTO stream_tickets (ticket, principal, expires_at) VALUES (?, ?, ?)',
      ticket,
      JSON.stringify(principal),
      now + TICKET_TTL_SECONDS * 1000,
    );
    return ticket;
  }

  /** The ticket's principal, once; null for an unknown, used or expired ticket. */
  redeem(ticket: string, now: number): Principal | null {
    const [row] = this.#sql
      .exec<{ principal: string; expires_at: number }>(
        'DELETE FROM stream_tickets WHERE ticket = ? RETURNING principal, expires_at',
        ticket,
      )
      .toArray();
    if (!row || row.expires_at <= now) return null;
    return JSON.parse(row.principal) as Principal;
  }
}

/** The store whose hub issued `ticket`; throws 401 `TOKEN_INVALID` for a malformed ticket. */
export function storeOfTicket(ticket: string): string {
  const storeId = TICKET.exec(ticket)?.[1];
  if (!storeId || !StoreId.safeParse(storeId).success) throw ticketInvalid();
  return storeId;
}

/** 401 for a ticket that is malformed, unknown, used or expired — one answer for all. */
export function ticketInvalid(): ApiError {
  return new ApiError(401, 'TOKEN_INVALID', '유효하지 않거나 이미 사용된 스트림 티켓입니다.');
}
