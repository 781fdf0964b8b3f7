import type { Redis } from '@upstash/redis/cloudflare';
import { MENU_LANGUAGES, type MenuLanguage } from '../../db/schema.ts';

/** How long a cached answer lives when nothing invalidates it first: 5 minutes. */
export const CACHE_TTL_SECONDS = 300;

/**
 * What an invalidated key holds for a few seconds instead of being deleted, and for how long.
 * A reader that missed just before a write may still be loading pre-commit rows; its fill is a
 * `SET … NX`, which the marker refuses, so it cannot put the old answer back for 5 minutes.
 * Readers treat the marker as a miss. It outlives any load (routes time out well before).
 */
const INVALIDATED = '__invalidated__';
const INVALIDATED_SECONDS = 15;

/** Version counters outlive every page they name, so a reset counter never revives old pages. */
const VERSION_TTL_SECONDS = 24 * 60 * 60;

/**
 * Every cache key of the API, shaped `{service}:{entity}:{id}`, and nowhere else. Each key
 * names the store (or an id that only one store's token carries), so one tenant never reads
 * another's answer.
 */
export const cacheKeys = {
  /**
   * The guests' menu of a store in one language (GET /api/customer/menus?lang=); `default` for
   * the requests that name no language the menu speaks, answered in the store's own.
   */
  guestMenu: (storeId: string, lang?: MenuLanguage) =>
    `menu:categories:${storeId}:${lang ?? 'default'}`,
  /** The floor view of a store (GET /api/admin/dashboard). */
  dashboard: (storeId: string) => `dashboard:snapshot:${storeId}`,
  /**
   * What the per-request account check reads. Ids are UUIDs of one table or admin row each;
   * the cached value carries the role and store, and the check compares them with the token.
   */
  account: (id: string) => `auth:account:${id}`,
  /**
   * The once-a-minute gate on noting that a table's tablet was heard from (`device_seen_at`):
   * while it is set, the tablet's requests leave the row alone. Holds `1`, never an answer.
   */
  deviceSeen: (tableId: string) => `auth:device-seen:${tableId}`,
  /** The version of a table's history; bumping it retires every cached page at once. */
  historyVersion: (tableId: string) => `history:table:${tableId}`,
  /** One page of a table's history as one store asked for it, under the table's version. */
  historyPage: (
    storeId: string,
    tableId: string,
    version: number,
    query: { from?: string; to?: string; page: number; pageSize: number },
  ) =>
    `history:table:${tableId}:v${version}:${storeId}:` +
    `${query.from ?? ''}..${query.to ?? ''}:${query.page}x${query.pageSize}`,
};

/*
 * What a write changed, in the restaurant's words: each write path calls these, from its route
 * handler, and never forgets a key by hand. A new cached answer gets its key above and its
 * meaning here.
 */

/**
 * The guests' menu of a store changed (a category, a menu, its choices, its image): forget its
 * cached copy in every language. Called once the write has committed, before answering, so the
 * next tablet reads the new menu.
 */
export function menuChanged(redis: Redis, storeId: string): Promise<void> {
  const languages = [undefined, ...MENU_LANGUAGES];
  return invalidate(redis, ...languages.map((lang) => cacheKeys.guestMenu(storeId, lang)));
}

/**
 * The floor of a store changed (a table, a party, an order): forget its cached dashboard.
 * Called once the write has committed; see {@link changingFloor} for writes on the hot path.
 */
export function floorChanged(redis: Redis, storeId: string): Promise<void> {
  return invalidate(redis, cacheKeys.dashboard(storeId));
}

/**
 * Runs `write`, which changes the store's floor, and forgets the cached dashboard side by side
 * with it: the orders and the kitchen's steps save the cache's round trip after the commit.
 */
export function changingFloor<T>(
  redis: Redis,
  storeId: string,
  write: () => Promise<T>,
): Promise<T> {
  return invalidating(redis, [cacheKeys.dashboard(storeId)], write);
}

/**
 * An account's standing changed (activated, deactivated, new password, removed): the next
 * request's account check reads the row. Called once the write has committed.
 */
export function accountChanged(redis: Redis, accountId: string): Promise<void> {
  return invalidate(redis, cacheKeys.account(accountId));
}

/**
 * A table's history changed (이용 완료 archived its party, or the table is gone): retires every
 * cached page of it. Only after the commit: a version has no marker, so a bump before it could
 * let a reader store the old page under the new version.
 */
