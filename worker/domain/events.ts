import { outbox, type EventType } from '../../db/schema.ts';
import { currentRequestId } from '../platform/request-context.ts';
import type { Actor } from './audit.ts';
import type { Transaction } from './database.ts';

/** One domain event, as the use case that caused it describes it (catalogue: docs/events.md). */
export type DomainEvent = {
  type: EventType;
  storeId: string;
  tableId?: string | null;
  tableSessionId?: string | null;
  /** The envelope's `data`. */
  data: Record<string, unknown>;
  /** The admin who caused it (the envelope's `actor`); left out for a guest's or the system's. */
  actor?: Actor | null;
};

/**
 * Records an event in the outbox inside the caller's transaction: it is published (by the relay)
 * only if, and only after, the change it describes commits. The outbox id becomes the event id.
 * The request that caused it (its `X-Request-Id`) goes with it as `correlation_id`, null when no
 * request did (the Cron Trigger).
 */
export async function recordEvent(tx: Transaction, event: DomainEvent): Promise<void> {
  await tx.insert(outbox).values({
    type: event.type,
    storeId: event.storeId,
    tableId: event.tableId ?? null,
    tableSessionId: event.tableSessionId ?? null,
    payload: event.data,
    actorRole: event.actor?.role ?? null,
    actorId: event.actor?.id ?? null,
    correlationId: currentRequestId(),
  });
}
