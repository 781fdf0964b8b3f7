/**
 * Helpers for the cache tests: reading what Redis holds, calling the Worker with Redis out of
 * reach, and picking the cache's WARN lines out of `console.warn`.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import type { MockInstance } from 'vitest';
import app from '../../../worker/index.ts';
import { createRedis } from '../../../worker/platform/redis.ts';
import type { ApiResponse } from './fixtures.ts';

/** Nothing listens there: every Redis call fails at once, as in an outage. */
const REDIS_DOWN: Partial<Env> = { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' };

/** What Redis holds under `key` right now (null when nothing), read with the Worker's own client. */
export function cachedValue<T = unknown>(key: string): Promise<T | null> {
  return createRedis(env).get<T>(key);
}

/** Like `api()` from the fixtures, but with Redis unreachable for this one request. */
export async function apiWithoutRedis<T = any>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`http://table-order.test${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    { ...env, ...REDIS_DOWN },
    ctx,
  );
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as T) : (undefined as T),
    headers: response.headers,
  };
}

/** The `cache unavailable` WARN lines a `console.warn` spy saw, parsed. */
export function cacheWarnings(
  spy: MockInstance<typeof console.warn>,
): Array<{ level: string; msg: string; key: string; error: string }> {
  return spy.mock.calls
    .map(([line]) => {
      try {
        return JSON.parse(String(line));
      } catch {
        return null;
      }
    })
    .filter((entry) => entry?.msg === 'cache unavailable');
}
