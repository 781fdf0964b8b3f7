/**
 * The relay's side of `POST /internal/events`, for tests: envelopes as the relay publishes them
 * and requests signed the way it signs them (the shared contract), with knobs to forge, age or
 * replay them.
 */
import { env } from 'cloudflare:test';
import { expect } from 'vitest';
import { envelopeOf, type Envelope, type EventType } from '../../../worker/contracts/events.ts';
import {
  signEvent,
  type RelaySignatureHeaders,
} from '../../../worker/contracts/relay-signature.ts';
import { api, outboxOf, type ApiResponse } from './fixtures.ts';

/** Outbox ids are global: a random base per test run keeps tests from colliding. */
let nextId = 1 + Math.floor(Math.random() * 1_000_000_000);

/**
 * An envelope of the store's event, with a fresh outbox id unless one is given. A table's event
 * belongs to a party (session) of its own unless `tableSessionId` names one; it is a guest's (no
 * actor) unless `actor` names an admin, and caused by no request unless `correlationId` names one.
 */
export function envelope(
  storeId: string,
  options: {
    type?: EventType;
    tableId?: string | null;
    tableSessionId?: string;
    id?: number;
    data?: object;
    actor?: Envelope['actor'];
    correlationId?: string;
  } = {},
): Envelope {
  return {
    id: options.id ?? nextId++,
    type: options.type ?? 'order.created',
    store_id: storeId,
    table_id: options.tableId ?? null,
    table_session_id: options.tableId ? (options.tableSessionId ?? crypto.randomUUID()) : null,
    occurred_at: new Date().toISOString(),
    data: { ...(options.data ?? { order_number: 1 }) },
    actor: options.actor ?? null,
    correlation_id: options.correlationId ?? null,
  };
}

/**
 * The relay's headers for an event delivery: the signature covers `timestamp.body`. A test may
 * sign with another secret (a forgery) or at another time (a stale signature).
 */
export function signature(
  body: string,
  options: { timestamp?: number; secret?: string } = {},
): Promise<RelaySignatureHeaders> {
  return signEvent(options.secret ?? env.RELAY_HMAC_SECRET, body, options.timestamp);
}

/** Posts a body to `/internal/events` with the given headers. */
export function postEvent(
  body: string,
  headers: Record<string, string>,
): Promise<ApiResponse<{ stored: boolean; error?: { code: string } }>> {
  return api('POST', '/internal/events', { rawBody: body, headers });
}

/** Delivers an event as the relay does: freshly signed. */
export async function deliver(
  event: Envelope,
): Promise<ApiResponse<{ stored: boolean; error?: { code: string } }>> {
  const body = JSON.stringify(event);
  return postEvent(body, await signature(body));
}

/** Delivers events through the relay endpoint, in order, expecting each to be accepted and stored. */
export async function deliverAll(...events: Envelope[]): Promise<void> {
  for (const event of events) {
    const res = await deliver(event);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.stored).toBe(true);
  }
}

/**
 * Plays the relay for a store: delivers every outbox row the store's use cases wrote, oldest
 * first, as the envelope the relay publishes. Rows delivered before are answered as duplicates.
 * Answers the envelopes, oldest first.
 */
export async function relayOutbox(storeId: string): Promise<Envelope[]> {
  const envelopes = (await outboxOf(storeId)).map(envelopeOf);
  for (const event of envelopes) {
    const res = await deliver(event);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return envelopes;
}
