/**
 * Backups with the machine's pg_dump/pg_restore: a dump named by its UTC time, pruning by that
 * name, and a restore check that catches a database that no longer matches its backup.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backupDatabase,
  backupFileName,
  backupTakenAt,
  newestBackup,
  pruneBackups,
} from '../../db/backup.ts';
import { formatRestoreCheck, restoreCheck } from '../../db/restore-check.ts';
import * as schema from '../../db/schema.ts';
import { isolatedEnv } from '../support/child-env.ts';
import {
  createCategory,
  createMenu,
  createOrder,
  createScratchDatabase,
  seatedTable,
  type ScratchDatabase,
} from '../support/db-fixtures.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const restoreCheckScript = fileURLToPath(new URL('../../db/restore-check.ts', import.meta.url));

let scratch: ScratchDatabase;
let backupDir: string;
let orderId: string;

/** A store's evening: an order with two lines, and a finished order already in the history. */
async function serveAnEvening(): Promise<string> {
  const { db } = scratch;
  const { store, table, session } = await seatedTable(db);
  const menu = await createMenu(db, await createCategory(db, store.id));
  const order = await createOrder(db, session, { totalAmount: 27000 });
  await db.insert(schema.orderItems).values([
    {
      orderId: order.id,
      menuId: menu.id,
      position: 0,
      menuName: '김치찌개',
      unitPrice: 9000,
      quantity: 2,
      subtotal: 18000,
    },
    {
      orderId: order.id,
      menuId: menu.id,
      position: 1,
      menuName: '공기밥',
      unitPrice: 9000,
      quantity: 1,
      subtotal: 9000,
    },
  ]);
  const [history] = await db
    .insert(schema.orderHistory)
    .values({
      storeId: store.id,
      tableId: table.id,
      tableNumber: table.tableNumber,
      tableSessionId: crypto.randomUUID(),
      originalOrderId: crypto.randomUUID(),
      orderNumber: 7,
      status: 'delivered',
      totalAmount: 9000,
      orderedAt: new Date('2026-03-01T11:00:00Z'),
      completedAt: new Date('2026-03-01T12:00:00Z'),
    })
    .returning();
  await db.insert(schema.orderHistoryItems).values({
    orderHistoryId: history!.id,
    menuId: menu.id,
    position: 0,
    menuName: '김치찌개',
    unitPrice: 9000,
    quantity: 1,
    subtotal: 9000,
  });
  return order.id;
}

function runRestoreCheckScript(): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [restoreCheckScript],
      { env: isolatedEnv({ DATABASE_URL: scratch.url, BACKUP_DIR: backupDir }) },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    return rowCount !== 0;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  scratch = await createScratchDatabase();
  backupDir = await mkdtemp(join(tmpdir(), 'table-order-backups-'));
  orderId = await serveAnEvening();
});

afterAll(async () => {
  await scratch?.drop();
  if (backupDir) await rm(backupDir, { recursive: true, force: true });
});

describe('nightly backup', () => {
  it('writes a pg_dump custom-format file named after the UTC time it was taken', async () => {
    const takenAt = new Date('2026-03-02T04:00:05Z');
    const backup = await backupDatabase({ databaseUrl: scratch.url, backupDir, takenAt });

    expect(backup.path).toBe(join(backupDir, 'table_order-2026-03-02T04-00-05Z.dump'));
    const header = (await readFile(backup.path)).subarray(0, 5).toString('latin1');
    expect(header).toBe('PGDMP');
    expect(backupTakenAt('table_order-2026-03-02T04-00-05Z.dump')).toEqual(takenAt);
    expect((await newestBackup(backupDir))?.path).toBe(backup.path);
    expect(await readdir(backupDir)).not.toContainEqual(expect.stringMatching(/partial/));
  });

  it('deletes dumps older than the retention by the date in their name, not the file date', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'table-order-prune-'));
    try {
      const now = new Date('2026-03-10T04:00:00Z');
      const eightDaysOld = join(dir, backupFileName(new Date(now.getTime() - 8 * DAY_MS)));
      const sixDaysOld = join(dir, backupFileName(new Date(now.getTime() - 6 * DAY_MS)));
      const tonight = join(dir, backupFileName(now));
      const notABackup = join(dir, 'notes.txt');
      for (const file of [eightDaysOld, sixDaysOld, tonight, notABackup]) await writeFile(file, '');
      // Copied folders get fresh mtimes; a file's date must not decide.
      const longAgo = new Date('2020-01-01T00:00:00Z');
      await utimes(sixDaysOld, longAgo, longAgo);
      await utimes(notABackup, longAgo, longAgo);

      const removed = await pruneBackups({ backupDir: dir, retentionDays: 7, now });

      expect(removed).toEqual([eightDaysOld]);
      expect((await readdir(dir)).sort()).toEqual(
        [
          'notes.txt',
          backupFileName(new Date(now.getTime() - 6 * DAY_MS)),
          backupFileName(now),
        ].sort(),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the last dump even when every dump is past the retention', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'table-order-prune-'));
    try {
      const now = new Date('2026-03-10T04:00:00Z');
      const lastGood = backupFileName(new Date(now.getTime() - 30 * DAY_MS));
      await writeFile(join(dir, backupFileName(new Date(now.getTime() - 31 * DAY_MS))), '');
      await writeFile(join(dir, lastGood), '');

      await pruneBackups({ backupDir: dir, retentionDays: 7, now });

      expect(await readdir(dir)).toEqual([lastGood]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('restore check', () => {
  it('restores the newest dump and finds every table and every order identical', async () => {
    await backupDatabase({ databaseUrl: scratch.url, backupDir });

    const result = await restoreCheck({ databaseUrl: scratch.url, backupDir });

    expect(result.ok, formatRestoreCheck(result)).toBe(true);
    const byTable = new Map(result.tables.map((table) => [table.table, table]));
    expect(byTable.get('public.orders')).toMatchObject({ sourceRows: 1, restoredRows: 1 });
    expect(byTable.get('public.order_items')).toMatchObject({ sourceRows: 2, restoredRows: 2 });
    expect(byTable.get('public.order_history_items')?.sourceChecksum).toMatch(/^[0-9a-f]{32}$/);
    expect(byTable.has('public.stores')).toBe(true);
    expect(await databaseExists(result.scratchDatabase)).toBe(false);
  });

  it('reports a mismatch, and the script fails, when an order changed after the backup', async () => {
    await backupDatabase({ databaseUrl: scratch.url, backupDir });
    await scratch.db
      .update(schema.orders)
      .set({ totalAmount: 1 })
      .where(eq(schema.orders.id, orderId));

    const result = await restoreCheck({ databaseUrl: scratch.url, backupDir });

    expect(result.ok).toBe(false);
    const mismatched = result.tables.filter((table) => !table.matches).map((table) => table.table);
    expect(mismatched).toEqual(['public.orders']);
    expect(formatRestoreCheck(result)).toMatch(/public\.orders\s+1\s+1\s+different\s+MISMATCH/);
    expect(await databaseExists(result.scratchDatabase)).toBe(false);

    const script = await runRestoreCheckScript();
    expect(script.code).toBe(1);
    expect(script.stdout).toContain('restore check: MISMATCH');
  });
});
