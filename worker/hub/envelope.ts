import { z } from '@hono/zod-openapi';
import { EVENT_TYPES } from '../../db/schema.ts';
import { Uuid } from '../openapi.ts';

/**
 * The event envelope of SPEC §4, as the relay publishes it and as SSE clients receive it in
 * `data:`. `id` is the outbox id: global across stores, increasing, but committed out of order.
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
  .openapi('EventEnvelope');

export type Envelope = z.infer<typeof Envelope>;
