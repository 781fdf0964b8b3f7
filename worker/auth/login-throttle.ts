import { Ratelimit } from '@upstash/ratelimit';
import { ApiError } from '../api-error.ts';
import { createRedis } from '../platform/redis.ts';

const MINUTE_MS = 60 * 1000;
const KEY_PREFIX = 'auth:login-failures';

/**
 * Failed logins counted three ways, each in a sliding window. Not per account alone: a table's
 * store id and number are on every guest's screen, so a count per account would let anyone
 * lock a table (or an admin) out by failing five times.
 * - `accountAtAddress`: one account from one client address — what one machine can guess. Low,
 *   and a success from that address clears it.
 * - `address`: one client address over every account — a sweep across accounts. Higher, since a
 *   restaurant's tablets share one address.
 * - `account`: one account from every address — slows a distributed attack only: once spent, an
 *   address that has failed on the account waits, while an address that has not gets its guess
 *   (bcrypt is its cost). So a stranger elsewhere can never shut the owner out.
 */
const POLICY = {
  accountAtAddress: { failures: 5, windowMs: 15 * MINUTE_MS, key: 'account-at-address' },
  address: { failures: 30, windowMs: 15 * MINUTE_MS, key: 'address' },
  account: { failures: 100, windowMs: 60 * MINUTE_MS, key: 'account' },
} as const;

type Scope = keyof typeof POLICY;
const SCOPES = Object.keys(POLICY) as Scope[];
/** What a count has left in its window, and when (epoch ms) the window moves on. */
type Count = { remaining: number; reset: number };

/**
 * Login throttling for one account (store + username, or store + table) tried from one client
 * address (`CF-Connecting-IP`): refuses with 429 and `Retry-After` when {@link refusing} says so,
 * before the password is checked — even the right one — so a 429 tells nothing about a guess.
 *
 * Redis unreachable → fail open (log a WARN, let the login through): bcrypt still slows guessing,
 * and a cache outage must not lock every restaurant out of its tablets.
 */
export function loginThrottle(env: Env, account: string, ip: string) {
  const redis = createRedis(env);
  const identifiers: Record<Scope, string> = {
    // The address first: an address never holds '|', an admin's username may.
    accountAtAddress: `${ip}|${account}`,
    address: ip,
    account,
  };
  const limiter = (scope: Scope) =>
    new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(POLICY[scope].failures, `${POLICY[scope].windowMs} ms`),
      prefix: `${KEY_PREFIX}:${POLICY[scope].key}`,
      ephemeralCache: false,
      analytics: false,
    });
  const limiters: Record<Scope, Ratelimit> = {
    accountAtAddress: limiter('accountAtAddress'),
    address: limiter('address'),
    account: limiter('account'),
  };

  return {
    /** Throws 429 when this address may not try this account now. */
    async assertAllowed(): Promise<void> {
      const counts = await failOpen('check', async () => {
        const read = {} as Record<Scope, Count>;
        await Promise.all(
          SCOPES.map(async (scope) => {
            read[scope] = await limiters[scope].getRemaining(identifiers[scope]);
          }),
        );
        return read;
      });
      const refusal = counts && refusing(counts);
      if (!refusal) return;
      const retryAfter = Math.max(1, Math.ceil((refusal.reset - Date.now()) / 1000));
      throw new ApiError(
        429,
        'RATE_LIMITED',
        '로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요.',
        { details: { retry_after: retryAfter }, headers: { 'Retry-After': String(retryAfter) } },
      );
    },
    /** Counts one failed attempt in every count. */
    async recordFailure(): Promise<void> {
      await failOpen('record', () =>
        Promise.all(SCOPES.map((scope) => limiters[scope].limit(identifiers[scope]))),
      );
    },
    /**
     * Forgets this address's failures on the account after a successful login. The other counts
     * stay: an attacker could clear the address count by logging into an account of their own, and
     * the owner logging in must not hand a distributed attacker a fresh account count.
     * Not `resetUsedTokens`: that SCANs the whole keyspace inside one Lua script (blocking Redis on
     * every login) and reads the identifier as a glob pattern. The sliding window keeps one key
     * per fixed window, `<prefix>:<identifier>:<window number>`, and only reads the current and
     * previous ones.
     */
    async recordSuccess(): Promise<void> {
      const { key, windowMs } = POLICY.accountAtAddress;
      const prefix = `${KEY_PREFIX}:${key}:${identifiers.accountAtAddress}`;
      const window = Math.floor(Date.now() / windowMs);
      await failOpen('reset', () => redis.del(`${prefix}:${window}`, `${prefix}:${window - 1}`));
    },
  };
}

/**
 * The count that refuses an attempt, if any. The one place the policy decides, so that an
 * exception (a device the table trusts, say) is one more rule here.
 */
function refusing(counts: Record<Scope, Count>): Count | undefined {
  if (counts.address.remaining <= 0) return counts.address;
  if (counts.accountAtAddress.remaining <= 0) return counts.accountAtAddress;
  const failedHere = counts.accountAtAddress.remaining < POLICY.accountAtAddress.failures;
  if (counts.account.remaining <= 0 && failedHere) return counts.account;
  return undefined;
}

async function failOpen<T>(step: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.warn(
      JSON.stringify({ level: 'warn', msg: 'login throttle unavailable', step, error: message }),
    );
    return undefined;
  }
}
