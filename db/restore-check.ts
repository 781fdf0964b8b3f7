/**
 * Proves the newest backup restores (Node only): `npm run db:restore-check` restores the newest
 * dump in `BACKUP_DIR` (default `./backups`) into a scratch database
 * `table_order_restore_check_<random>`, compares it with `DATABASE_URL` (default: the local
 * development database), prints one line per table and exits non-zero on any difference. The
 * scratch database is dropped afterwards, whatever happened.
 *
 * Every table's row count is compared, and the orders and their history row by row (an md5 of
 * all rows in a fixed order). The comparison is against the database as it is *now*: run it right
 * after the backup, or while nobody orders, or it reports the orders placed in between.
 * The scratch database lives on the source's server unless `RESTORE_CHECK_DATABASE_URL` names
 * another one (any database on it; it is only used to create and drop the scratch database).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { newestBackup, pgConnection, runPgProgram } from './backup.ts';
import { DEFAULT_DATABASE_URL, quoteIdentifier } from './migrate.ts';

/** The tables whose content, not only their size, must survive a restore. */
export const CHECKSUMMED_TABLES = ['orders', 'order_items', 'order_history', 'order_history_items'];

export interface TableComparison {
  /** `schema.table`. */
  readonly table: string;
  /** Row counts; null when the table is missing on that side. */
  readonly sourceRows: number | null;
  readonly restoredRows: number | null;
  /** md5 of the table's rows, for the checksummed tables only. */
  readonly sourceChecksum?: string;
  readonly restoredChecksum?: string;
  readonly matches: boolean;
}

export interface RestoreCheckResult {
  readonly dumpFile: string;
  readonly scratchDatabase: string;
  readonly tables: TableComparison[];
  /** True when every table matches. */
  readonly ok: boolean;
}

export interface RestoreCheckOptions {
  databaseUrl: string;
  backupDir: string;
  /** Where to create the scratch database; defaults to the source's server. */
  scratchServerUrl?: string | undefined;
}

type Snapshot = Map<string, { rows: number; checksum?: string }>;

/** Restores the newest dump of `backupDir` into a scratch database and compares it with the source. */
export async function restoreCheck(options: RestoreCheckOptions): Promise<RestoreCheckResult> {
  const backup = await newestBackup(options.backupDir);
  if (!backup) throw new Error(`no backup found in ${options.backupDir}`);

  const scratchDatabase = `table_order_restore_check_${randomBytes(6).toString('hex')}`;
  const scratchUrl = new URL(options.scratchServerUrl ?? options.databaseUrl);
  scratchUrl.pathname = `/${scratchDatabase}`;
  await onMaintenanceDatabase(scratchUrl, `create database ${quoteIdentifier(scratchDatabase)}`);
  try {
    const { dbname, env } = pgConnection(scratchUrl.toString());
    await runPgProgram(
      'pg_restore',
      ['--no-owner', '--no-privileges', '--exit-on-error', '--dbname', dbname, backup.path],
      env,
    );
    const [source, restored] = await Promise.all([
      snapshot(options.databaseUrl),
      snapshot(scratchUrl.toString()),
    ]);
    const tables = compare(source, restored);
    return {
      dumpFile: backup.path,
      scratchDatabase,
      tables,
      ok: tables.every((table) => table.matches),
    };
  } finally {
    await onMaintenanceDatabase(
      scratchUrl,
      `drop database if exists ${quoteIdentifier(scratchDatabase)} with (force)`,
    );
  }
}

/** Runs one statement on the `postgres` database of the server that `url` points at. */
async function onMaintenanceDatabase(url: URL, statement: string): Promise<void> {
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Row counts of every user table, and checksums of the checksummed ones. */
async function snapshot(databaseUrl: string): Promise<Snapshot> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Rows are hashed as text, and timestamps' text depends on these two settings.
    await client.query(`set timezone to 'UTC'; set datestyle to 'ISO, YMD'`);
    const { rows: tables } = await client.query<{ schema: string; name: string }>(
      `select table_schema as schema, table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
        order by 1, 2`,
    );
    const result: Snapshot = new Map();
    for (const { schema, name } of tables) {
      const relation = `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
      const { rows } = await client.query<{ count: string; checksum: string | null }>(
        schema === 'public' && CHECKSUMMED_TABLES.includes(name)
          ? `select count(*) as count,
                    md5(coalesce(string_agg(t::text, E'\\n' order by t::text collate "C"), ''))
                      as checksum
               from ${relation} t`
          : `select count(*) as count, null as checksum from ${relation}`,
      );
      const [row] = rows;
      result.set(`${schema}.${name}`, {
        rows: Number(row?.count ?? 0),
        ...(row?.checksum ? { checksum: row.checksum } : {}),
      });
    }
    return result;
  } finally {
    await client.end();
  }
}

function compare(source: Snapshot, restored: Snapshot): TableComparison[] {
  const names = [...new Set([...source.keys(), ...restored.keys()])].sort();
  for (const table of CHECKSUMMED_TABLES) {
    if (!names.includes(`public.${table}`)) names.push(`public.${table}`);
  }
  return names.map((table) => {
    const before = source.get(table);
    const after = restored.get(table);
    return {
      table,
      sourceRows: before?.rows ?? null,
      restoredRows: after?.rows ?? null,
      ...(before?.checksum ? { sourceChecksum: before.checksum } : {}),
      ...(after?.checksum ? { restoredChecksum: after.checksum } : {}),
      matches:
        before !== undefined &&
        after !== undefined &&
        before.rows === after.rows &&
        before.checksum === after.checksum,
    };
  });
}

/** The comparison as a fixed-width table for a terminal or a CI log. */
export function formatRestoreCheck(result: RestoreCheckResult): string {
  const header = ['table', 'source rows', 'restored rows', 'checksum', 'result'];
  const lines = result.tables.map((t) => [
    t.table,
    t.sourceRows === null ? 'missing' : String(t.sourceRows),
    t.restoredRows === null ? 'missing' : String(t.restoredRows),
    t.sourceChecksum === undefined && t.restoredChecksum === undefined
      ? '-'
      : t.sourceChecksum === t.restoredChecksum
        ? 'same'
        : 'different',
    t.matches ? 'ok' : 'MISMATCH',
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...lines].map((row) => row[i]!.length)));
  const format = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    `restore check of ${result.dumpFile}`,
    format(header),
    ...lines.map(format),
    result.ok ? 'restore check: OK' : 'restore check: MISMATCH',
  ].join('\n');
}

if (import.meta.main) {
  try {
    const result = await restoreCheck({
      databaseUrl: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
      backupDir: resolve(process.env.BACKUP_DIR ?? 'backups'),
      scratchServerUrl: process.env.RESTORE_CHECK_DATABASE_URL || undefined,
    });
    console.log(formatRestoreCheck(result));
    if (!result.ok) process.exitCode = 1;
  } catch (error) {
    console.error(`restore check: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
