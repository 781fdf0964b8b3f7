import type { Redis } from '@upstash/redis/cloudflare';
import { eq } from 'drizzle-orm';
import { admins, diningTables } from '../../db/schema.ts';
import type { Principal, Role } from '../auth/tokens.ts';
import { CACHE_TTL_SECONDS, cached, cacheKeys } from '../platform/cache.ts';
import { ApiError } from '../api-error.ts';
import type { Database } from '../domain/database.ts';

/**
 * What a token is checked against: the account's role, store, token version (a table's password
 * version), whether it may act, and for a table the tablet that holds it (`device`, null: none).
 * Small and JSON, so it can be cached under `auth:account:<id>`.
 */
type AccountState = {
  role: Role;
  storeId: string | null;
  version: number;
  isActive: boolean;
  device?: string | null;
};

/**
 * Checks that the account behind a verified token may still act: the table still exists in the
 * token's store with the same password (its password version) and is still held by the token's
 * tablet, the admin still exists, is active and has not had its tokens revoked. Runs on every
 * authenticated request.
 *
 * With `redis`, the account is read through the cache: every write that changes what is checked
 * (password change, table removal, a table released or taken by another tablet, activation,
 * deactivation) invalidates the key after it commits, so revocation still takes effect on the
 * very next request. Without it, the database answers (the rare paths, such as redeeming a
 * stream ticket).
 */
export async function assertAccountActive(
  db: Database,
  principal: Principal,
  redis?: Redis,
): Promise<void> {
  const load = () => loadAccount(db, principal);
  const account = redis
    ? await cached(redis, cacheKeys.account(principal.sub), CACHE_TTL_SECONDS, load)
    : await load();
  if (
    !account ||
    account.role !== principal.role ||
    account.version !== principal.ver ||
    (principal.role === 'table' &&
      (account.storeId !== principal.storeId || account.device !== principal.device))
  ) {
    throw tokenRevoked();
  }
  if (!account.isActive) {
    throw new ApiError(403, 'ACCOUNT_DISABLED', '비활성화된 계정입니다. 관리자에게 문의해 주세요.');
  }
}

async function loadAccount(db: Database, principal: Principal): Promise<AccountState | null> {
  if (principal.role === 'table') {
    const [table] = await db
      .select({
        storeId: diningTables.storeId,
        version: diningTables.passwordVersion,
        device: diningTables.deviceId,
      })
      .from(diningTables)
      .where(eq(diningTables.id, principal.sub));
    return table ? { role: 'table', ...table, isActive: true } : null;
  }
  const [admin] = await db
    .select({
      role: admins.role,
      storeId: admins.storeId,
      version: admins.tokenVersion,
      isActive: admins.isActive,
    })
    .from(admins)
    .where(eq(admins.id, principal.sub));
  return admin ?? null;
}

function tokenRevoked(): ApiError {
  return new ApiError(
    401,
    'TOKEN_INVALID',
    '더 이상 유효하지 않은 인증 정보입니다. 다시 로그인해 주세요.',
  );
}
