import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { cacheKeys } from '../../worker/platform/cache.ts';
import { createRedis } from '../../worker/platform/redis.ts';
import { auditOf } from './support/audit.ts';
import { cachedValue } from './support/cache.ts';
import { tableRow } from './support/catalog.ts';
import {
  api,
  newStore,
  newTable,
  PASSWORD,
  withDb,
  type StoreFixture,
} from './support/fixtures.ts';
import { callWith, payloadOf, randomIp, signToken } from './support/tokens.ts';

const TABLE_LOGIN = '/api/customer/auth/login';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HOUR_MS = 60 * 60 * 1000;
const redis = createRedis(env);

/** A table the admin has just set up: no tablet holds it yet. */
async function freshTable(store: StoreFixture): Promise<{ id: string; tableNumber: string }> {
  const res = await api('POST', '/api/admin/tables', {
    token: store.admin.token,
    body: { table_number: `T-${crypto.randomUUID().slice(0, 8)}`, password: PASSWORD },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, tableNumber: res.body.table_number };
}

/** The tablet `device` logs into the table (with the right password unless told otherwise). */
function tabletLogin(
  store: { id: string },
  table: { tableNumber: string },
  device: unknown,
  { password = PASSWORD }: { password?: string } = {},
) {
  return api('POST', TABLE_LOGIN, {
    body: { store_id: store.id, table_number: table.tableNumber, password, device_id: device },
    headers: { 'cf-connecting-ip': randomIp() },
  });
}

/** A tablet's token after a login that must succeed. */
async function loggedIn(store: { id: string }, table: { tableNumber: string }, device: string) {
  const res = await tabletLogin(store, table, device);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token as string;
}

/**
 * A request only a table with a valid token gets answered (its current orders), with what it
 * leaves for after the answer (noting the tablet as heard from) done when it returns.
 */
const ownOrders = (token: string, overrides: Partial<Env> = {}) =>
  callWith(overrides, 'GET', '/api/customer/orders', { token });

function expectTokenRefused(res: { status: number; body: any }) {
  expect(res.status, JSON.stringify(res.body)).toBe(401);
  expect(res.body.error.code).toBe('TOKEN_INVALID');
}

/**
 * Proves `token` works, read through the cached account: the login's own invalidation marker
 * is cleared first, so that the request fills the cache with the tablet holding the table.
 */
async function warmAccount(tableId: string, token: string) {
  await redis.del(cacheKeys.account(tableId));
  expect((await ownOrders(token)).status).toBe(200);
  const cached = await cachedValue(cacheKeys.account(tableId));
  expect(cached).toMatchObject({ device: payloadOf(token).dev });
}

/** Sets when the holding tablet was last heard from, behind the API's back. */
function lastHeardAt(tableId: string, at: Date) {
  return withDb((db) =>
    db
      .update(schema.diningTables)
      .set({ deviceSeenAt: at })
      .where(eq(schema.diningTables.id, tableId)),
  );
}

/** The table as the admin's list shows it. */
async function listed(store: StoreFixture, tableId: string) {
  const res = await api('GET', '/api/admin/tables', { token: store.admin.token });
  expect(res.status).toBe(200);
  return res.body.tables.find((table: { id: string }) => table.id === tableId);
}

function releaseDevice(store: StoreFixture, tableId: string) {
  return api('POST', `/api/admin/tables/${tableId}/release-device`, {
    token: store.admin.token,
  });
}

describe('the first tablet to log in holds the table', () => {
  it('holds it, with its device in the token and on the admin’s list', async () => {
    const store = await newStore();
    const table = await freshTable(store);
    const tablet = crypto.randomUUID();
    expect((await listed(store, table.id)).device).toBeNull();

    const token = await loggedIn(store, table, tablet);

    expect(payloadOf(token).dev).toBe(tablet);
    expect((await ownOrders(token)).status).toBe(200);
    const row = await tableRow(table.id);
    expect(row).toMatchObject({ deviceId: tablet, deviceSeenAt: expect.any(Date) });
    expect(Date.now() - row!.deviceSeenAt!.getTime()).toBeLessThan(60_000);
    expect(await listed(store, table.id)).toEqual({
      id: table.id,
      table_number: table.tableNumber,
      created_at: expect.stringMatching(ISO),
      active_session_id: null,
      device: { id: tablet, last_seen_at: row!.deviceSeenAt!.toISOString() },
    });
  });

  it('lets the same tablet in again, keeping its earlier token, and notes it was heard from', async () => {
    const store = await newStore();
    const table = await freshTable(store);
    const tablet = crypto.randomUUID();
    const first = await loggedIn(store, table, tablet);
    const anHourAgo = new Date(Date.now() - HOUR_MS);
    await lastHeardAt(table.id, anHourAgo);

    // The device id in upper case is the same tablet.
    const again = await loggedIn(store, table, tablet.toUpperCase());

    expect(payloadOf(again).dev).toBe(tablet);
    expect((await ownOrders(first)).status).toBe(200);
    expect((await ownOrders(again)).status).toBe(200);
    const row = await tableRow(table.id);
    expect(row!.deviceId).toBe(tablet);
    expect(row!.deviceSeenAt!.getTime()).toBeGreaterThan(anHourAgo.getTime());
  });

  it('refuses another tablet with 409 TABLE_IN_USE, naming only when the holder was last heard from', async () => {
    const store = await newStore();
    const table = await freshTable(store);
    const holder = crypto.randomUUID();
    const token = await loggedIn(store, table, holder);

    const res = await tabletLogin(store, table, crypto.randomUUID());

    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error.code).toBe('TABLE_IN_USE');
    const row = await tableRow(table.id);
    expect(res.body.error.details).toEqual({ last_seen_at: row!.deviceSeenAt!.toISOString() });
    expect(JSON.stringify(res.body)).not.toContain(holder);
    expect(row!.deviceId).toBe(holder);
    expect((await ownOrders(token)).status).toBe(200);
  });

  it('answers a wrong password from another tablet with 401, never telling that the table is in use', async () => {
    const store = await newStore();
    const table = await freshTable(store);
    await loggedIn(store, table, crypto.randomUUID());

    const res = await tabletLogin(store, table, crypto.randomUUID(), { password: 'wrong-pw' });

    expect(res.status, JSON.stringify(res.body)).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'INVALID_CREDENTIALS', details: {} });
  });

  it('lets exactly one of two tablets logging in at the same moment hold the table', async () => {
    const store = await newStore();
    const table = await freshTable(store);
    const tablets = [crypto.randomUUID(), crypto.randomUUID()];

    const answers = await Promise.all(tablets.map((tablet) => tabletLogin(store, table, tablet)));

    expect(answers.map((res) => res.status).sort()).toEqual([200, 409]);
    const winner = tablets[answers.findIndex((res) => res.status === 200)];
    expect((await tableRow(table.id))!.deviceId).toBe(winner);
  });

  it.each<[string, unknown]>([
    ['without a device id', undefined],
    ['with a device id that is no UUID', 'tablet-1'],
    ['with an empty device id', ''],
    ['with a number for a device id', 12345],
  ])('refuses a login %s (400) and leaves the table free', async (_, device) => {
    const store = await newStore();
    const table = await freshTable(store);
    const res = await tabletLogin(store, table, device);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect((await tableRow(table.id))!.deviceId).toBeNull();
  });

  it('refuses a table token from before tablets were named (no device), like a tablet released', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const claims = { sub: table.id, role: 'table', store_id: store.id, ver: 1 };
    expect((await ownOrders(await signToken({ ...claims, dev: table.device }))).status).toBe(200);
    expectTokenRefused(await ownOrders(await signToken(claims)));
  });
});

