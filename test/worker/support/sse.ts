/**
 * A small server-sent-events client for tests inside workerd: opens a stream through the Worker's
 * own fetch, parses it with eventsource-parser (fields, comments, `retry`, blank-line dispatch, as
 * the WHATWG spec says) and hands out what arrives in order. Every stream opened here is cancelled
 * by `closeAllStreams()` (call it in `afterEach`), so no response body is left open.
 */
import { exports } from 'cloudflare:workers';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One thing the server sent: an event, a comment (`: ping`) or a `retry:` field. */
export type SseItem =
  | { kind: 'event'; id: string; event: string; data: string }
  | { kind: 'comment'; text: string }
  | { kind: 'retry'; ms: number };
export type SseEvent = Extract<SseItem, { kind: 'event' }>;

const open = new Set<SseReader>();

/** The blank line that ends a block of fields (an event, a comment, `retry:`). */
const BLOCK_END = /\r\n\r\n|\n\n|\r\r/;

/** Reads an SSE response body item by item. */
export class SseReader {
  readonly response: Response;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #items: SseItem[] = [];
  #waiters: Array<() => void> = [];
  #ended = false;
  /** The spec's "last event ID": it carries over to events sent without an `id:`. */
  #lastEventId: string;

  /** `lastEventId`: the `Last-Event-ID` the stream was opened with, if any. */
  constructor(response: Response, lastEventId = '') {
    if (!response.body) throw new Error(`no body (status ${response.status})`);
    this.response = response;
    this.#lastEventId = lastEventId;
    this.#reader = response.body.getReader();
    open.add(this);
    void this.#pump();
  }

  /**
   * The spec's "last event ID string" as of everything that has arrived: what a browser sends as
   * `Last-Event-ID` when it reconnects. Set before the items of the same block are handed out.
   */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Whether the server ended the stream (or it failed). */
  get ended(): boolean {
    return this.#ended && this.#items.length === 0;
  }

  /** The next item, waiting up to `timeoutMs`. */
  async next(timeoutMs = 5_000): Promise<SseItem> {
    const deadline = Date.now() + timeoutMs;
    while (this.#items.length === 0) {
      if (this.#ended) throw new Error('the stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nothing arrived within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#items.shift()!;
  }

  /** The next event, skipping comments and `retry:`. */
  async nextEvent(timeoutMs = 5_000): Promise<SseEvent> {
    for (;;) {
      const item = await this.next(timeoutMs);
      if (item.kind === 'event') return item;
    }
  }

  /** The next `count` events. */
  async events(count: number, timeoutMs = 5_000): Promise<SseEvent[]> {
    const events: SseEvent[] = [];
    while (events.length < count) events.push(await this.nextEvent(timeoutMs));
    return events;
  }

  /** Waits until the stream ends (the server closed it or the connection broke). */
  async untilEnded(timeoutMs = 5_000): Promise<void> {
    try {
      for (;;) await this.next(timeoutMs);
    } catch (error) {
      if (!this.#ended) throw error;
    }
  }

  /** Disconnects, as a closed browser tab does. */
  async close(): Promise<void> {
    open.delete(this);
    await this.#reader.cancel().catch(() => {});
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    const parser = createParser({
      onEvent: (event) => this.#dispatch(event),
      onComment: (text) => this.#push({ kind: 'comment', text: text.trim() }),
      onRetry: (ms) => this.#push({ kind: 'retry', ms }),
    });
    let pending = '';
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done) break;
        pending += decoder.decode(value, { stream: true });
        for (let end = BLOCK_END.exec(pending); end; end = BLOCK_END.exec(pending)) {
          const block = pending.slice(0, end.index + end[0].length);
          pending = pending.slice(block.length);
          this.#takeIdWithoutData(block);
          parser.feed(block);
        }
      }
    } catch {
      // A broken stream ends like a closed one: the client would reconnect.
    }
    this.#ended = true;
    this.#wake();
  }

  /**
   * eventsource-parser reports only blocks with `data:`; the spec's "dispatch the event" still
   * takes the `id:` of a block without data as the last event ID (the hub's opening frame is one).
   */
  #takeIdWithoutData(block: string): void {
    const lines = block.split(/\r\n|\r|\n/);
    if (lines.some((line) => /^data(:|$)/.test(line))) return;
    const id = lines.findLast((line) => /^id(:|$)/.test(line));
    if (id !== undefined) this.#lastEventId = id.replace(/^id:? ?/, '');
  }

  #dispatch({ id, event, data }: EventSourceMessage): void {
    if (id !== undefined) this.#lastEventId = id;
    this.#push({ kind: 'event', id: this.#lastEventId, event: event ?? 'message', data });
  }

  #push(item: SseItem): void {
    this.#items.push(item);
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/** How a stream is opened: a bearer token, and the `Last-Event-ID` header of a reconnect. */
export type StreamOptions = { token?: string; lastEventId?: string };

/**
 * Opens a stream through the Worker (`path` may carry a query). Answers the reader for a 200,
 * or the status and error body otherwise (the body read, so nothing stays open).
 */
export async function openStream(path: string, options: StreamOptions = {}): Promise<SseReader> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const response = await exports.default.fetch(`http://table-order.test${path}`, { headers });
  if (response.status !== 200) {
    const body = await response.text();
    throw new StreamRefused(response.status, body ? JSON.parse(body) : undefined, response.headers);
  }
  return new SseReader(response, options.lastEventId);
}

/** A stream that did not open: its status, error envelope and headers. */
export class StreamRefused extends Error {
  override name = 'StreamRefused';
  readonly status: number;
  readonly body: { error: { code: string; details: Record<string, unknown> } } | undefined;
  readonly headers: Headers;

  constructor(status: number, body: StreamRefused['body'], headers: Headers) {
    super(`stream refused with ${status}: ${JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** Expects the stream at `path` to be refused; answers the refusal. */
export async function refusedStream(
  path: string,
  options: StreamOptions = {},
): Promise<StreamRefused> {
  try {
    const reader = await openStream(path, options);
    await reader.close();
  } catch (error) {
    if (error instanceof StreamRefused) return error;
    throw error;
  }
  throw new Error(`${path} opened, expected a refusal`);
}

/** Expects the stream at `path` to be refused; answers its status and error code. */
export async function refusal(
  path: string,
  options: StreamOptions = {},
): Promise<{ status: number; code: string | undefined }> {
  const refused = await refusedStream(path, options);
  return { status: refused.status, code: refused.body?.error.code };
}

/** Disconnects every stream a test left open. */
export async function closeAllStreams(): Promise<void> {
  await Promise.all([...open].map((reader) => reader.close()));
}
