import type { Redis } from '@upstash/redis/cloudflare';
import { accountChanged } from '../platform/cache.ts';
import { storeHub } from './store-hub.ts';

/** An account that just lost its access, named as its database row names it (never the path). */
export type RevokedAccount = { id: string; storeId: string };

/**
 * Makes a committed revocation — a store admin deactivated, a table's password changed, a table
 * removed — take effect everywhere at once: the cached account state is forgotten, so the next
 * request is judged by the new row, and the account's open streams in its store's hub are closed,
 * so they receive nothing more and their reconnect meets that judgement. The cache goes first:
 * a client reconnecting the moment its stream ends must not be let in by the old state.
 *
 * Every write that takes an account's access away calls this after its commit. The write has
 * committed by then, so a hub that cannot be reached is not the caller's failure: a WARN, and the
 * streams end at their next reconnect, which the account check refuses.
 */
export async function revokeAccess(env: Env, redis: Redis, account: RevokedAccount): Promise<void> {
  await accountChanged(redis, account.id);
  try {
    await storeHub(env, account.storeId).closeStreamsOf(account.id);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'streams not closed',
        account_id: account.id,
        error: message,
      }),
    );
  }
}
