import { z } from '@hono/zod-openapi';
import { and, count, desc, eq, sql, type SQL } from 'drizzle-orm';
import { type Admin, admins, CONSTRAINTS, stores } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database, Transaction } from '../domain/database.ts';
import { recordAudit, type Actor } from './audit.ts';
import { violates } from './db-errors.ts';
import { hashPassword } from '../platform/passwords.ts';

/** A store admin account as the super admin sees it (never its password hash). */
export const StoreAdminSchema = z
  .object({
    id: z.uuid(),
    store_id: z.uuid(),
    username: z.string(),
    is_active: z.boolean(),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('StoreAdmin');
export type StoreAdminView = z.infer<typeof StoreAdminSchema>;

/**
 * `admins.store_id → stores.id`, named by drizzle-kit in migration 0000 (it has no entry in
 * `CONSTRAINTS`): an insert naming a store that does not exist fails on it.
 */
const ADMIN_STORE_FK = 'admins_store_id_stores_id_fk';

const columns = {
  id: admins.id,
  storeId: admins.storeId,
  username: admins.username,
  isActive: admins.isActive,
  createdAt: admins.createdAt,
};
type AdminRow = Pick<Admin, keyof typeof columns>;

function view(row: AdminRow): StoreAdminView {
  return {
    id: row.id,
    store_id: row.storeId!,
    username: row.username,
    is_active: row.isActive,
    created_at: row.createdAt.toISOString(),
  };
}

/** Keeps an account change in the audit trail of the admin's store (its username, no secret). */
function recordAccountChange(
  tx: Transaction,
  actor: Actor,
  action: 'admin.created' | 'admin.activated' | 'admin.deactivated',
  admin: AdminRow,
) {
  return recordAudit(tx, {
    storeId: admin.storeId,
    actor,
    action,
    targetType: 'admin',
    targetId: admin.id,
    details: { username: admin.username },
  });
}

const storeNotFound = () => new ApiError(404, 'NOT_FOUND', '매장을 찾을 수 없습니다.');
const adminNotFound = () => new ApiError(404, 'NOT_FOUND', '관리자 계정을 찾을 수 없습니다.');

/**
 * Creates a store admin. The database decides both failures in the one insert, without a racy
 * look-up first: the per-store username unique → 409 USERNAME_TAKEN, the store foreign key → 404.
 */
export async function createStoreAdmin(
  db: Database,
  actor: Actor,
  input: { storeId: string; username: string; password: string },
): Promise<StoreAdminView> {
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.transaction(async (tx) => {
      const [admin] = await tx
        .insert(admins)
        .values({
          storeId: input.storeId,
          username: input.username,
          passwordHash,
          role: 'store_admin',
        })
        .returning(columns);
      await recordAccountChange(tx, actor, 'admin.created', admin!);
      return view(admin!);
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.storeAdminUsernameTaken)) {
      throw new ApiError(409, 'USERNAME_TAKEN', '이미 사용 중인 아이디입니다.', {
        details: { username: input.username },
      });
    }
    if (violates(error, ADMIN_STORE_FK)) throw storeNotFound();
    throw error;
  }
}

/** `text` matched literally inside ILIKE: `%`, `_` and the escape character lose their meaning. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * One page of store admins, newest first, optionally of one store (unknown store → 404) and
 * whose username contains `q` (case-insensitive, literally).
 */
export async function listStoreAdmins(
  db: Database,
  filter: { storeId?: string; q?: string; page: number; pageSize: number },
): Promise<{ admins: StoreAdminView[]; total: number }> {
  const conditions: SQL[] = [eq(admins.role, 'store_admin')];
  if (filter.storeId) {
    const [store] = await db
      .select({ id: stores.id })
      .from(stores)
      .where(eq(stores.id, filter.storeId));
    if (!store) throw storeNotFound();
    conditions.push(eq(admins.storeId, filter.storeId));
  }
  if (filter.q) {
    conditions.push(sql`${admins.username} ilike ${containsPattern(filter.q)} escape '\\'`);
  }
  const where = and(...conditions);
  const [rows, [counted]] = await Promise.all([
    db
      .select(columns)
      .from(admins)
      .where(where)
      .orderBy(desc(admins.createdAt), desc(admins.id))
      .limit(filter.pageSize)
      .offset((filter.page - 1) * filter.pageSize),
    db.select({ total: count() }).from(admins).where(where),
  ]);
  return { admins: rows.map(view), total: counted?.total ?? 0 };
}

/**
 * Activates or deactivates a store admin (super admins are not managed here: their id → 404).
 *
 * Deactivating leaves `token_version` alone, so the admin's tokens answer 403 ACCOUNT_DISABLED on
 * their next request (the middleware reads `is_active` every time) — a clear message on the
 * admin's screen. Re-activating bumps `token_version`: tokens issued before the deactivation stay
 * dead (they may be why the account was disabled) and the admin logs in again. Both are
 * idempotent: activating an active admin does not log it out. Each call is kept in the audit
 * trail of the admin's store.
 */
export async function setStoreAdminActive(
  db: Database,
  adminId: string,
  actor: Actor,
  active: boolean,
): Promise<StoreAdminView> {
  return db.transaction(async (tx) => {
    const [admin] = await tx
      .update(admins)
      .set({
        isActive: active,
        // Every expression of SET reads the row as it was before the update.
        ...(active && {
          tokenVersion: sql`${admins.tokenVersion} + case when ${admins.isActive} then 0 else 1 end`,
        }),
      })
      .where(and(eq(admins.id, adminId), eq(admins.role, 'store_admin')))
      .returning(columns);
    if (!admin) throw adminNotFound();
    await recordAccountChange(tx, actor, active ? 'admin.activated' : 'admin.deactivated', admin);
    return view(admin);
  });
}
