/**
 * The edge of the API: per-user rate limits, CORS, security headers, body limits, per-route time
 * limits, and error bodies that never show internals. Settings are changed per request, as a
 * deployment would set them, by calling the app with some bindings replaced.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as schema from '../../db/schema.ts';
import app from '../../worker/index.ts';
import { routeClass } from '../../worker/middleware/timeouts.ts';
import { newStore, newTable, unique, withDb } from './support/fixtures.ts';
import { diningRoom, placeOrder } from './support/ordering.ts';
import { openStream } from './support/sse.ts';
import { randomIp } from './support/tokens.ts';

type Sent = { response: Response; text: string; settled: () => Promise<void> };

/**
 * Calls the app with `overrides` and reads the answer. `settled` waits for the work the request
 * left running (`waitUntil`), for tests that must release something first.
 */
async function send(
  method: string,
  path: string,
  options: {
    token?: string;
    headers?: Record<string, string>;
    body?: BodyInit;
    overrides?: Partial<Env>;
  } = {},
): Promise<Sent> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`http://table-order.test${path}`, { method, headers, body: options.body }),
    { ...env, ...options.overrides },
    ctx,
  );
  const text = await response.text();
  return { response, text, settled: () => waitOnExecutionContext(ctx) };
}

/** `send`, then waits for the request's background work. */
async function call(...args: Parameters<typeof send>): Promise<Sent> {
  const sent = await send(...args);
  await sent.settled();
  return sent;
}

