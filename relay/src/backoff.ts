/**
 * Waiting between retries: a bounded exponential delay and a pause that a shutdown can cut short.
 * Shared by the outbox drain, the broker connection and the hub delivery so they back off alike.
 */

/** The longest any retry of the relay waits. */
export const MAX_RETRY_MS = 30_000;

/** `baseMs · 2^attempt`, capped at `maxMs` (attempt 0 waits `baseMs`). */
export function retryDelay(attempt: number, baseMs: number, maxMs = MAX_RETRY_MS): number {
  return Math.min(baseMs * 2 ** Math.min(attempt, 30), maxMs);
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
