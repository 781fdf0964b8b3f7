import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { verifyPassword } from '../../worker/platform/passwords.ts';
import {
  api,
  newStore,
  newSuperAdmin,
  newTable,
  PASSWORD,
  unique,
  withDb,
} from './support/fixtures.ts';
import { probe, randomIp } from './support/tokens.ts';

const root = await newSuperAdmin();

function asRoot(method: string, path: string, body?: unknown) {
  return api(method, path, { token: root.token, body });
}

async function storeRow(id: string) {
  return withDb(async (db) => {
    const [row] = await db.select().from(schema.stores).where(eq(schema.stores.id, id));
    return row;
  });
}

async function adminRow(id: string) {
  return withDb(async (db) => {
    const [row] = await db.select().from(schema.admins).where(eq(schema.admins.id, id));
    return row;
  });
}

/** A store admin created through the API, with the password it was given. */
async function newAdminOf(storeId: string, username = unique('staff')) {
  const res = await asRoot('POST', '/api/superadmin/admins', {
    store_id: storeId,
    username,
    password: PASSWORD,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; store_id: string; username: string; is_active: boolean };
}

function adminLogin(storeId: string, username: string) {
  return api('POST', '/api/admin/auth/login', {
    body: { store_id: storeId, username, password: PASSWORD },
    headers: { 'cf-connecting-ip': randomIp() },
  });
}

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error).toMatchObject({ code, message: expect.any(String) });
}

describe('opening a store', () => {
  it('creates the store in Seoul time, with a Korean menu, unless told otherwise', async () => {
    const name = unique('한우집');
    const res = await asRoot('POST', '/api/superadmin/stores', { name: `  ${name} ` });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name,
      timezone: 'Asia/Seoul',
      default_language: 'ko',
      history_retention_days: 365,
      order_ack_seconds: 60,
    });
    expect(await storeRow(res.body.id)).toMatchObject({
      name,
      timezone: 'Asia/Seoul',
      defaultLanguage: 'ko',
      historyRetentionDays: 365,
    });
  });

  it("keeps the language the store's menu is written in", async () => {
    const res = await asRoot('POST', '/api/superadmin/stores', {
      name: unique('bistro'),
      default_language: 'en',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.default_language).toBe('en');
    expect((await storeRow(res.body.id))?.defaultLanguage).toBe('en');
  });

  it('keeps order history as long as the store is told to', async () => {
    const res = await asRoot('POST', '/api/superadmin/stores', {
      name: unique('분식'),
      history_retention_days: 30,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.history_retention_days).toBe(30);
    expect((await storeRow(res.body.id))?.historyRetentionDays).toBe(30);
  });

  it("keeps the store's own time zone, spelled the IANA way", async () => {
    for (const [given, stored] of [
      ['America/New_York', 'America/New_York'],
      ['europe/paris', 'Europe/Paris'],
      ['UTC', 'UTC'],
    ]) {
      const res = await asRoot('POST', '/api/superadmin/stores', {
        name: unique('bistro'),
        timezone: given,
      });
      expect(res.status, given).toBe(201);
      expect(res.body.timezone).toBe(stored);
      expect((await storeRow(res.body.id))?.timezone).toBe(stored);
    }
  });

  it.each<[string, unknown]>([
    ['a zone that does not exist', { name: 'x', timezone: 'Mars/Olympus_Mons' }],
    ['an offset instead of a zone', { name: 'x', timezone: '+09:00' }],
    ['an empty zone', { name: 'x', timezone: '' }],
    ['no name', { timezone: 'Asia/Seoul' }],
    ['a blank name', { name: '   ' }],
    ['a name of 101 characters', { name: 'a'.repeat(101) }],
    ['a name with a NUL character', { name: 'a\u0000b' }],
    ['a name that is a number', { name: 42 }],
    ['a history kept no day', { name: 'x', history_retention_days: 0 }],
    ['a history kept over ten years', { name: 'x', history_retention_days: 3651 }],
    ['a history kept part of a day', { name: 'x', history_retention_days: 1.5 }],
    ['a history retention as text', { name: 'x', history_retention_days: '30' }],
    ['a language the menu does not speak', { name: 'x', default_language: 'fr' }],
    ['a language in upper case', { name: 'x', default_language: 'EN' }],
  ])('refuses %s with 400', async (_, body) => {
    expectError(await asRoot('POST', '/api/superadmin/stores', body), 400, 'VALIDATION_ERROR');
  });

  it('accepts a name of exactly 100 characters', async () => {
    const name = `${unique('n')}${'가'.repeat(90)}`.slice(0, 100);
    const res = await asRoot('POST', '/api/superadmin/stores', { name });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe(name);
  });

  it('refuses broken JSON with 400', async () => {
    const res = await api('POST', '/api/superadmin/stores', { token: root.token, rawBody: '{' });
    expectError(res, 400, 'VALIDATION_ERROR');
  });
});

