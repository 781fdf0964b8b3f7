/**
 * The relay's side of `POST /internal/events`, for tests: envelopes as the relay publishes them
 * and requests signed the way it signs them (HMAC-SHA256 of `timestamp.body` with
 * `RELAY_HMAC_SECRET`), with knobs to forge, age or replay them.
 */
import { env } from 'cloudflare:test';
import type { EventType } from '../../../db/schema.ts';
import type { Envelope } from '../../../worker/hub/envelope.ts';
import { expect } from 'vitest';
import { api, outboxOf, type ApiResponse } from './fixtures.ts';

/** Outbox ids are global: a random base per test run keeps tests from colliding. */
let nextId = 1 + Math.floor(Math.random() * 1_000_000_000);

/**
 * An envelope of the store's event, with a fresh outbox id unless one is given. A table's event
 * belongs to a party (session) of its own unless `tableSessionId` names one.
 */
export function envelope(
  storeId: string,
  options: {
    type?: EventType;
    tableId?: string | null;
    tableSessionId?: string;
    id?: number;
    data?: object;
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
  };
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The relay's headers for a signed message: `x-relay-timestamp` and
 * `x-relay-signature: v1=<hex HMAC-SHA256>` over `message(timestamp)`.
 */
export async function relaySignatureHeaders(
  message: (timestamp: string) => string,
  options: { timestamp?: number; secret?: string } = {},
): Promise<Record<string, string>> {
  const timestamp = String(options.timestamp ?? Date.now());
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(options.secret ?? env.RELAY_HMAC_SECRET),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(message(timestamp)));
  return { 'x-relay-timestamp': timestamp, 'x-relay-signature': `v1=${hex(mac)}` };
}

/** The relay's headers for an event delivery: the signature covers `timestamp.body`. */
export function signature(
  body: string,
  options: { timestamp?: number; secret?: string } = {},
): Promise<Record<string, string>> {
  return relaySignatureHeaders((timestamp) => `${timestamp}.${body}`, options);
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
  const envelopes = (await outboxOf(storeId)).map((row): Envelope => ({
    id: row.id,
    type: row.type,
    store_id: row.storeId,
    table_id: row.tableId,
    table_session_id: row.tableSessionId,
    occurred_at: row.createdAt.toISOString(),
    data: row.payload as Record<string, unknown>,
  }));
  for (const event of envelopes) {
    const res = await deliver(event);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return envelopes;
}