export function historyChanged(redis: Redis, tableId: string): Promise<void> {
  return bumpVersion(redis, cacheKeys.historyVersion(tableId));
}

/**
 * Whether this call is the first for `key` in `seconds` (`SET key 1 NX EX seconds`, one answer
 * for every isolate): for a side effect wanted at most once a window. Redis failing counts as
 * "not first" (WARN): the effect is skipped, never repeated on every request.
 */
export async function firstInWindow(redis: Redis, key: string, seconds: number): Promise<boolean> {
  try {
    return (await redis.set(key, 1, { nx: true, ex: seconds })) !== null;
  } catch (error) {
    warnUnavailable(key, error);
    return false;
  }
}

/** A cache read started ahead of the route (middleware/auth `authorizedReading`). */
export type Prefetched = { key: string; value: Promise<unknown> };

/**
 * Cache-aside: the value under `key`, or `load()`'s answer, stored for `ttlSeconds` (JSON).
 * Redis failing or slow is never the caller's problem: one WARN line, and the database answers.
 * `null` and `undefined` are not stored (a miss and a stored null would look alike).
 * `prefetched`, if it read this very key, stands for the read.
 */
export async function cached<T>(
  redis: Redis,
  key: string,
  ttlSeconds: number,
  load: () => Promise<T>,
  prefetched?: Prefetched,
): Promise<T> {
  let hit: unknown;
  try {
    hit = await (prefetched?.key === key ? prefetched.value : redis.get<unknown>(key));
  } catch (error) {
    warnUnavailable(key, error);
    return load();
  }
  if (hit !== null && hit !== INVALIDATED) return hit as T;
  const value = await load();
  // Just invalidated: what we loaded may predate the write, so leave the key to a later reader.
  if (hit === INVALIDATED || value === null || value === undefined) return value;
  try {
    await redis.set(key, value, { ex: ttlSeconds, nx: true });
  } catch (error) {
    warnUnavailable(key, error);
  }
  return value;
}

/**
 * Forgets `keys`, for a write that changed what they answer: each becomes the marker, which no
 * reader can fill for INVALIDATED_SECONDS. So the write must commit within that window after the
 * marker is set — after the commit, or side by side with the write ({@link invalidating}).
 * Fails open (WARN): the entries then expire with their TTL.
 */
async function invalidate(redis: Redis, ...keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  try {
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.set(key, INVALIDATED, { ex: INVALIDATED_SECONDS });
    await pipeline.exec();
  } catch (error) {
    warnUnavailable(keys.join(','), error);
  }
}

/**
 * Runs `write` and invalidates `keys` side by side, saving the cache round trip after the commit.
 * Safe because of the marker: rows a reader loaded before the commit are either stored before
 * the marker (which overwrites them) or refused by it, and the write commits well inside the
 * marker's window (routes time out after at most 10 s). A write that fails has invalidated for
 * nothing, which costs one cache miss.
 */
async function invalidating<T>(redis: Redis, keys: string[], write: () => Promise<T>): Promise<T> {
  const [result] = await Promise.all([write(), invalidate(redis, ...keys)]);
  return result;
}

/**
 * Cache-aside for a family of keys retired together by {@link bumpVersion}: reads the family's
 * version, then the entry `keyOf(version)`. A reader racing a bump stores under the old version,
 * which nobody reads any more, so no marker is needed.
 */
export async function cachedVersioned<T>(
  redis: Redis,
  versionKey: string,
  keyOf: (version: number) => string,
  ttlSeconds: number,
  load: () => Promise<T>,
): Promise<T> {
  let version: number | null;
  try {
    version = await redis.get<number>(versionKey);
  } catch (error) {
    warnUnavailable(versionKey, error);
    return load();
  }
  return cached(redis, keyOf(Number(version ?? 0)), ttlSeconds, load);
}

/** Retires every entry of a family read with {@link cachedVersioned}. Fails open (WARN). */
async function bumpVersion(redis: Redis, versionKey: string): Promise<void> {
  try {
    await redis.pipeline().incr(versionKey).expire(versionKey, VERSION_TTL_SECONDS).exec();
  } catch (error) {
    warnUnavailable(versionKey, error);
  }
}

function warnUnavailable(key: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.warn(JSON.stringify({ level: 'warn', msg: 'cache unavailable', key, error: message }));
}