describe('listing stores', () => {
  it('lists every store by name', async () => {
    const prefix = unique('list');
    const later = await asRoot('POST', '/api/superadmin/stores', { name: `${prefix}-b` });
    const earlier = await asRoot('POST', '/api/superadmin/stores', {
      name: `${prefix}-a`,
      timezone: 'Asia/Tokyo',
    });
    const res = await asRoot('GET', '/api/superadmin/stores');
    expect(res.status).toBe(200);
    const ids = res.body.stores.map((s: { id: string }) => s.id);
    expect(ids.indexOf(earlier.body.id)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(earlier.body.id)).toBeLessThan(ids.indexOf(later.body.id));
    expect(res.body.stores).toContainEqual({
      id: earlier.body.id,
      name: `${prefix}-a`,
      timezone: 'Asia/Tokyo',
      default_language: 'ko',
      history_retention_days: 365,
      order_ack_seconds: 60,
    });
  });
});

describe("creating a store's admin", () => {
  it('creates an active store admin who can log in with that password', async () => {
    const store = await newStore();
    const username = unique('manager');
    const res = await asRoot('POST', '/api/superadmin/admins', {
      store_id: store.id,
      username,
      password: PASSWORD,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      store_id: store.id,
      username,
      is_active: true,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    });
    const row = await adminRow(res.body.id);
    expect(row).toMatchObject({ role: 'store_admin', storeId: store.id, isActive: true });
    expect(row!.passwordHash).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, row!.passwordHash)).toBe(true);

    const login = await adminLogin(store.id, username);
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.admin).toEqual({ id: res.body.id, username, store_id: store.id });
  });

  it('refuses a username already taken in that store (409 USERNAME_TAKEN)', async () => {
    const store = await newStore();
    const res = await asRoot('POST', '/api/superadmin/admins', {
      store_id: store.id,
      username: store.admin.username,
      password: 'another-password',
    });
    expectError(res, 409, 'USERNAME_TAKEN');
  });

  it('lets two stores each have an admin of the same name', async () => {
    const store = await newStore();
    const other = await newStore();
    const admin = await newAdminOf(other.id, store.admin.username);
    expect(admin.store_id).toBe(other.id);
  });

  it('creates exactly one of two simultaneous admins of the same name', async () => {
    const store = await newStore();
    const body = { store_id: store.id, username: unique('twin'), password: PASSWORD };
    const answers = await Promise.all([
      asRoot('POST', '/api/superadmin/admins', body),
      asRoot('POST', '/api/superadmin/admins', body),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
    const rows = await withDb((db) =>
      db.select().from(schema.admins).where(eq(schema.admins.username, body.username)),
    );
    expect(rows).toHaveLength(1);
  });

  it('answers 404 for a store that does not exist, and creates nothing', async () => {
    const username = unique('ghost');
    const res = await asRoot('POST', '/api/superadmin/admins', {
      store_id: crypto.randomUUID(),
      username,
      password: PASSWORD,
    });
    expectError(res, 404, 'NOT_FOUND');
    const rows = await withDb((db) =>
      db.select().from(schema.admins).where(eq(schema.admins.username, username)),
    );
    expect(rows).toHaveLength(0);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a username of 2 characters', { username: 'ab' }],
    ['a username of 51 characters', { username: 'a'.repeat(51) }],
    ['a username with upper case', { username: 'Manager' }],
    ['a username with a space', { username: 'head chef' }],
    ['a username in Hangul', { username: '점장님' }],
    ['a username starting with a dot', { username: '.manager' }],
    ['a password of 7 characters', { password: 'short-7' }],
    ['a password of 101 characters', { password: 'p'.repeat(101) }],
    ['a store id that is no uuid', { store_id: 'store-1' }],
    ['a username that is a number', { username: 12345 }],
  ])('refuses %s with 400', async (_, change) => {
    const store = await newStore();
    const body = { store_id: store.id, username: unique('staff'), password: PASSWORD, ...change };
    expectError(await asRoot('POST', '/api/superadmin/admins', body), 400, 'VALIDATION_ERROR');
  });

  it('accepts the edges: 3 and 50 characters, 8 and 100 character passwords', async () => {
    const store = await newStore();
    for (const [username, password] of [
      ['a.1', 'p'.repeat(8)],
      [`${unique('x')}_`.padEnd(50, '9'), 'p'.repeat(100)],
    ]) {
      const res = await asRoot('POST', '/api/superadmin/admins', {
        store_id: store.id,
        username,
        password,
      });
      expect(res.status, `${username} ${JSON.stringify(res.body)}`).toBe(201);
    }
  });

  it('refuses broken JSON with 400', async () => {
    const res = await api('POST', '/api/superadmin/admins', { token: root.token, rawBody: '{' });
    expectError(res, 400, 'VALIDATION_ERROR');
  });
});

