import { Ratelimit } from '@upstash/ratelimit';
import { ApiError } from '../api-error.ts';
import { createRedis } from '../redis.ts';

/** Failed logins allowed per account (store + username, or store + table) in the window. */
const ACCOUNT_FAILURES = 5;
/** Failed logins allowed per client IP in the window: higher, since a restaurant shares one IP. */
const IP_FAILURES = 30;
const WINDOW_MS = 15 * 60 * 1000;
const KEY_PREFIX = 'auth:login-failures';

/**
 * Login throttling: failures are counted per account and per client IP in Redis (sliding
 * window); once either is spent, logins answer 429 with `Retry-After` until the window moves on,
 * even with the right password. A success clears the account's count.
 *
 * Redis unreachable → fail open (log a WARN, let the login through): bcrypt still slows guessing,
 * and a cache outage must not lock every restaurant out of its tablets.
 */
export function loginThrottle(env: Env, account: string, ip: string) {
  const redis = createRedis(env);
  const limiter = (scope: 'account' | 'ip', failures: number) =>
    new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(failures, `${WINDOW_MS} ms`),
      prefix: `${KEY_PREFIX}:${scope}`,
      ephemeralCache: false,
      analytics: false,
    });
  const byAccount = limiter('account', ACCOUNT_FAILURES);
  const byIp = limiter('ip', IP_FAILURES);

  return {
    /** Throws 429 when the account or the IP has no failures left. */
    async assertAllowed(): Promise<void> {
      const states = await failOpen('check', () =>
        Promise.all([byAccount.getRemaining(account), byIp.getRemaining(ip)]),
      );
      const spent = states?.filter((state) => state.remaining <= 0) ?? [];
      if (spent.length === 0) return;
      const reset = Math.max(...spent.map((state) => state.reset));
      const retryAfter = Math.max(1, Math.ceil((reset - Date.now()) / 1000));
      throw new ApiError(
        429,
        'RATE_LIMITED',
        '로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요.',
        { details: { retry_after: retryAfter }, headers: { 'Retry-After': String(retryAfter) } },
      );
    },
    /** Counts one failed attempt against the account and the IP. */
    async recordFailure(): Promise<void> {
      await failOpen('record', () => Promise.all([byAccount.limit(account), byIp.limit(ip)]));
    },
    /**
     * Forgets the account's failures after a successful login. Not `resetUsedTokens`: that SCANs
     * the whole keyspace inside one Lua script (blocking Redis on every login) and reads the
     * account name as a glob pattern. The sliding window keeps one key per fixed window,
     * `<prefix>:<identifier>:<window number>`, and only reads the current and previous ones.
     */
    async recordSuccess(): Promise<void> {
      const key = `${KEY_PREFIX}:account:${account}`;
      const window = Math.floor(Date.now() / WINDOW_MS);
      await failOpen('reset', () => redis.del(`${key}:${window}`, `${key}:${window - 1}`));
    },
  };
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
