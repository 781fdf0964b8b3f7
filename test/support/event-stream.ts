/**
 * A dashboard or tablet listening to its SSE stream, through the spec-following `eventsource`
 * client (reconnects, `Last-Event-ID` on reconnect, `retry:`), as a browser would.
 */
import { EventSource } from 'eventsource';

/** The envelope of SPEC §4 as it arrives in `data:`. */
export type Envelope = {
  id: number;
  type: string;
  store_id: string;
  table_id: string | null;
  table_session_id: string | null;
  occurred_at: string;
  data: Record<string, any>;
};
export type Received = { lastEventId: string; type: string; envelope: Envelope; at: number };

const EVENT_TYPES = [
  'order.created',
  'order.status_changed',
  'order.deleted',
  'table.session_completed',
  'menu.updated',
  'menu.image_uploaded',
  'menu.image_ready',
  'resync',
];

export type Listener = {
  received: Received[];
  /** Resolves once `count` events of `type` have arrived. */
  waitFor(type: string, count?: number, timeoutMs?: number): Promise<Received[]>;
  /** Resolves once the stream is open; rejects if it failed first (a non-200 answer). */
  opened(): Promise<void>;
  close(): void;
  source: EventSource;
};

/** Opens a stream with a bearer token (and, optionally, a `Last-Event-ID` to resume from). */
export function listen(
  url: string,
  options: { token?: string; lastEventId?: string } = {},
): Listener {
  const received: Received[] = [];
  const source = new EventSource(url, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...init?.headers,
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.lastEventId && !init?.headers?.['Last-Event-ID']
            ? { 'Last-Event-ID': options.lastEventId }
            : {}),
        },
      }),
  });
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (event) => {
      received.push({
        lastEventId: event.lastEventId,
        type,
        envelope: type === 'resync' ? ({} as Envelope) : (JSON.parse(event.data) as Envelope),
        at: performance.now(),
      });
    });
  }
  const opened = new Promise<void>((resolve, reject) => {
    source.addEventListener('open', () => resolve(), { once: true });
    source.addEventListener(
      'error',
      (event) => reject(new Error(`stream failed: ${event.message ?? event.code}`)),
      { once: true },
    );
  });
  opened.catch(() => {});
  return {
    received,
    source,
    opened: () => opened,
    close: () => source.close(),
    async waitFor(type, count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter((event) => event.type === type);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) {
          throw new Error(
            `waited ${timeoutMs} ms for ${count} × ${type}; got ${JSON.stringify(received.map((e) => e.type))}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
