import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../worker/platform/passwords.ts';
import { completeStay, historyRow, nobody, seatParty, tableRow } from './support/catalog.ts';
import { api, newMenu, newStore, newSuperAdmin, newTable, PASSWORD } from './support/fixtures.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('seeing the tables', () => {
  it('lists the store’s tables by number, with the party seated at each', async () => {
    const store = await newStore();
    const other = await newStore();
    const seven = await newTable(store.id, '7');
    const two = await newTable(store.id, '2');
    await newTable(other.id, '3');
    const { sessionId } = await seatParty(store.id, seven.id);

    const res = await api('GET', '/api/admin/tables', { token: store.admin.token });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      tables: [
        {
          id: two.id,
          table_number: '2',
          created_at: expect.stringMatching(ISO),
          active_session_id: null,
          device: { id: two.device, last_seen_at: expect.stringMatching(ISO) },
        },
        {
          id: seven.id,
          table_number: '7',
          created_at: expect.stringMatching(ISO),
          active_session_id: sessionId,
          device: { id: seven.device, last_seen_at: expect.stringMatching(ISO) },
        },
      ],
    });
  });

  it('refuses a tablet (403), a super admin (403) and a caller without a token (401)', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const superAdmin = await newSuperAdmin();
    expect((await api('GET', '/api/admin/tables', { token: table.token })).body.error.code).toBe(
      'FORBIDDEN',
    );
    expect((await api('GET', '/api/admin/tables', { token: superAdmin.token })).status).toBe(403);
    const anonymous = await api('GET', '/api/admin/tables');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('TOKEN_MISSING');
  });
});