function corsHeadersOf(response: Response): string[] {
  return [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
}

/** Asserts the error envelope with `code`, and nothing else in the body. */
function expectEnvelope(text: string, code: string) {
  const body = JSON.parse(text);
  expect(body).toEqual({
    error: {
      code,
      message: expect.any(String),
      details: expect.any(Object),
      request_id: expect.any(String),
    },
  });
  return body.error as { details: Record<string, unknown> };
}

/**
 * The sliding window weighs the previous minute's count down (rounding), so a burst that straddles
 * a minute boundary may get one request more than the limit. Bursts start in a fresh minute.
 */
async function clearOfMinuteBoundary(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('rate limit per user', () => {
  it('lets a user make RATE_LIMIT_PER_MINUTE requests a minute, then answers 429 with Retry-After', async () => {
    const [store, neighbour] = await Promise.all([newStore(), newStore()]);
    const overrides = { RATE_LIMIT_PER_MINUTE: '5' };
    await clearOfMinuteBoundary();

    for (let i = 1; i <= 5; i += 1) {
      const { response } = await call('GET', '/api/admin/tables', {
        token: store.admin.token,
        overrides,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBe('5');
      expect(response.headers.get('x-ratelimit-remaining')).toBe(String(5 - i));
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
      expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
    }

    const refused = await call('GET', '/api/admin/tables', { token: store.admin.token, overrides });
    expect(refused.response.status).toBe(429);
    const error = expectEnvelope(refused.text, 'RATE_LIMITED');
    const retryAfter = Number(refused.response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(error.details).toEqual({ limit: 5, retry_after: retryAfter });
    expect(refused.response.headers.get('x-ratelimit-limit')).toBe('5');
    expect(refused.response.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused.response.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);

    const other = await call('GET', '/api/admin/tables', {
      token: neighbour.admin.token,
      overrides,
    });
    expect(other.response.status).toBe(200);
    expect(other.response.headers.get('x-ratelimit-remaining')).toBe('4');
  });

  it('is 100 a minute when not configured (the production figure), and its headers come with error answers too', async () => {
    const store = await newStore();
    const { response, text } = await call('DELETE', `/api/admin/tables/${crypto.randomUUID()}`, {
      token: store.admin.token,
      overrides: { RATE_LIMIT_PER_MINUTE: '' },
    });
    expect(response.status).toBe(404);
    expectEnvelope(text, 'NOT_FOUND');
    expect(response.headers.get('x-ratelimit-limit')).toBe('100');
    expect(response.headers.get('x-ratelimit-remaining')).toBe('99');
  });

  it('counts an event stream once, when it connects', async () => {
    const store = await newStore();
    const stream = await openStream('/api/admin/orders/stream', { token: store.admin.token });
    try {
      const { response } = await call('GET', '/api/admin/tables', {
        token: store.admin.token,
        overrides: { RATE_LIMIT_PER_MINUTE: '100' },
      });
      expect(response.headers.get('x-ratelimit-remaining')).toBe('98');
    } finally {
      await stream.close();
    }
  });

  it('does not count logins, which have their own throttle', async () => {
    const store = await newStore();
    const { response } = await call('POST', '/api/admin/auth/login', {
      headers: { 'cf-connecting-ip': randomIp() },
      body: JSON.stringify({ store_id: store.id, username: store.admin.username, password: 'x' }),
      overrides: { RATE_LIMIT_PER_MINUTE: '1' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('lets requests through, with a WARN, when Redis cannot be reached', async () => {
    const store = await newStore();
    const warn = vi.spyOn(console, 'warn');
    const overrides = { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1', RATE_LIMIT_PER_MINUTE: '1' };
    for (let i = 0; i < 2; i += 1) {
      const { response } = await call('GET', '/api/admin/tables', {
        token: store.admin.token,
        overrides,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBeNull();
    }
    const logged = warn.mock.calls.map(([line]) => String(line));
    expect(logged.filter((line) => line.includes('rate limit unavailable'))).toHaveLength(2);
  });
});

describe('CORS', () => {
  const overrides = { CORS_ORIGINS: 'https://tablet.example, https://admin.example' };

  it('names an allowed origin and exposes the headers clients read', async () => {
    const { response } = await call('GET', '/healthz', {
      headers: { origin: 'https://admin.example' },
      overrides,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
    const exposed = response.headers.get('access-control-expose-headers')?.split(',') ?? [];
    expect(exposed).toEqual(
      expect.arrayContaining([
        'X-Request-Id',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
        'X-RateLimit-Reset',
        'Retry-After',
        'Idempotent-Replayed',
      ]),
    );
  });

  it('names an allowed origin on error answers too, so the page can read them', async () => {
    const { response, text } = await call('GET', '/api/admin/tables', {
      headers: { origin: 'https://tablet.example' },
      overrides,
    });
    expect(response.status).toBe(401);
    expectEnvelope(text, 'TOKEN_MISSING');
    expect(response.headers.get('access-control-allow-origin')).toBe('https://tablet.example');
  });

  it('gives an unknown origin no CORS headers at all', async () => {
    const { response } = await call('GET', '/healthz', {
      headers: { origin: 'https://evil.example' },
      overrides,
    });
    expect(response.status).toBe(200);
    expect(corsHeadersOf(response)).toEqual([]);
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('answers an allowed origin’s preflight with the methods and headers the clients use', async () => {
    const { response } = await call('OPTIONS', '/api/customer/orders', {
      headers: {
        origin: 'https://tablet.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,idempotency-key',
      },
      overrides,
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://tablet.example');
    expect(response.headers.get('access-control-allow-methods')?.split(',')).toEqual(
      expect.arrayContaining(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']),
    );
    expect(response.headers.get('access-control-allow-headers')?.split(',')).toEqual(
      expect.arrayContaining(['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID']),
    );
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('does not answer an unknown origin’s preflight', async () => {
    const { response, text } = await call('OPTIONS', '/api/customer/orders', {
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
      overrides,
    });
    // It goes on to the routes like any OPTIONS request, and there are none.
    expect(response.status).toBe(404);
    expectEnvelope(text, 'NOT_FOUND');
    expect(corsHeadersOf(response)).toEqual([]);
  });

  it('refuses a wildcard in CORS_ORIGINS: it allows nobody', async () => {
    const { response } = await call('GET', '/healthz', {
      headers: { origin: 'https://evil.example' },
      overrides: { CORS_ORIGINS: '*' },
    });
    expect(corsHeadersOf(response)).toEqual([]);
  });
});

describe('security headers', () => {
  it('tell browsers to load, frame and sniff nothing from API answers, errors included', async () => {
    for (const path of ['/healthz', '/no/such/route']) {
      const { response } = await call('GET', path);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    }
  });

  it('let the API docs page load Swagger UI from its CDN', async () => {
    const { response, text } = await call('GET', '/docs');
    expect(response.status).toBe(200);
    expect(text).toContain('https://cdn.jsdelivr.net/npm/swagger-ui-dist');
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toMatch(/script-src https:\/\/cdn\.jsdelivr\.net/);
    expect(policy).toMatch(/style-src https:\/\/cdn\.jsdelivr\.net/);
    expect(policy).toContain("connect-src 'self'");
  });
});

describe('request body limits', () => {
  const MB = 1024 * 1024;

  it('refuse an order body over 1 MB with 413, and nothing is ordered', async () => {
    const { table, stew, store } = await diningRoom();
    const items = [{ menu_id: stew.id, quantity: 1 }];
    const body = JSON.stringify({ items, note: 'x'.repeat(MB) });
    const { response, text } = await call('POST', '/api/customer/orders', {
      token: table.token,
      body,
    });
    expect(response.status).toBe(413);
    expect(expectEnvelope(text, 'PAYLOAD_TOO_LARGE').details).toEqual({ max_bytes: MB });
    const orders = await withDb((db) =>
      db.select().from(schema.orders).where(eq(schema.orders.storeId, store.id)),
    );
    expect(orders).toEqual([]);
  });

  it('refuse a streamed body (no Content-Length) once it passes 1 MB', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 2 * MB) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const { response, text } = await call('POST', '/api/admin/tables', { body });
    expect(response.status).toBe(413);
    expectEnvelope(text, 'PAYLOAD_TOO_LARGE');
  });

  it('let a body under the limit through to the route', async () => {
    const { response, text } = await call('POST', '/api/admin/tables', {
      body: JSON.stringify({ padding: 'x'.repeat(MB - 100) }),
    });
    expect(response.status).toBe(401);
    expectEnvelope(text, 'TOKEN_MISSING');
  });
});

describe('per-route time limits', () => {
  it('give orders and 이용 완료 the complex budget, leave streams open and the rest simple', () => {
    expect(routeClass('POST', '/api/customer/orders')).toBe('complex');
    expect(routeClass('POST', `/api/admin/tables/${crypto.randomUUID()}/complete-session`)).toBe(
      'complex',
    );
    expect(routeClass('GET', '/api/customer/orders')).toBe('simple');
    expect(routeClass('GET', '/api/admin/orders/stream')).toBe('unbounded');
    expect(routeClass('GET', '/api/customer/orders/stream')).toBe('unbounded');
    expect(routeClass('PATCH', `/api/admin/tables/${crypto.randomUUID()}`)).toBe('simple');
    expect(routeClass('POST', '/internal/events')).toBe('simple');
  });

  it('answer 504 TIMEOUT when a simple request waits past its budget, and the work still lands', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const renumbered = 1 + Math.floor(Math.random() * 1_000_000);
    const warn = vi.spyOn(console, 'warn');

    // Another transaction holds the table's row, so the renumbering waits for its lock.
    let pending: Sent | undefined;
    await withDb((db) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`select id from dining_tables where id = ${table.id} for update`);
        pending = await send('PATCH', `/api/admin/tables/${table.id}`, {
          token: store.admin.token,
          body: JSON.stringify({ table_number: renumbered }),
          overrides: { TIMEOUT_SIMPLE_MS: '300' },
        });
      }),
    );
    expect(pending!.response.status).toBe(504);
    expect(expectEnvelope(pending!.text, 'TIMEOUT').details).toEqual({ timeout_ms: 300 });
    expect(warn.mock.calls.some(([line]) => String(line).includes('request timed out'))).toBe(true);

    // Once the lock is free the abandoned request finishes in the background.
    await pending!.settled();
    const [row] = await withDb((db) =>
      db.select().from(schema.diningTables).where(eq(schema.diningTables.id, table.id)),
    );
    expect(row!.tableNumber).toBe(String(renumbered));
  });

  it('time 이용 완료 by the complex budget, not the simple one', async () => {
    const { store, table, stew } = await diningRoom();
    expect((await placeOrder(table.token, [[stew.id, 1]])).status).toBe(201);
    const active = and(
      eq(schema.tableSessions.tableId, table.id),
      isNull(schema.tableSessions.endedAt),
    );

    let pending: Sent | undefined;
    await withDb((db) =>
      db.transaction(async (tx) => {
        await tx.select().from(schema.tableSessions).where(active).for('update');
        pending = await send('POST', `/api/admin/tables/${table.id}/complete-session`, {
          token: store.admin.token,
          overrides: { TIMEOUT_SIMPLE_MS: '60000', TIMEOUT_COMPLEX_MS: '300' },
        });
      }),
    );
    expect(pending!.response.status).toBe(504);
    expect(expectEnvelope(pending!.text, 'TIMEOUT').details).toEqual({ timeout_ms: 300 });
    await pending!.settled();
    const open = await withDb((db) => db.select().from(schema.tableSessions).where(active));
    expect(open).toEqual([]);
  });
});

describe('error answers never show internals', () => {
  const internals = /Failed query|select |insert |update |stack|\n\s+at |postgres|does not exist/i;

  it('say only "unavailable" when the database cannot be reached', async () => {
    const store = await newStore();
    const { response, text } = await call('GET', '/api/admin/tables', {
      token: store.admin.token,
      overrides: { NEON_WS_PROXY: '127.0.0.1:1/v1' },
    });
    expect(response.status).toBe(503);
    expect(expectEnvelope(text, 'SERVICE_UNAVAILABLE').details).toEqual({});
    expect(text).not.toMatch(internals);
  });

  it('say only "unavailable" when a write cannot reach the database, though the checks passed', async () => {
    // The account comes from the cache, so the checks pass while the connection opened beside
    // them (and the transaction's own, retried) fail: 503, not 500, and no order.
    const { table, stew } = await diningRoom();
    expect((await call('GET', '/api/customer/menus', { token: table.token })).response.status).toBe(
      200,
    );
    const { response, text } = await call('POST', '/api/customer/orders', {
      token: table.token,
      body: JSON.stringify({ items: [{ menu_id: stew.id, quantity: 1 }] }),
      overrides: { NEON_WS_PROXY: '127.0.0.1:1/v1' },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expectEnvelope(text, 'SERVICE_UNAVAILABLE');
    const orders = await withDb((db) =>
      db.select().from(schema.orders).where(eq(schema.orders.tableId, table.id)),
    );
    expect(orders).toEqual([]);
  });

  it('say only "unavailable" when the database refuses us (no server message leaks)', async () => {
    const store = await newStore();
    const url = new URL(env.DATABASE_URL);
    const missing = unique('no_such_db').replaceAll('-', '_');
    url.pathname = `/${missing}`;
    const { response, text } = await call('GET', '/api/admin/tables', {
      token: store.admin.token,
      overrides: { DATABASE_URL: url.toString() },
    });
    expect(response.status).toBe(503);
    expectEnvelope(text, 'SERVICE_UNAVAILABLE');
    expect(text).not.toMatch(internals);
    expect(text).not.toContain(missing);
  });
});
