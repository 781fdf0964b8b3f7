/**
 * The access log: one JSON line per request with its id, route pattern, status, duration and
 * caller — never a token, a password or a body — and a WARN when a request outruns its budget;
 * the error line of a request that failed, which names a failed query but never its values.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import app from '../../worker/index.ts';
import type { Database } from '../../worker/domain/database.ts';
import { newCategory } from './support/catalog.ts';
import { PASSWORD, newStore, newTable, withDb } from './support/fixtures.ts';
import { diningRoom } from './support/ordering.ts';

type Line = Record<string, unknown>;

/** Calls the app with its own request id and some settings replaced; reads the whole answer. */
async function send(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; settings?: Record<string, string> } = {},
) {
  const requestId = crypto.randomUUID();
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`http://table-order.test${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    { ...env, ...options.settings } as Env,
    ctx,
  );
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  return { requestId, status: response.status, text };
}

/**
 * Spies on the console; `linesOf(id)` are the raw access-log lines of one request, `failures(id)`
 * its error lines.
 */
function watchConsole() {
  const log = vi.spyOn(console, 'log');
  const warn = vi.spyOn(console, 'warn');
  const error = vi.spyOn(console, 'error');
  const raw = () => [...log.mock.calls, ...warn.mock.calls].map(([line]) => String(line));
  return {
    linesOf: (requestId: string) =>
      raw().filter((line) => line.includes(`"msg":"request"`) && line.includes(requestId)),
    parsed: (requestId: string): Line[] =>
      raw()
        .filter((line) => line.includes(`"msg":"request"`) && line.includes(requestId))
        .map((line) => JSON.parse(line) as Line),
    warned: (requestId: string) =>
      warn.mock.calls.some(([line]) => String(line).includes(requestId)),
    failures: (requestId: string) =>
      error.mock.calls.map(([line]) => String(line)).filter((line) => line.includes(requestId)),
  };
}

/** Resolves once some other backend waits on a lock held by backend `pid`. */
async function blockedBy(db: Database, pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await db.execute<{ waiting: number }>(
      sql`select count(*)::int as waiting from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid))`,
    );
    if (rows[0]!.waiting > 0) return;
    await scheduler.wait(10);
  }
  throw new Error(`nothing became blocked by backend ${pid}`);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('one line per request', () => {
  it('names the route pattern, the status, the time taken and the store and role of the caller', async () => {
    const store = await newStore();
    const logs = watchConsole();
    const orderId = crypto.randomUUID();

    const sent = await send('PATCH', `/api/admin/orders/${orderId}/status`, {
      token: store.admin.token,
      body: { status: 'preparing' },
    });
    expect(sent.status).toBe(404);
    const lines = logs.parsed(sent.requestId);
    expect(lines).toEqual([
      {
        level: 'info',
        msg: 'request',
        request_id: sent.requestId,
        method: 'PATCH',
        route: '/api/admin/orders/:id/status',
        status: 404,
        duration_ms: expect.any(Number),
        store_id: store.id,
        role: 'store_admin',
      },
    ]);
    const [line] = logs.linesOf(sent.requestId);
    expect(line).not.toContain(store.admin.token);
    expect(line).not.toContain(orderId);
    expect(line!.toLowerCase()).not.toContain('authorization');
    expect(line).not.toContain('preparing');
  });

  it('logs a login without its password or the token it hands out', async () => {
    const store = await newStore();
    const logs = watchConsole();

    const sent = await send('POST', '/api/admin/auth/login', {
      body: { store_id: store.id, username: store.admin.username, password: PASSWORD },
    });
    expect(sent.status).toBe(200);
    const token = (JSON.parse(sent.text) as { access_token: string }).access_token;
    const [line] = logs.linesOf(sent.requestId);
    expect(JSON.parse(line!)).toMatchObject({
      level: 'info',
      route: '/api/admin/auth/login',
      status: 200,
      store_id: null,
      role: null,
    });
    expect(line).not.toContain(PASSWORD);
    expect(line).not.toContain(token);
    expect(line).not.toContain(store.admin.username);
  });

  it('logs unknown paths and refused callers too, with no route', async () => {
    const logs = watchConsole();
    const unknown = await send('GET', '/api/nowhere');
    const refused = await send('GET', '/api/admin/tables', { token: 'not-a-token' });

    expect(unknown.status).toBe(404);
    expect(logs.parsed(unknown.requestId)).toMatchObject([{ route: null, status: 404 }]);
    expect(refused.status).toBe(401);
    expect(logs.parsed(refused.requestId)).toMatchObject([
      { route: '/api/admin/tables', status: 401, role: null },
    ]);
    expect(logs.linesOf(refused.requestId)[0]).not.toContain('not-a-token');
  });
});

describe('a slow request', () => {
  it('is logged as a WARN once it takes longer than its budget', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const logs = watchConsole();

    // Another transaction holds the table's row, so the renumbering waits for its lock.
    const { pending } = await withDb((db) =>
      db.transaction(async (tx) => {
        const { rows } = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
        await tx.execute(sql`select id from dining_tables where id = ${table.id} for update`);
        const pending = send('PATCH', `/api/admin/tables/${table.id}`, {
          token: store.admin.token,
          body: { table_number: 1 + Math.floor(Math.random() * 1_000_000) },
          settings: { LOG_SLOW_SIMPLE_MS: '100' },
        });
        await blockedBy(db, rows[0]!.pid);
        await scheduler.wait(150);
        return { pending };
      }),
    );
    const sent = await pending;

    expect(sent.status).toBe(200);
    const [line] = logs.parsed(sent.requestId);
    expect(line).toMatchObject({ level: 'warn', route: '/api/admin/tables/:id', budget_ms: 100 });
    expect(line!.duration_ms).toBeGreaterThan(100);
    expect(logs.warned(sent.requestId)).toBe(true);
  });

  it('is measured against the complex budget when it places an order', async () => {
    const { table, stew } = await diningRoom();
    const logs = watchConsole();

    const sent = await send('POST', '/api/customer/orders', {
      token: table.token,
      body: { items: [{ menu_id: stew.id, quantity: 1 }] },
      settings: { LOG_SLOW_SIMPLE_MS: '1', LOG_SLOW_COMPLEX_MS: '60000' },
    });
    expect(sent.status).toBe(201);
    expect(logs.parsed(sent.requestId)).toMatchObject([
      { level: 'info', route: '/api/customer/orders', status: 201, role: 'table' },
    ]);
    expect(logs.warned(sent.requestId)).toBe(false);
  });
});

/**
 * Makes PostgreSQL refuse a new menu named `name` (a test-only trigger) the way it refuses bad
 * data: SQLSTATE `TO001`, with the value quoted in its message and detail. Dropped by `cleanup`.
 */
async function refuseMenuNamed(name: string) {
  const trigger = `test_refuse_menu_${crypto.randomUUID().replaceAll('-', '')}`;
  await withDb((db) =>
    db.execute(
      sql.raw(`
        create or replace function test_refuse_menu() returns trigger language plpgsql as $$
        begin
          raise exception 'menu % refused', new.name
            using errcode = 'TO001', detail = 'Failing row contains (' || new.name || ').';
        end $$;
        create trigger ${trigger} before insert on menus for each row
          when (new.name = '${name}') execute function test_refuse_menu();`),
    ),
  );
  return { cleanup: () => withDb((db) => db.execute(sql.raw(`drop trigger ${trigger} on menus`))) };
}

describe('a request the database refuses', () => {
  it('is logged with the statement and its SQLSTATE, never the values the request carried', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const guestText = `secret-${crypto.randomUUID()}`;
    const refusal = await refuseMenuNamed(guestText);
    const logs = watchConsole();
    try {
      const sent = await send('POST', '/api/admin/menus', {
        token: store.admin.token,
        body: { category_id: category.id, name: guestText, price: 8000 },
      });

      expect(sent.status).toBe(500);
      const [line, ...more] = logs.failures(sent.requestId);
      expect(more).toEqual([]);
      expect(JSON.parse(line!)).toMatchObject({
        level: 'error',
        msg: 'request failed',
        error: {
          sqlstate: 'TO001',
          statement: expect.stringMatching(/^insert into "menus" .*values \(.*\$1/),
        },
      });
      expect(line).not.toContain(guestText);
      expect(line).not.toContain(category.id);
    } finally {
      await refusal.cleanup();
    }
  });
});
