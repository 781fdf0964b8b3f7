import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { tableRow } from './support/catalog.ts';
import {
  api,
  newStore,
  newTable,
  PASSWORD,
  withDb,
  type StoreFixture,
} from './support/fixtures.ts';
import { randomIp } from './support/tokens.ts';

const TABLE_LOGIN = '/api/customer/auth/login';

/** The admin sets up a table named `label` (a string or a number), as the admin screen does. */
function addTable(store: StoreFixture, label: unknown, password = 'secret') {
  return api('POST', '/api/admin/tables', {
    token: store.admin.token,
    body: { table_number: label, password },
  });
}

/** The admin renames a table. */
function renameTable(store: StoreFixture, tableId: string, label: unknown) {
  return api('PATCH', `/api/admin/tables/${tableId}`, {
    token: store.admin.token,
    body: { table_number: label },
  });
}

/**
 * A tablet logs in with the store, a label (or number) and a password (the right one unless
 * given), from a client address of its own and as a tablet of its own (`device`) unless given.
 */
function tabletLogin(
  storeId: string,
  label: unknown,
  {
    password = PASSWORD,
    ip = randomIp(),
    device = crypto.randomUUID(),
  }: { password?: string; ip?: string; device?: string } = {},
) {
  return api('POST', TABLE_LOGIN, {
    body: { store_id: storeId, table_number: label, password, device_id: device },
    headers: { 'cf-connecting-ip': ip },
  });
}

/** The labels of the store's table list, in the order the list answers them. */
async function listedLabels(store: StoreFixture): Promise<string[]> {
  const res = await api('GET', '/api/admin/tables', { token: store.admin.token });
  expect(res.status).toBe(200);
  return res.body.tables.map((table: { table_number: string }) => table.table_number);
}

/** Every row of the store's tables, straight from the database. */
function tableRowsOf(storeId: string) {
  return withDb((db) =>
    db.select().from(schema.diningTables).where(eq(schema.diningTables.storeId, storeId)),
  );
}

describe('naming a table with a label', () => {
  it('keeps the label as written, without surrounding spaces, and answers it as text', async () => {
    const store = await newStore();
    const res = await addTable(store, '  테라스 3 ');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ table_number: '테라스 3', active_session_id: null });
    expect(await tableRow(res.body.id)).toMatchObject({ tableNumber: '테라스 3' });
    expect(await listedLabels(store)).toEqual(['테라스 3']);
  });

  it('takes a whole number and keeps it as its decimal text (0 included)', async () => {
    const store = await newStore();
    const seven = await addTable(store, 7);
    const zero = await addTable(store, 0);
    expect(seven.status, JSON.stringify(seven.body)).toBe(201);
    expect(seven.body.table_number).toBe('7');
    expect(zero.body.table_number).toBe('0');
    expect(await tableRow(seven.body.id)).toMatchObject({ tableNumber: '7' });

    const renamed = await renameTable(store, seven.body.id, 12);
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.table_number).toBe('12');
    expect(await listedLabels(store)).toEqual(['0', '12']);
  });

  it('accepts a label of 20 characters, Korean ones included', async () => {
    const store = await newStore();
    const latin = await addTable(store, 'x'.repeat(20));
    const korean = await addTable(store, '가'.repeat(20));
    expect(latin.status, JSON.stringify(latin.body)).toBe(201);
    expect(korean.status, JSON.stringify(korean.body)).toBe(201);
    expect(korean.body.table_number).toBe('가'.repeat(20));
  });

  it('renames a table, or just changes the case of its own label', async () => {
    const store = await newStore();
    const table = await newTable(store.id, 'A-1');
    const recased = await renameTable(store, table.id, 'a-1');
    expect(recased.status, JSON.stringify(recased.body)).toBe(200);
    expect(recased.body).toMatchObject({ id: table.id, table_number: 'a-1' });
    const renamed = await renameTable(store, table.id, '창가 2');
    expect(renamed.body.table_number).toBe('창가 2');
    expect(await tableRow(table.id)).toMatchObject({ tableNumber: '창가 2' });
  });
});

describe('one label per table, whatever the case', () => {
  it('refuses a label another table has in another case (409 TABLE_NUMBER_TAKEN)', async () => {
    const store = await newStore();
    await newTable(store.id, 'A-1');
    const res = await addTable(store, 'a-1');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'TABLE_NUMBER_TAKEN',
      details: { table_number: 'a-1' },
    });
    expect(await listedLabels(store)).toEqual(['A-1']);
  });

  it('refuses a number whose text another table has (409)', async () => {
    const store = await newStore();
    await newTable(store.id, '7');
    const res = await addTable(store, 7);
    expect(res.status).toBe(409);
    expect(res.body.error.details).toEqual({ table_number: '7' });
  });

  it('refuses to rename a table to another table’s label in another case (409), and changes nothing', async () => {
    const store = await newStore();
    await newTable(store.id, 'Bar-3');
    const table = await newTable(store.id, '4');
    const res = await renameTable(store, table.id, 'BAR-3');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('TABLE_NUMBER_TAKEN');
    expect(await tableRow(table.id)).toMatchObject({ tableNumber: '4' });
  });

  it('lets another store use the same label', async () => {
    const store = await newStore();
    const other = await newStore();
    await newTable(other.id, 'A-1');
    expect((await addTable(store, 'a-1')).status).toBe(201);
  });

  it('gives one table and one 409 when two admins add "b-7" and "B-7" at once', async () => {
    const store = await newStore();
    const answers = await Promise.all([addTable(store, 'b-7'), addTable(store, 'B-7')]);
    expect(answers.map((res) => res.status).sort()).toEqual([201, 409]);
    expect(answers.find((res) => res.status === 409)!.body.error.code).toBe('TABLE_NUMBER_TAKEN');
    const rows = await tableRowsOf(store.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(answers.find((res) => res.status === 201)!.body.id);
  });
});

