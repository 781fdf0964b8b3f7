import { z } from '@hono/zod-openapi';
import { and, count, desc, eq, sql } from 'drizzle-orm';
import { ADMIN_ROLES, auditLog, stores, type AdminRole } from '../../db/schema.ts';
import type { Database, Transaction } from './database.ts';
import { onStoreDays, type StoreDays } from './store-days.ts';

/** Who made a change: a store admin or a super admin, as the audit trail and events name them. */
export type Actor = { role: AdminRole; id: string };

/**
 * The actor a verified admin or super-admin token speaks for (the caller's `Principal`, named by
 * shape so that the rules do not depend on the token code).
 */
export function actorOf(principal: { role: AdminRole | 'table'; sub: string }): Actor {
  if (principal.role === 'table') throw new Error('a table is no actor of the audit trail');
  return { role: principal.role, id: principal.sub };
}

/**
 * One write, as the audit trail keeps it. `action` is `<target>.<verb>` in the past tense of the
 * restaurant (`order.cancelled`, `table.moved`, `menu.updated`); `details` holds what the
 * owner would ask about later (a reason, the from/to of a change), never a secret.
 */
export type AuditEntry = {
  /** The store the write concerns (null only for what belongs to no store). */
  storeId: string | null;
  actor: Actor;
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
};

/**
 * Records a write in the audit trail inside the write's own transaction: it exists if, and only
 * if, the write commits.
 */
export async function recordAudit(tx: Transaction, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    storeId: entry.storeId,
    actorRole: entry.actor.role,
    actorId: entry.actor.id,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    details: entry.details ?? {},
  });
}

/**
 * The fields a change was given, by their API names (those left out are undefined): what the
 * audit trail says an admin changed.
 */
export function changedFields(fields: Record<string, unknown>): string[] {
  return Object.entries(fields).flatMap(([field, value]) => (value === undefined ? [] : [field]));
}

/** One row of the audit trail, as the store admin reads it. */
export const AuditEntrySchema = z
  .object({
    id: z.number().int().openapi({ description: 'increasing in the order the rows were written' }),
    actor_role: z.enum(ADMIN_ROLES),
    actor_id: z.uuid(),
    action: z.string().openapi({ example: 'menu.updated', description: '<target>.<past verb>' }),
    target_type: z.string().openapi({ example: 'menu' }),
    target_id: z.string(),
    at: z.string().openapi({ format: 'date-time' }),
    details: z.record(z.string(), z.unknown()).openapi({
      example: { name: '김치찌개', changed: ['price'] },
      description: 'what the change was about (a reason, what changed), never a password',
    }),
  })
  .openapi('AuditEntry');
export type AuditEntryView = z.infer<typeof AuditEntrySchema>;

/** Which page of the trail, and which store-local days. */
export type AuditQuery = StoreDays & { page: number; pageSize: number };

/**
 * One page of the store's audit trail, newest first (rows of the same instant: the one written
 * last first). `from`/`to` are days in the store's timezone, like the order history's.
 */
export async function auditTrail(
  db: Database,
  storeId: string,
  query: AuditQuery,
): Promise<{ entries: AuditEntryView[]; totalCount: number }> {
  const timezone = sql`(select ${stores.timezone} from ${stores} where ${stores.id} = ${storeId})`;
  const where = and(eq(auditLog.storeId, storeId), onStoreDays(auditLog.at, query, timezone));
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(auditLog)
      .where(where)
      .orderBy(desc(auditLog.at), desc(auditLog.id))
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize),
    db.select({ value: count() }).from(auditLog).where(where),
  ]);
  return {
    totalCount: total?.value ?? 0,
    entries: rows.map((row) => ({
      id: row.id,
      actor_role: row.actorRole,
      actor_id: row.actorId,
      action: row.action,
      target_type: row.targetType,
      target_id: row.targetId,
      at: row.at.toISOString(),
      details: row.details,
    })),
  };
}
