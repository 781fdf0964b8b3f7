import { z } from '@hono/zod-openapi';
import type { EventStream } from './sse.ts';

/**
 * Open streams one account (the token's `sub`) may hold at once. A tablet needs one, and a few
 * more while a connection it lost has not been noticed yet; a store admin watches from several
 * screens (the counter, the kitchen, a phone) and browser tabs.
 */
export const STREAMS_PER_ACCOUNT = { table: 5, store_admin: 20 } as const;

/** Open streams per store, whoever holds them, unless `STREAM_LIMIT_PER_STORE` says otherwise. */
export const DEFAULT_STREAMS_PER_STORE = 2_000;

/** Who may open a stream. */
export type StreamRole = keyof typeof STREAMS_PER_ACCOUNT;

/** Why the hub would not open one more stream: the account or the store holds `limit` already. */
export type TooManyStreams = { per: 'account' | 'store'; limit: number };

/** A missing or malformed `STREAM_LIMIT_PER_STORE` means the default. */
const PerStore = z.coerce.number().int().positive().catch(DEFAULT_STREAMS_PER_STORE);

/** The store-wide cap on open streams, from the Worker's `STREAM_LIMIT_PER_STORE`. */
export function streamsPerStore(configured: string | undefined): number {
  return PerStore.parse(configured);
}

/**
 * Whether one more stream for `opener` fits next to the `open` ones of its store: null when it
 * does, otherwise which cap it would pass (the account's first: it names the caller's own
 * doing). One token cannot hold the store's every slot, nor a store the hub's memory.
 */
export function tooManyStreams(
  open: ReadonlySet<EventStream>,
  opener: { role: StreamRole; accountId: string },
  perStore: number,
): TooManyStreams | null {
  const perAccount = STREAMS_PER_ACCOUNT[opener.role];
  let held = 0;
  for (const stream of open) if (stream.accountId === opener.accountId) held += 1;
  if (held >= perAccount) return { per: 'account', limit: perAccount };
  if (open.size >= perStore) return { per: 'store', limit: perStore };
  return null;
}