describe('setting up a table', () => {
  it('adds the table and keeps only a hash of its password', async () => {
    const store = await newStore();
    const res = await api('POST', '/api/admin/tables', {
      token: store.admin.token,
      body: { table_number: 12, password: 'tablet-12' },
    });

    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      table_number: '12',
      created_at: expect.stringMatching(ISO),
      active_session_id: null,
      device: null,
    });
    const row = await tableRow(res.body.id);
    expect(row).toMatchObject({ storeId: store.id, tableNumber: '12', passwordVersion: 1 });
    expect(row!.passwordHash).not.toContain('tablet-12');
    expect(await verifyPassword('tablet-12', row!.passwordHash)).toBe(true);
  });

  it('lets the tablet log in with the number and password just set', async () => {
    const store = await newStore();
    await api('POST', '/api/admin/tables', {
      token: store.admin.token,
      body: { table_number: 4, password: 'four' },
    });
    const login = await api('POST', '/api/customer/auth/login', {
      body: {
        store_id: store.id,
        table_number: 4,
        password: 'four',
        device_id: crypto.randomUUID(),
      },
    });
    expect(login.status).toBe(200);
  });

  it('refuses a number the store already uses (409 TABLE_NUMBER_TAKEN), but not another store’s', async () => {
    const store = await newStore();
    const other = await newStore();
    await newTable(store.id, '5');
    await newTable(other.id, '6');

    const taken = await api('POST', '/api/admin/tables', {
      token: store.admin.token,
      body: { table_number: 5, password: 'secret' },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('TABLE_NUMBER_TAKEN');
    const listed = await api('GET', '/api/admin/tables', { token: store.admin.token });
    expect(listed.body.tables.map((t: { table_number: string }) => t.table_number)).toEqual(['5']);

    const free = await api('POST', '/api/admin/tables', {
      token: store.admin.token,
      body: { table_number: 6, password: 'secret' },
    });
    expect(free.status).toBe(201);
  });

  it('gives one table and one 409 when two admins add the same number at once', async () => {
    const store = await newStore();
    const add = () =>
      api('POST', '/api/admin/tables', {
        token: store.admin.token,
        body: { table_number: 9, password: 'secret' },
      });
    const statuses = (await Promise.all([add(), add(), add()])).map((res) => res.status).sort();
    expect(statuses).toEqual([201, 409, 409]);
  });

  it.each([
    ['a negative table number', { table_number: -3, password: 'secret' }],
    ['an empty table label', { table_number: '', password: 'secret' }],
    ['a fractional table number', { table_number: 1.5, password: 'secret' }],
    ['a password shorter than 4', { table_number: 3, password: 'abc' }],
    ['a password longer than 64', { table_number: 3, password: 'x'.repeat(65) }],
    ['no password', { table_number: 3 }],
  ])('refuses %s (400 VALIDATION_ERROR)', async (_, body) => {
    const store = await newStore();
    const res = await api('POST', '/api/admin/tables', { token: store.admin.token, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect((await api('GET', '/api/admin/tables', { token: store.admin.token })).body).toEqual({
      tables: [],
    });
  });

  it('answers 400 to a body that is not JSON', async () => {
    const store = await newStore();
    const res = await api('POST', '/api/admin/tables', { token: store.admin.token, rawBody: '{' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('refuses a tablet (403)', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const res = await api('POST', '/api/admin/tables', {
      token: table.token,
      body: { table_number: 50, password: 'secret' },
    });
    expect(res.status).toBe(403);
  });
});

describe('changing a table', () => {
  it('relabels the table without logging the tablet out', async () => {
    const store = await newStore();
    const table = await newTable(store.id, '1');
    const res = await api('PATCH', `/api/admin/tables/${table.id}`, {
      token: store.admin.token,
      body: { table_number: 21 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      id: table.id,
      table_number: '21',
      created_at: expect.stringMatching(ISO),
      active_session_id: null,
      device: { id: table.device, last_seen_at: expect.stringMatching(ISO) },
    });
    expect(await tableRow(table.id)).toMatchObject({ tableNumber: '21', passwordVersion: 1 });
    expect((await api('GET', '/api/customer/menus', { token: table.token })).status).toBe(200);
  });

  it('a new password logs the tablet out: its old token answers 401 TOKEN_INVALID', async () => {
    const store = await newStore();
    const table = await newTable(store.id, '8');
    expect((await api('GET', '/api/customer/menus', { token: table.token })).status).toBe(200);

    const res = await api('PATCH', `/api/admin/tables/${table.id}`, {
      token: store.admin.token,
      body: { password: 'new-pass' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: table.id, table_number: '8' });
    const row = await tableRow(table.id);
    expect(row!.passwordVersion).toBe(2);
    expect(await verifyPassword('new-pass', row!.passwordHash)).toBe(true);

    const stale = await api('GET', '/api/customer/menus', { token: table.token });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('TOKEN_INVALID');
    // The tablet keeps its table: it logs in again, as itself, with the new password.
    const login = await api('POST', '/api/customer/auth/login', {
      body: { store_id: store.id, table_number: 8, password: 'new-pass', device_id: table.device },
    });
    expect(login.status).toBe(200);
    const fresh = await api('GET', '/api/customer/menus', { token: login.body.access_token });
    expect(fresh.status).toBe(200);
  });

  it('refuses a number another table of the store has (409 TABLE_NUMBER_TAKEN)', async () => {
    const store = await newStore();
    const table = await newTable(store.id, '1');
    await newTable(store.id, '2');
    const res = await api('PATCH', `/api/admin/tables/${table.id}`, {
      token: store.admin.token,
      body: { table_number: 2, password: 'changed' },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('TABLE_NUMBER_TAKEN');
    expect(await tableRow(table.id)).toMatchObject({ tableNumber: '1', passwordVersion: 1 });
  });

  it('answers 404 for another store’s table and leaves it alone', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirs = await newTable(other.id, '3');
    const res = await api('PATCH', `/api/admin/tables/${theirs.id}`, {
      token: store.admin.token,
      body: { table_number: 30, password: 'hijack' },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(await tableRow(theirs.id)).toMatchObject({ tableNumber: '3', passwordVersion: 1 });
    expect(await verifyPassword(PASSWORD, (await tableRow(theirs.id))!.passwordHash)).toBe(true);
  });

  it('answers 404 for an unknown table and 400 for a malformed id', async () => {
    const store = await newStore();
    const unknown = await api('PATCH', `/api/admin/tables/${nobody()}`, {
      token: store.admin.token,
      body: { table_number: 3 },
    });
    expect(unknown.status).toBe(404);
    const malformed = await api('PATCH', '/api/admin/tables/not-a-uuid', {
      token: store.admin.token,
      body: { table_number: 3 },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_ERROR');
  });

  it.each([
    ['nothing to change', {}],
    ['a negative table number', { table_number: -1 }],
    ['a password too short', { password: '12' }],
  ])('refuses %s (400)', async (_, body) => {
    const store = await newStore();
    const table = await newTable(store.id, '1');
    const res = await api('PATCH', `/api/admin/tables/${table.id}`, {
      token: store.admin.token,
      body,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(await tableRow(table.id)).toMatchObject({ tableNumber: '1', passwordVersion: 1 });
  });

  it('refuses a tablet (403)', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const res = await api('PATCH', `/api/admin/tables/${table.id}`, {
      token: table.token,
      body: { password: 'mine-now' },
    });
    expect(res.status).toBe(403);
  });
});

describe('removing a table', () => {
  it('removes a free table (204, no body)', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const res = await api('DELETE', `/api/admin/tables/${table.id}`, { token: store.admin.token });
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(await tableRow(table.id)).toBeUndefined();
  });

  it('refuses while a party is seated (409 TABLE_HAS_ACTIVE_SESSION), with or without orders', async () => {
    const store = await newStore();
    const { menus } = await newMenu(store.id);
    const empty = await newTable(store.id);
    const ordering = await newTable(store.id);
    const seated = await seatParty(store.id, empty.id);
    await seatParty(store.id, ordering.id, menus[0]);

    for (const table of [empty, ordering]) {
      const res = await api('DELETE', `/api/admin/tables/${table.id}`, {
        token: store.admin.token,
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('TABLE_HAS_ACTIVE_SESSION');
      expect(await tableRow(table.id)).toBeDefined();
    }
    const first = await api('DELETE', `/api/admin/tables/${empty.id}`, {
      token: store.admin.token,
    });
    expect(first.body.error.details).toEqual({ table_session_id: seated.sessionId });
  });

  it('removes a table after 이용 완료; its order history stays, no longer linked to the table', async () => {
    const store = await newStore();
    const { menus } = await newMenu(store.id);
    const table = await newTable(store.id, '11');
    const { sessionId } = await seatParty(store.id, table.id, menus[0]);
    const [historyId] = await completeStay(store.id, table.id, sessionId);

    const res = await api('DELETE', `/api/admin/tables/${table.id}`, { token: store.admin.token });

    expect(res.status).toBe(204);
    expect(await tableRow(table.id)).toBeUndefined();
    expect(await historyRow(historyId!)).toMatchObject({ tableId: null, tableNumber: '11' });
  });

  it('answers 404 for another store’s table and leaves it there', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirs = await newTable(other.id);
    const res = await api('DELETE', `/api/admin/tables/${theirs.id}`, {
      token: store.admin.token,
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(await tableRow(theirs.id)).toBeDefined();
  });

  it('answers 404 for an unknown table, 400 for a malformed id, 403 for a tablet', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const { token } = store.admin;
    expect((await api('DELETE', `/api/admin/tables/${nobody()}`, { token })).status).toBe(404);
    expect((await api('DELETE', '/api/admin/tables/123', { token })).status).toBe(400);
    const tablet = await api('DELETE', `/api/admin/tables/${table.id}`, { token: table.token });
    expect(tablet.status).toBe(403);
    expect(await tableRow(table.id)).toBeDefined();
  });
});
