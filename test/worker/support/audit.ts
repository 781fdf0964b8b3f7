/**
 * The audit trail in Worker tests: a store's rows read straight from the test database, rows
 * written with a chosen time (for the date edges of `GET /api/admin/audit`), and the read itself.
 */
import { asc, eq } from 'drizzle-orm';
import * as schema from '../../../db/schema.ts';
import { api, withDb } from './fixtures.ts';

/** The store's audit rows, oldest first, as the trail keeps them. */
export async function auditOf(storeId: string) {
  return withDb((db) =>
    db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.storeId, storeId))
      .orderBy(asc(schema.auditLog.id)),
  );
}

/** Every audit row of one actor (of any store, or of none), oldest first. */
export async function auditByActor(actorId: string) {
  return withDb((db) =>
    db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.actorId, actorId))
      .orderBy(asc(schema.auditLog.id)),
  );
}

/** One row of the audit trail as a test expects it (the database's names). */
export type ExpectedAudit = {
  actorRole: 'store_admin' | 'super_admin';
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
};

/** Writes an audit row of the store at `at`, as if an admin had made a change then. */
export async function auditRowAt(
  storeId: string,
  actorId: string,
  at: Date,
  action = 'menu.updated',
): Promise<{ id: number; at: Date }> {
  return withDb(async (db) => {
    const [row] = await db
      .insert(schema.auditLog)
      .values({
        storeId,
        actorRole: 'store_admin',
        actorId,
        action,
        targetType: 'menu',
        targetId: crypto.randomUUID(),
        at,
        details: { changed: ['price'] },
      })
      .returning({ id: schema.auditLog.id, at: schema.auditLog.at });
    return row!;
  });
}

/** `GET /api/admin/audit` with `query` (e.g. `?from=2026-03-01`), as the holder of `token`. */
export function readAudit(token: string, query = '') {
  return api('GET', `/api/admin/audit${query}`, { token });
}