describe('labels the API refuses (400 VALIDATION_ERROR)', () => {
  const badLabels: Array<[string, unknown]> = [
    ['an empty label', ''],
    ['a label of 21 characters', 'x'.repeat(21)],
    ['a label of spaces only', '   '],
    ['a label with a line break', 'A\n1'],
    ['a label with a tab', '\t7'],
    ['a label with a NUL', 'A\u00001'],
    ['a label with a C1 control character', 'A\u00851'],
    ['a negative number', -1],
    ['a fractional number', 1.5],
    ['a number beyond exact integers', 2 ** 53],
    ['true', true],
    ['null', null],
  ];

  it.each(badLabels)('a new table with %s', async (_, label) => {
    const store = await newStore();
    const res = await addTable(store, label);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(await tableRowsOf(store.id)).toEqual([]);
  });

  it.each(badLabels)('a rename to %s', async (_, label) => {
    const store = await newStore();
    const table = await newTable(store.id, 'A-1');
    const res = await renameTable(store, table.id, label);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(await tableRow(table.id)).toMatchObject({ tableNumber: 'A-1' });
  });

  it.each(badLabels)('a tablet login with %s', async (_, label) => {
    const res = await tabletLogin(crypto.randomUUID(), label);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('answers 404 when renaming another store’s table, and leaves it alone', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirs = await newTable(other.id, 'A-1');
    const res = await renameTable(store, theirs.id, 'mine');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(await tableRow(theirs.id)).toMatchObject({ tableNumber: 'A-1' });
  });
});

describe('a tablet logging in by its label', () => {
  it('finds the table whatever the case, and answers the label as set up', async () => {
    const store = await newStore();
    const table = await newTable(store.id, 'A-1');
    const res = await tabletLogin(store.id, 'a-1', { device: table.device });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.table).toEqual({ id: table.id, table_number: 'A-1' });
  });

  it('finds the table "7" by the number 7, and by " 7 "', async () => {
    const store = await newStore();
    const table = await newTable(store.id, '7');
    for (const label of [7, ' 7 ']) {
      const res = await tabletLogin(store.id, label, { device: table.device });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.table).toEqual({ id: table.id, table_number: '7' });
    }
  });

  it('counts wrong passwords for "A-1" and "a-1" as one table’s', async () => {
    const store = await newStore();
    await newTable(store.id, 'A-1');
    const ip = randomIp();
    for (const label of ['A-1', 'a-1', 'A-1', 'a-1', 'A-1']) {
      const res = await tabletLogin(store.id, label, { password: 'wrong-password', ip });
      expect(res.status).toBe(401);
    }
    const throttled = await tabletLogin(store.id, 'a-1', { ip });
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe('RATE_LIMITED');
  });

  it('does not read "07" as table "7", nor find a label in another store (401)', async () => {
    const store = await newStore();
    const other = await newStore();
    await newTable(store.id, '7');
    await newTable(other.id, 'A-1');
    for (const res of [await tabletLogin(store.id, '07'), await tabletLogin(store.id, 'A-1')]) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    }
  });
});

describe('tables in natural order', () => {
  const created = ['10', 'A-10', 'b-1', '2', '테라스 3', 'a-2', '1', 'A-1'];
  // Korean order: numbers first, then Hangul, then Latin letters.
  const natural = ['1', '2', '10', '테라스 3', 'A-1', 'a-2', 'A-10', 'b-1'];

  it('lists the tables "2" before "10" and "A-2" before "A-10", ignoring case', async () => {
    const store = await newStore();
    for (const label of created) await newTable(store.id, label);
    expect(await listedLabels(store)).toEqual(natural);
  });

  it('shows the floor (dashboard) in the same order', async () => {
    const store = await newStore();
    for (const label of created) await newTable(store.id, label);
    const res = await api('GET', '/api/admin/dashboard', { token: store.admin.token });
    expect(res.status).toBe(200);
    expect(res.body.tables.map((t: { table_number: string }) => t.table_number)).toEqual(natural);
  });

  it('orders labels that read the same ("Cafe", "Café") by table id', async () => {
    const store = await newStore();
    const tables = [await newTable(store.id, 'Café'), await newTable(store.id, 'Cafe')];
    const byId = tables.map((t) => t.id).sort();
    const res = await api('GET', '/api/admin/tables', { token: store.admin.token });
    expect(res.body.tables.map((t: { id: string }) => t.id)).toEqual(byId);
    const floor = await api('GET', '/api/admin/dashboard', { token: store.admin.token });
    expect(floor.body.tables.map((t: { id: string }) => t.id)).toEqual(byId);
  });
});
