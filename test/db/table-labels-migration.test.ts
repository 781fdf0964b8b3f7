/**
 * Migration 0003 turns table numbers into labels. A restaurant that already has tables and
 * history must come through it unchanged: same ids, same passwords (so no tablet is logged out),
 * the same numbers now as text, and from then on one label per table, whatever its case.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as applyMigrations } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../db/migrate.ts';
import { CONSTRAINTS } from '../../db/schema.ts';
import {
  createScratchDatabase,
  createTable,
  rejectionOf,
  type ScratchDatabase,
} from '../support/db-fixtures.ts';

const MIGRATIONS = fileURLToPath(new URL('../../db/migrations', import.meta.url));
/** The last migration of the schema whose table numbers were integers. */
const LAST_BEFORE_LABELS = '0002_history_retention';

/**
 * Applies the migrations up to and including `lastTag` with drizzle's own migrator, from a copy
 * of the folder whose journal stops there: the database records them as production would, so the
 * full `migrate()` afterwards applies exactly the rest.
 */
async function migrateUpTo(lastTag: string, databaseUrl: string): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'table-order-migrations-'));
  try {
    const journal = JSON.parse(await readFile(join(MIGRATIONS, 'meta/_journal.json'), 'utf8'));
    const last = journal.entries.findIndex((entry: { tag: string }) => entry.tag === lastTag);
    expect(last, `${lastTag} in the journal`).toBeGreaterThanOrEqual(0);
    journal.entries = journal.entries.slice(0, last + 1);
    await mkdir(join(folder, 'meta'));
    await writeFile(join(folder, 'meta/_journal.json'), JSON.stringify(journal));
    for (const { tag } of journal.entries as Array<{ tag: string }>) {
      await copyFile(join(MIGRATIONS, `${tag}.sql`), join(folder, `${tag}.sql`));
    }
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await applyMigrations(drizzle({ client }), { migrationsFolder: folder });
    } finally {
      await client.end();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

let scratch: ScratchDatabase;
let before: Awaited<ReturnType<typeof restaurantWithNumberedTables>>;

beforeAll(async () => {
  scratch = await createScratchDatabase((url) => migrateUpTo(LAST_BEFORE_LABELS, url));
  before = await restaurantWithNumberedTables();
  await migrate(scratch.url);
});

afterAll(async () => {
  await scratch?.drop();
});

/** What a restaurant had before the migration: tables 7 and 12, and table 7's history. */
async function restaurantWithNumberedTables() {
  const query = (text: string, values: unknown[] = []) => scratch.pool.query(text, values);
  const [store] = (await query(`insert into stores (name) values ('기존 가게') returning id`)).rows;
  const tables = (
    await query(
      `insert into dining_tables (store_id, table_number, password_hash)
       values ($1, 7, 'hash-of-seven'), ($1, 12, 'hash-of-twelve')
       returning id, table_number, password_hash`,
      [store.id],
    )
  ).rows;
  // Integers before: the test really starts from the old schema.
  expect(tables.map((table) => table.table_number)).toEqual([7, 12]);
  const [history] = (
    await query(
      `insert into order_history (store_id, table_id, table_number, table_session_id,
         original_order_id, order_number, status, total_amount, ordered_at, completed_at)
       values ($1, $2, 7, gen_random_uuid(), gen_random_uuid(), 1, 'delivered', 9000,
         now() - interval '1 hour', now())
       returning id`,
      [store.id, tables[0].id],
    )
  ).rows;
  return { storeId: store.id as string, tables, historyId: history.id as string };
}

describe('migrating table numbers to labels', () => {
  it('keeps every table’s id, password and number (as text), and the history’s number', async () => {
    const tables = await scratch.pool.query(
      `select id, table_number, pg_typeof(table_number)::text as type, password_hash,
         password_version
       from dining_tables where store_id = $1`,
      [before.storeId],
    );
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(tables.rows.sort(byId)).toEqual(
      before.tables
        .map((table) => ({
          id: table.id,
          table_number: String(table.table_number),
          type: 'text',
          password_hash: table.password_hash,
          password_version: 1,
        }))
        .sort(byId),
    );
    const history = await scratch.pool.query(
      `select table_id, table_number, pg_typeof(table_number)::text as type
       from order_history where id = $1`,
      [before.historyId],
    );
    expect(history.rows).toEqual([
      { table_id: before.tables[0].id, table_number: '7', type: 'text' },
    ]);
  });

  it('then refuses a label the store already has, whatever its case', async () => {
    await createTable(scratch.db, before.storeId, { tableNumber: 'A-1' });
    for (const tableNumber of ['7', 'a-1']) {
      const duplicate = createTable(scratch.db, before.storeId, { tableNumber });
      expect(await rejectionOf(duplicate)).toEqual({
        code: '23505',
        constraint: CONSTRAINTS.tableNumberTaken,
      });
    }
  });
});
