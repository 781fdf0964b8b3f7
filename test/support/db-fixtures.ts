/**
 * Database fixtures for Node tests: a scratch database per test file, and small builders for the
 * rows a restaurant has (store, table, session, category, menu, order). Builders take overrides so
 * a test states only what it is about.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { ensureDatabase, migrate, quoteIdentifier } from '../../db/migrate.ts';
import * as schema from '../../db/schema.ts';
import type { Database } from '../../worker/domain/database.ts';
import { domainDatabase } from './domain-database.ts';
import { testServices } from './services.ts';

export type TestDatabase = NodePgDatabase<typeof schema>;

export interface ScratchDatabase {
  readonly url: string;
  readonly name: string;
  readonly pool: pg.Pool;
  readonly db: TestDatabase;
  /** The same pool as the Worker's domain functions take it (worker/domain/). */
  readonly domain: Database;
  /** Closes the pool and drops the database, even if a test left connections open. */
  drop(): Promise<void>;
}

/**
 * A new database named `table_order_t_<random>` on the test server, migrated by `migrateWith`:
 * to the newest migration unless a test needs an older schema.
 */
export async function createScratchDatabase(
  migrateWith: (databaseUrl: string) => Promise<void> = migrate,
): Promise<ScratchDatabase> {
  const name = `table_order_t_${randomBytes(6).toString('hex')}`;
  const url = new URL(testServices().databaseUrl);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  await migrateWith(url.toString());
  const pool = new pg.Pool({ connectionString: url.toString(), max: 10 });
  // pool.end() resolves before its sockets close; dropping the database while they still linger
  // would terminate them with an error nobody listens to, so wait for each connection's own end.
  const connectionsEnded: Promise<unknown>[] = [];
  pool.on('connect', (client) => connectionsEnded.push(once(client, 'end')));
  return {
    url: url.toString(),
    name,
    pool,
    db: drizzle({ client: pool, schema }),
    domain: domainDatabase(pool),
    async drop() {
      await pool.end();
      await Promise.all(connectionsEnded);
      const maintenance = new URL(url);
      maintenance.pathname = '/postgres';
      const client = new pg.Client({ connectionString: maintenance.toString() });
      await client.connect();
      try {
        await client.query(`drop database if exists ${quoteIdentifier(name)} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** What PostgreSQL said when it refused a statement (drizzle wraps it in `cause`). */
export interface Rejection {
  code: string | undefined;
  constraint: string | undefined;
}

/** Awaits a statement that must fail, and returns the SQLSTATE and constraint it failed on. */
export async function rejectionOf(statement: PromiseLike<unknown>): Promise<Rejection> {
  try {
    await statement;
  } catch (error) {
    const pgError = findPgError(error);
    if (pgError) return { code: pgError.code, constraint: pgError.constraint };
    throw error;
  }
  throw new Error('expected the database to reject the statement, but it was accepted');
}

function findPgError(error: unknown): pg.DatabaseError | undefined {
  if (error instanceof pg.DatabaseError) return error;
  if (error instanceof Error && error.cause !== undefined) return findPgError(error.cause);
  return undefined;
}

export const TODAY = '2026-03-02';

export async function createStore(db: TestDatabase, values: Partial<schema.Store> = {}) {
  const [store] = await db
    .insert(schema.stores)
    .values({ name: `store ${randomBytes(3).toString('hex')}`, ...values })
    .returning();
  return store!;
}

export async function createTable(
  db: TestDatabase,
  storeId: string,
  values: Partial<schema.DiningTable> = {},
) {
  const [table] = await db
    .insert(schema.diningTables)
    .values({ storeId, tableNumber: '1', passwordHash: 'hash', ...values })
    .returning();
  return table!;
}

export async function openSession(db: TestDatabase, table: { id: string; storeId: string }) {
  const [session] = await db
    .insert(schema.tableSessions)
    .values({ storeId: table.storeId, tableId: table.id })
    .returning();
  return session!;
}

export async function createCategory(
  db: TestDatabase,
  storeId: string,
  values: Partial<schema.MenuCategory> = {},
) {
  const [category] = await db
    .insert(schema.menuCategories)
    .values({ storeId, name: `category ${randomBytes(3).toString('hex')}`, ...values })
    .returning();
  return category!;
}

export async function createMenu(
  db: TestDatabase,
  category: { id: string; storeId: string },
  values: Partial<schema.Menu> = {},
) {
  const [menu] = await db
    .insert(schema.menus)
    .values({
      storeId: category.storeId,
      categoryId: category.id,
      name: '김치찌개',
      price: 9000,
      ...values,
    })
    .returning();
  return menu!;
}

export async function createOrder(
  db: TestDatabase,
  session: { id: string; storeId: string; tableId: string },
  values: Partial<schema.Order> = {},
) {
  const [order] = await db
    .insert(schema.orders)
    .values({
      storeId: session.storeId,
      tableId: session.tableId,
      tableSessionId: session.id,
      orderNumber: 1,
      totalAmount: 9000,
      businessDate: TODAY,
      ...values,
    })
    .returning();
  return order!;
}

/** A store with one table whose guests have an open session: the usual starting point. */
export async function seatedTable(db: TestDatabase) {
  const store = await createStore(db);
  const table = await createTable(db, store.id);
  const session = await openSession(db, table);
  return { store, table, session };
}