describe('finding store admins', () => {
  it("pages through one store's admins, newest first", async () => {
    const store = await newStore();
    const first = await newAdminOf(store.id);
    const second = await newAdminOf(store.id);
    const path = `/api/superadmin/admins?store_id=${store.id}&page_size=2`;

    const page1 = await asRoot('GET', path);
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((a: { id: string }) => a.id)).toEqual([second.id, first.id]);
    expect(page1.body.pagination).toEqual({
      page: 1,
      page_size: 2,
      total_count: 3,
      total_pages: 2,
    });
    expect(page1.body.data[0]).toEqual({
      id: second.id,
      store_id: store.id,
      username: second.username,
      is_active: true,
      created_at: expect.any(String),
    });

    const page2 = await asRoot('GET', `${path}&page=2`);
    expect(page2.body.data.map((a: { id: string }) => a.id)).toEqual([store.admin.id]);
    const page3 = await asRoot('GET', `${path}&page=3`);
    expect(page3.body.data).toEqual([]);
    expect(page3.body.pagination.total_count).toBe(3);
  });

  it('finds admins by part of the username, whatever the case', async () => {
    const store = await newStore();
    const tag = crypto.randomUUID().slice(0, 8);
    const kim = await newAdminOf(store.id, `kim-${tag}`);
    await newAdminOf(store.id, `lee-${tag}`);
    const res = await asRoot('GET', `/api/superadmin/admins?q=${`KIM-${tag}`.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((a: { id: string }) => a.id)).toEqual([kim.id]);
  });

  it('reads % and _ in the search literally', async () => {
    const store = await newStore();
    const tag = crypto.randomUUID().slice(0, 8);
    const underscored = await newAdminOf(store.id, `a_${tag}`);
    await newAdminOf(store.id, `ab${tag}`);
    const scoped = `/api/superadmin/admins?store_id=${store.id}`;
    const byUnderscore = await asRoot('GET', `${scoped}&q=_`);
    expect(byUnderscore.body.data.map((a: { id: string }) => a.id)).toEqual([underscored.id]);
    for (const q of ['%25', '%5C', '%5C%25']) {
      const res = await asRoot('GET', `${scoped}&q=${q}`);
      expect(res.status, q).toBe(200);
      expect(res.body.data, q).toEqual([]);
    }
  });

  it('lists store admins only, never super admins', async () => {
    const res = await asRoot('GET', `/api/superadmin/admins?q=${root.username}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
  });

  it('answers 404 for a store that does not exist', async () => {
    const res = await asRoot('GET', `/api/superadmin/admins?store_id=${crypto.randomUUID()}`);
    expectError(res, 404, 'NOT_FOUND');
  });

  it.each(['store_id=abc', 'page=0', 'page=x', 'page_size=101', `q=${'a'.repeat(51)}`, 'q=a%00b'])(
    'refuses ?%s with 400',
    async (query) => {
      expectError(await asRoot('GET', `/api/superadmin/admins?${query}`), 400, 'VALIDATION_ERROR');
    },
  );
});

