/**
 * The event envelope — a contract shared by the Worker, the relay and the tests. The relay makes
 * it from an outbox row and publishes it, the Worker takes it at `/internal/events`, and SSE
 * clients receive it in `data:`.
 *
 * The event types are the ones the outbox's check constraint admits: the list lives with that
 * constraint in db/schema.ts (the ground floor, which imports nothing of ours) and is handed on
 * from here, so that the database and the wire cannot disagree.
 */
import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../../db/schema.ts';
import { Uuid } from './ids.ts';

export { EVENT_TYPES, type EventType };

/**
 * The SSE event that tells a client the events it missed are gone (reload the snapshot). A frame
 * of the stream only: it is no event type and has no envelope.
 */
export const RESYNC_EVENT = 'resync';

/**
 * One event. `id` is the outbox id: global across stores, increasing, but committed out of order.
 */
export const Envelope = z
  .object({
    id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    type: z.enum(EVENT_TYPES),
    store_id: Uuid,
    table_id: Uuid.nullable(),
    table_session_id: Uuid.nullable(),
    occurred_at: z.iso.datetime({ offset: true }),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'EventEnvelope' });

export type Envelope = z.infer<typeof Envelope>;

/** The columns of an outbox row that make its envelope (`id` arrives as text from a bigint). */
export type OutboxEvent = {
  id: number | string;
  type: EventType;
  storeId: string;
  tableId: string | null;
  tableSessionId: string | null;
  payload: unknown;
  createdAt: Date;
};

/** The envelope of one outbox row: its id, its type, where it happened, when, and its payload. */
export function envelopeOf(row: OutboxEvent): Envelope {
  return {
    id: Number(row.id),
    type: row.type,
    store_id: row.storeId,
    table_id: row.tableId,
    table_session_id: row.tableSessionId,
    occurred_at: row.createdAt.toISOString(),
    // The outbox is written by `recordEvent` only, and its payload is always an object.
    data: row.payload as Record<string, unknown>,
  };
}