describe('a tablet silent for 16 hours', () => {
  it('still holds the table a minute short of 16 hours, and is replaced by the next tablet after', async () => {
    const store = await newStore();
    const table = await freshTable(store);
    const silent = await loggedIn(store, table, crypto.randomUUID());
    await warmAccount(table.id, silent);
    const newcomer = crypto.randomUUID();

    await lastHeardAt(table.id, new Date(Date.now() - 16 * HOUR_MS + 60_000));
    expect((await tabletLogin(store, table, newcomer)).status).toBe(409);
    await lastHeardAt(table.id, new Date(Date.now() - 16 * HOUR_MS - 60_000));
    const token = await loggedIn(store, table, newcomer);

    expect((await ownOrders(token)).status).toBe(200);
    expectTokenRefused(await ownOrders(silent));
    const row = await tableRow(table.id);
    expect(row!.deviceId).toBe(newcomer);
    expect(Date.now() - row!.deviceSeenAt!.getTime()).toBeLessThan(60_000);
  });
});

describe('an admin releasing a table from its tablet', () => {
  it('frees the table: the tablet’s token is refused on its very next request, another tablet logs in', async () => {
    const store = await newStore();
    const table = await freshTable(store);
    const first = crypto.randomUUID();
    const token = await loggedIn(store, table, first);
    await warmAccount(table.id, token);
    const second = crypto.randomUUID();
    expect((await tabletLogin(store, table, second)).status).toBe(409);

    const res = await releaseDevice(store, table.id);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      id: table.id,
      table_number: table.tableNumber,
      created_at: expect.stringMatching(ISO),
      active_session_id: null,
      device: null,
    });
    expectTokenRefused(await ownOrders(token));
    const replacement = await loggedIn(store, table, second);
    expect((await ownOrders(replacement)).status).toBe(200);
    expect((await tabletLogin(store, table, first)).status).toBe(409);
    expect((await listed(store, table.id)).device).toMatchObject({ id: second });
  });

  it('keeps the release in the audit trail, with the tablet it let go', async () => {
    const store = await newStore();
    const table = await freshTable(store);
    const tablet = crypto.randomUUID();
    await loggedIn(store, table, tablet);

    expect((await releaseDevice(store, table.id)).status).toBe(200);

    const released = (await auditOf(store.id)).filter(
      (row) => row.action === 'table.device_released',
    );
    expect(released).toEqual([
      expect.objectContaining({
        actorRole: 'store_admin',
        actorId: store.admin.id,
        targetType: 'table',
        targetId: table.id,
        details: { device_id: tablet },
      }),
    ]);
  });

  it('answers a table no tablet holds with the table, and records nothing', async () => {
    const store = await newStore();
    const table = await freshTable(store);
    const res = await releaseDevice(store, table.id);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: table.id, device: null });
    const trail = await auditOf(store.id);
    expect(trail.map((row) => row.action)).toEqual(['table.created']);
  });

  it('answers 404 for another store’s table and leaves its tablet holding it', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirs = await newTable(other.id);

    const res = await releaseDevice(store, theirs.id);

    expect(res.status, JSON.stringify(res.body)).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect((await tableRow(theirs.id))!.deviceId).toBe(theirs.device);
    expect((await ownOrders(theirs.token)).status).toBe(200);
    expect((await releaseDevice(store, crypto.randomUUID())).status).toBe(404);
    expect((await releaseDevice(store, 'table-1')).status).toBe(400);
  });

  it('is for the store admin only (a tablet gets 403)', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const res = await api('POST', `/api/admin/tables/${table.id}/release-device`, {
      token: table.token,
    });
    expect(res.status).toBe(403);
    expect((await tableRow(table.id))!.deviceId).toBe(table.device);
  });
});

