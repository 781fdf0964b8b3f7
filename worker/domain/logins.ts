import { and, eq, sql } from 'drizzle-orm';
import { admins, diningTables, stores } from '../../db/schema.ts';
import { loginThrottle } from '../auth/login-throttle.ts';
import { issueToken, TOKEN_TTL_SECONDS, type Principal } from '../auth/tokens.ts';
import { ApiError } from '../api-error.ts';
import type { Database } from '../domain/database.ts';
import { holdTable } from './device-lease.ts';
import { verifyPassword } from '../platform/passwords.ts';

/**
 * A bcrypt hash of a random string at the same cost: checked when the account does not exist,
 * so that "no such account" takes as long as "wrong password" and usernames cannot be probed.
 */
const NO_ACCOUNT_HASH = '$2b$10$leL3ZWNnUDfQerSxjHCdS.0aqVZBmsLl2iq5T1HdyCTA.vGRf0w0e';

type Caller = { db: Database; env: Env; ip: string };

/**
 * Checks one throttled login: refuses while the caller's address may not try the account (see
 * auth/login-throttle), checks the password (against a dummy hash when there is no account),
 * counts failures, and answers the account whose password was right.
 */
async function checkCredentials<A extends { passwordHash: string }>(
  { env, ip }: Caller,
  throttleKey: string,
  account: A | undefined,
  password: string,
): Promise<A> {
  const throttle = loginThrottle(env, throttleKey, ip);
  await throttle.assertAllowed();
  const matches = await verifyPassword(password, account?.passwordHash ?? NO_ACCOUNT_HASH);
  if (!account || !matches) {
    await throttle.recordFailure();
    throw invalidCredentials();
  }
  await throttle.recordSuccess();
  return account;
}

/** The token a login answers, signed for `principal`. */
async function tokenFor(env: Env, principal: Principal) {
  return {
    access_token: await issueToken(env, principal),
    token_type: 'Bearer' as const,
    expires_in: TOKEN_TTL_SECONDS,
  };
}

function invalidCredentials(): ApiError {
  return new ApiError(401, 'INVALID_CREDENTIALS', '아이디 또는 비밀번호가 올바르지 않습니다.');
}

/**
 * A tablet logs in with its store, its table's label, the table's password and its own device
 * id. The label is matched ignoring case, as the store's labels are unique (`"a-1"` finds
 * `"A-1"`; the index on `lower(table_number)` answers it); failures count against the label in
 * lower case alike. Only with the right password does the tablet ask for the table (the device
 * lease, see `holdTable`), so a wrong one never tells that another tablet holds it. The token
 * carries the device. `changedHands` says the table has a new tablet: the caller revokes the
 * old one's access.
 */
export async function loginTable(
  caller: Caller,
  input: { storeId: string; tableNumber: string; password: string; deviceId: string },
) {
  const [table] = await caller.db
    .select({
      id: diningTables.id,
      tableNumber: diningTables.tableNumber,
      passwordHash: diningTables.passwordHash,
      passwordVersion: diningTables.passwordVersion,
      storeName: stores.name,
    })
    .from(diningTables)
    .innerJoin(stores, eq(stores.id, diningTables.storeId))
    .where(
      and(
        eq(diningTables.storeId, input.storeId),
        sql`lower(${diningTables.tableNumber}) = lower(${input.tableNumber})`,
      ),
    );
  const account = await checkCredentials(
    caller,
    `table:${input.storeId}:${input.tableNumber.toLowerCase()}`,
    table,
    input.password,
  );
  const lease = await holdTable(caller.db, account.id, input.deviceId);
  // Removed since its password was checked: as if it had never been there.
  if (!lease) throw invalidCredentials();
  const token = await tokenFor(caller.env, {
    role: 'table',
    sub: account.id,
    storeId: input.storeId,
    ver: account.passwordVersion,
    device: input.deviceId,
  });
  return {
    login: {
      ...token,
      table: { id: account.id, table_number: account.tableNumber },
      store: { id: input.storeId, name: account.storeName },
    },
    changedHands: lease.changedHands,
  };
}

/** A store admin logs in with the store id, username and password. */
export async function loginStoreAdmin(
  caller: Caller,
  input: { storeId: string; username: string; password: string },
) {
  const [admin] = await caller.db
    .select()
    .from(admins)
    .where(
      and(
        eq(admins.storeId, input.storeId),
        eq(admins.username, input.username),
        eq(admins.role, 'store_admin'),
      ),
    );
  const account = await checkCredentials(
    caller,
    `admin:${input.storeId}:${input.username}`,
    admin,
    input.password,
  );
  assertActive(account);
  const token = await tokenFor(caller.env, {
    role: 'store_admin',
    sub: account.id,
    storeId: input.storeId,
    ver: account.tokenVersion,
  });
  return {
    ...token,
    admin: { id: account.id, username: account.username, store_id: input.storeId },
  };
}

/** The super admin logs in with username and password. */
export async function loginSuperAdmin(
  caller: Caller,
  input: { username: string; password: string },
) {
  const [admin] = await caller.db
    .select()
    .from(admins)
    .where(and(eq(admins.username, input.username), eq(admins.role, 'super_admin')));
  const account = await checkCredentials(caller, `super:${input.username}`, admin, input.password);
  assertActive(account);
  return tokenFor(caller.env, {
    role: 'super_admin',
    sub: account.id,
    storeId: null,
    ver: account.tokenVersion,
  });
}

function assertActive(admin: { isActive: boolean }): void {
  if (!admin.isActive) {
    throw new ApiError(403, 'ACCOUNT_DISABLED', '비활성화된 계정입니다. 관리자에게 문의해 주세요.');
  }
}
