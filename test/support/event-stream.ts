/**
 * A dashboard or tablet listening to its SSE stream, through the spec-following `eventsource`
 * client (reconnects, `Last-Event-ID` on reconnect, `retry:`), as a browser would.
 */
import { EventSource } from 'eventsource';
import { EVENT_TYPES, RESYNC_EVENT, type Envelope } from '../../worker/contracts/events.ts';

/** An event as the stream delivered it; a `resync` frame has an empty envelope. */
export type Received = { lastEventId: string; type: string; envelope: Envelope; at: number };

export type Listener = {
  received: Received[];
  /** Resolves once `count` events of `type` have arrived. */
  waitFor(type: string, count?: number, timeoutMs?: number): Promise<Received[]>;
  /**
   * Resolves once the stream is open at the hub: its 200 arrived and its first frame was read —
   * `retry:`, and on a first connect (no `lastEventId`) `id:` the newest event's. The hub writes
   * that frame in the same step that adds the stream to its live set, so every event delivered
   * afterwards reaches this stream. Rejects if the stream failed first (a non-200 answer) or
   * began with anything else.
   */
  opened(): Promise<void>;
  close(): void;
  source: EventSource;
};

/** The first frame of a first connect, and of a connect with `Last-Event-ID`. */
const OPENING = /^retry: ?\d+\nid: ?(\d+)$/;
const RESUMING = /^retry: ?\d+$/;

/** Opens a stream with a bearer token (and, optionally, a `Last-Event-ID` to resume from). */
export function listen(
  url: string,
  options: { token?: string; lastEventId?: string } = {},
): Listener {
  const received: Received[] = [];
  /**
   * `Last-Event-ID` for a reconnect before any event arrived. A browser takes the `id:` of the
   * opening frame (a frame without `data:`) as its last event ID; `eventsource` ignores such a
   * frame, as eventsource-parser does, so that id is sent here for it.
   */
  let resumeFrom = options.lastEventId;
  const opened = Promise.withResolvers<void>();
  opened.promise.catch(() => {});
  let openedSettled = false;
  const settleOpened = (failure?: Error) => {
    if (openedSettled) return;
    openedSettled = true;
    if (failure) opened.reject(failure);
    else opened.resolve();
  };
  const source = new EventSource(url, {
    fetch: async (input, init) => {
      const response = await fetch(input, {
        ...init,
        headers: {
          ...init?.headers,
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(resumeFrom && !init?.headers?.['Last-Event-ID']
            ? { 'Last-Event-ID': resumeFrom }
            : {}),
        },
      });
      if (openedSettled || response.status !== 200 || !response.body) return response;
      const body = withFirstFrame(response.body, (frame) => {
        const opening = (options.lastEventId ? RESUMING : OPENING).exec(frame);
        resumeFrom ??= opening?.[1];
        settleOpened(
          opening
            ? undefined
            : new Error(`stream began with ${JSON.stringify(frame)}, not its opening frame`),
        );
      });
      return new Response(body, { status: response.status, headers: response.headers });
    },
  });
  for (const type of [...EVENT_TYPES, RESYNC_EVENT]) {
    source.addEventListener(type, (event) => {
      received.push({
        lastEventId: event.lastEventId,
        type,
        envelope: type === RESYNC_EVENT ? ({} as Envelope) : (JSON.parse(event.data) as Envelope),
        at: performance.now(),
      });
    });
  }
  source.addEventListener(
    'error',
    (event) => settleOpened(new Error(`stream failed: ${event.message ?? event.code}`)),
    { once: true },
  );
  return {
    received,
    source,
    opened: () => opened.promise,
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

/**
 * Passes a stream body on unchanged, and hands `onFirstFrame` its first frame: the text up to the
 * first blank line.
 */
function withFirstFrame(
  body: ReadableStream<Uint8Array>,
  onFirstFrame: (frame: string) => void,
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let head: string | null = '';
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (head !== null) {
          head += decoder.decode(chunk, { stream: true });
          const end = head.search(/\r\n\r\n|\n\n|\r\r/);
          if (end !== -1) {
            onFirstFrame(head.slice(0, end));
            head = null;
          }
        }
        controller.enqueue(chunk);
      },
    }),
  );
}