describe('noting when a tablet was last heard from', () => {
  const seenAt = async (tableId: string) => (await tableRow(tableId))!.deviceSeenAt!.getTime();

  it('refreshes it on a request once the minute is over, not on a second request within it', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const gate = cacheKeys.deviceSeen(table.id);
    const anHourAgo = new Date(Date.now() - HOUR_MS);
    await lastHeardAt(table.id, anHourAgo);
    await redis.del(gate);

    expect((await ownOrders(table.token)).status).toBe(200);
    expect(Date.now() - (await seenAt(table.id))).toBeLessThan(60_000);
    const ttl = await redis.ttl(gate);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);

    await lastHeardAt(table.id, anHourAgo);
    expect((await ownOrders(table.token)).status).toBe(200);
    expect(await seenAt(table.id)).toBe(anHourAgo.getTime());

    await redis.del(gate); // the minute is over
    expect((await ownOrders(table.token)).status).toBe(200);
    expect(Date.now() - (await seenAt(table.id))).toBeLessThan(60_000);
  });

  it('answers the tablet all the same while Redis is down, and writes nothing', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const anHourAgo = new Date(Date.now() - HOUR_MS);
    await lastHeardAt(table.id, anHourAgo);
    await redis.del(cacheKeys.deviceSeen(table.id));

    const res = await ownOrders(table.token, { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await seenAt(table.id)).toBe(anHourAgo.getTime());
  });
});
