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
import {
  ADMIN_ROLES,
  CORRELATION_ID_PATTERN,
  EVENT_TYPES,
  type AdminRole,
  type EventType,
} from '../../db/schema.ts';
import { Uuid } from './ids.ts';

export { EVENT_TYPES, type EventType };

/**
 * The SSE event that tells a client the events it missed are gone (reload the snapshot). A frame
 * of the stream only: it is no event type and has no envelope.
 */
export const RESYNC_EVENT = 'resync';

/** The admin (store or super) who caused an event. */
const EventActor = z.object({ role: z.enum(ADMIN_ROLES), id: Uuid }).meta({ id: 'EventActor' });

/**
 * One event. `id` is the outbox id: global across stores, increasing, but committed out of order.
 * `actor` is the admin who caused it, null for a guest's or the system's; `correlation_id` the id
 * of the request that caused it (its `X-Request-Id`), null when no request did. An envelope
 * without either (from a relay older than the field) reads it as null.
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
    actor: EventActor.nullable().default(null),
    correlation_id: z.string().regex(CORRELATION_ID_PATTERN).nullable().default(null),
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
  /** Who caused it: both set for an admin's change, both null otherwise. */
  actorRole: AdminRole | null;
  actorId: string | null;
  /** The request that caused it, null when none did. */
  correlationId: string | null;
};

/**
 * The envelope of one outbox row: its id, its type, where it happened, when, its payload, who
 * caused it, and the request that did.
 */
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
    // The outbox's check constraint keeps the two columns both set or both null.
    actor: row.actorRole && row.actorId ? { role: row.actorRole, id: row.actorId } : null,
    correlation_id: row.correlationId,
  };
}
