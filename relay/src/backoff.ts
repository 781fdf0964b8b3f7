/**
 * Waiting between retries: a bounded exponential delay, a pause that a shutdown can cut short, and
 * which answers of the Worker no retry can change. Shared by the outbox drain, the broker
 * connection, the hub delivery and the image worker so they back off alike.
 */

/** The longest any retry of the relay waits. */
export const MAX_RETRY_MS = 30_000;

/** `baseMs · 2^attempt`, capped at `maxMs` (attempt 0 waits `baseMs`). */
export function retryDelay(attempt: number, baseMs: number, maxMs = MAX_RETRY_MS): number {
  return Math.min(baseMs * 2 ** Math.min(attempt, 30), maxMs);
}

/**
 * Whether the Worker's answer to a call is final: a 4xx other than 408 (timed out) and 429 (slow
 * down) is its verdict on these very bytes — 400 not a valid body, 401 a signature it will not
 * take (another secret, a clock minutes off), 413 too large — and resending them gets the same
 * verdict. 5xx, 408, 429 and no answer at all are worth another try.
 */
export function refusedForGood(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Resolves with `true` when `promise` settles within `ms`, `false` when the time ran out first. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const deadline = new AbortController();
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, pause(ms, deadline.signal).then(() => false)]);
  deadline.abort();
  return result;
}
