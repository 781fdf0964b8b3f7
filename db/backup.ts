/**
 * Nightly backup (Node only): `npm run db:backup` dumps `DATABASE_URL` (default: the local
 * development database) with `pg_dump -Fc` into `BACKUP_DIR` (default `./backups`) as
 * `table_order-<UTC time>.dump`, then deletes dumps older than `BACKUP_RETENTION_DAYS` (default 7).
 * Age is read from the file name, not the file's mtime: copying or restoring a backup folder
 * resets mtimes, and must not make old dumps look new (or new ones old).
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_DATABASE_URL } from './migrate.ts';

const execFileAsync = promisify(execFile);

const DAY_MS = 24 * 60 * 60 * 1000;
const BACKUP_NAME = /^table_order-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})Z\.dump$/;

/** `table_order-2026-03-02T04-00-00Z.dump` for 2026-03-02 04:00:00 UTC. */
export function backupFileName(takenAt: Date): string {
  const stamp = takenAt.toISOString().slice(0, 19).replaceAll(':', '-');
  return `table_order-${stamp}Z.dump`;
}

/** When the dump named `fileName` was taken, or undefined for any other file. */
export function backupTakenAt(fileName: string): Date | undefined {
  const parts = BACKUP_NAME.exec(fileName);
  if (!parts) return undefined;
  const [year, month, day, hour, minute, second] = parts.slice(1).map(Number) as number[];
  return new Date(Date.UTC(year!, month! - 1, day, hour, minute, second));
}

export interface BackupFile {
  readonly path: string;
  readonly takenAt: Date;
}

/** The dumps in `backupDir`, oldest first; a missing folder has none. */
export async function listBackups(backupDir: string): Promise<BackupFile[]> {
  const names = await readdir(backupDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return names
    .flatMap((name) => {
      const takenAt = backupTakenAt(name);
      return takenAt ? [{ path: join(backupDir, name), takenAt }] : [];
    })
    .sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime());
}

/** The most recent dump in `backupDir`, or undefined when there is none. */
export async function newestBackup(backupDir: string): Promise<BackupFile | undefined> {
  return (await listBackups(backupDir)).at(-1);
}

/**
 * How to hand a database URL to pg_dump/pg_restore/psql: the URL without its password as
 * `--dbname`, the password in `PGPASSWORD` — arguments are visible to every user in `ps`.
 */
export function pgConnection(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (url.password !== '') {
    env.PGPASSWORD = decodeURIComponent(url.password);
    url.password = '';
  }
  return { dbname: url.toString(), env };
}

/** Runs one of PostgreSQL's client programs; its stderr becomes the error message on failure. */
export async function runPgProgram(program: string, args: string[], env: NodeJS.ProcessEnv) {
  try {
    return await execFileAsync(program, args, { env, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    const reason = stderr || (error as Error).message;
    throw new Error(`${program} failed: ${reason}`, { cause: error });
  }
}

export interface BackupOptions {
  databaseUrl: string;
  backupDir: string;
  /** The time written into the file name; defaults to now. */
  takenAt?: Date;
}

/**
 * Dumps the database in pg_dump's custom format and returns the dump's path. The dump is written
 * under a temporary name and renamed when complete, so a failed run never leaves a truncated file
 * that would pass for the newest backup.
 */
export async function backupDatabase(options: BackupOptions): Promise<BackupFile> {
  const takenAt = options.takenAt ?? new Date();
  await mkdir(options.backupDir, { recursive: true });
  const path = join(options.backupDir, backupFileName(takenAt));
  const partial = `${path}.partial`;
  const { dbname, env } = pgConnection(options.databaseUrl);
  try {
    await runPgProgram('pg_dump', ['--format=custom', '--file', partial, '--dbname', dbname], env);
    await rename(partial, path);
  } finally {
    await rm(partial, { force: true });
  }
  return { path, takenAt };
}

export interface PruneOptions {
  backupDir: string;
  retentionDays: number;
  now?: Date;
}

/**
 * Deletes dumps taken more than `retentionDays` before `now` and returns their paths. The newest
 * dump is always kept, so a backup job that has been failing for a week still leaves one.
 */
export async function pruneBackups(options: PruneOptions): Promise<string[]> {
  const cutoff = (options.now ?? new Date()).getTime() - options.retentionDays * DAY_MS;
  const backups = await listBackups(options.backupDir);
  const expired = backups.slice(0, -1).filter((backup) => backup.takenAt.getTime() < cutoff);
  for (const backup of expired) await rm(backup.path, { force: true });
  return expired.map((backup) => backup.path);
}

/** A positive number of days from the environment, or the default when unset. */
export function retentionDaysFrom(value: string | undefined, fallback = 7): number {
  if (value === undefined || value.trim() === '') return fallback;
  const days = Number(value);
  if (!Number.isFinite(days) || days <= 0) {
    throw new Error(`BACKUP_RETENTION_DAYS must be a positive number of days, got "${value}"`);
  }
  return days;
}

if (import.meta.main) {
  try {
    const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
    const backupDir = resolve(process.env.BACKUP_DIR ?? 'backups');
    const retentionDays = retentionDaysFrom(process.env.BACKUP_RETENTION_DAYS);
    const backup = await backupDatabase({ databaseUrl, backupDir });
    console.log(`backup: wrote ${backup.path}`);
    const removed = await pruneBackups({ backupDir, retentionDays });
    for (const path of removed)
      console.log(`backup: removed ${path} (older than ${retentionDays} days)`);
  } catch (error) {
    console.error(`backup: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