describe('deactivating and reactivating a store admin', () => {
  it('refuses the admin from the next request on, and lets it back in after a new login', async () => {
    const store = await newStore();
    const { token } = store.admin;
    expect((await probe('store_admin', token)).status).toBe(200);
    expect((await api('GET', '/api/admin/tables', { token })).status).toBe(200);

    const off = await asRoot('PATCH', `/api/superadmin/admins/${store.admin.id}/deactivate`);
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body).toEqual({
      id: store.admin.id,
      store_id: store.id,
      username: store.admin.username,
      is_active: false,
      created_at: expect.any(String),
    });
    expect(await adminRow(store.admin.id)).toMatchObject({ isActive: false });
    expectError(await probe('store_admin', token), 403, 'ACCOUNT_DISABLED');
    expectError(await api('GET', '/api/admin/tables', { token }), 403, 'ACCOUNT_DISABLED');
    expectError(await adminLogin(store.id, store.admin.username), 403, 'ACCOUNT_DISABLED');

    const on = await asRoot('PATCH', `/api/superadmin/admins/${store.admin.id}/activate`);
    expect(on.status).toBe(200);
    expect(on.body.is_active).toBe(true);
    // Tokens from before the deactivation stay dead; the admin logs in again.
    expectError(await probe('store_admin', token), 401, 'TOKEN_INVALID');
    const login = await adminLogin(store.id, store.admin.username);
    expect(login.status).toBe(200);
    expect((await probe('store_admin', login.body.access_token)).status).toBe(200);
  });

  it('does nothing to an admin already in the asked state', async () => {
    const store = await newStore();
    const on = await asRoot('PATCH', `/api/superadmin/admins/${store.admin.id}/activate`);
    expect(on.status).toBe(200);
    expect(on.body.is_active).toBe(true);
    // Activating an active admin does not log it out.
    expect((await probe('store_admin', store.admin.token)).status).toBe(200);

    for (let i = 0; i < 2; i++) {
      const off = await asRoot('PATCH', `/api/superadmin/admins/${store.admin.id}/deactivate`);
      expect(off.body.is_active).toBe(false);
    }
    expect(await adminRow(store.admin.id)).toMatchObject({ isActive: false, tokenVersion: 0 });
  });

  it('leaves the other admins of the store working', async () => {
    const store = await newStore();
    const colleague = await newAdminOf(store.id);
    await asRoot('PATCH', `/api/superadmin/admins/${colleague.id}/deactivate`);
    expect((await probe('store_admin', store.admin.token)).status).toBe(200);
  });

  it.each(['activate', 'deactivate'])(
    '%s answers 404 for an unknown id and for a super admin, whose account stays as it was',
    async (action) => {
      const other = await newSuperAdmin();
      for (const id of [crypto.randomUUID(), other.id]) {
        const res = await asRoot('PATCH', `/api/superadmin/admins/${id}/${action}`);
        expectError(res, 404, 'NOT_FOUND');
      }
      expect(await adminRow(other.id)).toMatchObject({ isActive: true, tokenVersion: 0 });
      expect((await probe('super_admin', other.token)).status).toBe(200);
    },
  );

  it('refuses a malformed id with 400', async () => {
    const res = await asRoot('PATCH', '/api/superadmin/admins/not-a-uuid/deactivate');
    expectError(res, 400, 'VALIDATION_ERROR');
  });
});

describe('who may use the console', () => {
  const routes: Array<[string, string]> = [
    ['POST', '/api/superadmin/stores'],
    ['GET', '/api/superadmin/stores'],
    ['POST', '/api/superadmin/admins'],
    ['GET', '/api/superadmin/admins'],
    ['PATCH', `/api/superadmin/admins/${crypto.randomUUID()}/activate`],
    ['PATCH', `/api/superadmin/admins/${crypto.randomUUID()}/deactivate`],
  ];

  it.each(routes)('%s %s asks for a login without a token (401)', async (method, path) => {
    expectError(await api(method, path), 401, 'TOKEN_MISSING');
  });

  it.each(routes)('%s %s is forbidden to store admins and tables (403)', async (method, path) => {
    const store = await newStore();
    const table = await newTable(store.id);
    for (const token of [store.admin.token, table.token]) {
      const body = method === 'GET' ? undefined : {};
      expectError(await api(method, path, { token, body }), 403, 'FORBIDDEN');
    }
  });

  it('refuses a super admin that was deactivated (403 ACCOUNT_DISABLED)', async () => {
    const other = await newSuperAdmin();
    await withDb((db) =>
      db.update(schema.admins).set({ isActive: false }).where(eq(schema.admins.id, other.id)),
    );
    const res = await api('GET', '/api/superadmin/stores', { token: other.token });
    expectError(res, 403, 'ACCOUNT_DISABLED');
  });
});
