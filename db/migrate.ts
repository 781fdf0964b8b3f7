/**
 * Applies db/migrations to a database (Node only). `npx node db/migrate.ts` migrates
 * `DATABASE_URL` (default: the local development database) and exits non-zero on failure.
 */
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as applyMigrations } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://root@127.0.0.1:5432/table_order';

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Any constant works; it only has to be the same for every process that migrates. */
const MIGRATION_LOCK_KEY = 727_061_001;

/**
 * Brings the database up to the newest migration; already applied migrations are skipped.
 * Holds an advisory lock meanwhile, because drizzle's migrator reads "what is applied" before its
 * transaction, and two relay containers or test runs starting at once would both apply.
 */
export async function migrate(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await applyMigrations(drizzle({ client }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

/**
 * Creates the database named in `databaseUrl` when it does not exist yet (local development and
 * tests; hosted databases are created by their provider). Connects to the `postgres` maintenance
 * database with the same credentials.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (name === '') throw new Error('ensureDatabase: the database URL names no database');
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount !== 0) return;
    await client.query(`create database ${quoteIdentifier(name)}`);
  } catch (error) {
    // Another process created it between our check and our create.
    if (!isPgError(error, '42P04') && !isPgError(error, '23505')) throw error;
  } finally {
    await client.end();
  }
}

/** `"name"` with embedded quotes doubled: safe for any database name. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** True when `error`, or the driver error drizzle wrapped in it, has SQLSTATE `code`. */
function isPgError(error: unknown, code: string): boolean {
  if (!(error instanceof Error)) return false;
  if ('code' in error && error.code === code) return true;
  return error.cause !== undefined && isPgError(error.cause, code);
}

/** The error's message and its causes' (drizzle puts the query first and the reason in `cause`). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause === undefined ? error.message : `${error.message}: ${describe(error.cause)}`;
}

/** The URL without its password, for messages. */
function redact(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

if (import.meta.main) {
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  try {
    await migrate(databaseUrl);
    console.log(`migrate: ${redact(databaseUrl)} is up to date`);
  } catch (error) {
    const reason = describe(error);
    const hint = isPgError(error, '3D000') ? ' (create it first, e.g. with `npm run dev`)' : '';
    console.error(`migrate: failed to migrate ${redact(databaseUrl)}: ${reason}${hint}`);
    process.exitCode = 1;
  }
}
