import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { storeHub } from '../hub/store-hub.ts';
import { openDatabase } from '../platform/database.ts';
import { createRedis } from '../platform/redis.ts';

/** Upper bound for one dependency check, so that readiness answers even when a service hangs. */
const CHECK_TIMEOUT_MS = 3_000;

/**
 * The hub readiness asks: one fixed name, never a store's (store ids are uuids), so a probe
 * reaches the same Durable Object every time instead of creating one per request.
 */
const READINESS_HUB = 'readiness-probe';

/** An R2 key that is never written: its `head` is a round trip that answers "absent". */
const READINESS_OBJECT = 'readiness-probe';

type Check = { ok: true; latency_ms: number } | { ok: false; latency_ms: number; error: string };

async function timed(probe: () => Promise<unknown>): Promise<Check> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, latency_ms: Date.now() - started };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, latency_ms: Date.now() - started, error: message };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * Liveness (`/healthz`: the isolate answers) and readiness (`/readyz`: every dependency answers —
 * the database, Redis, the R2 bucket of images and the store hubs' Durable Objects — each timed;
 * 503 with `failed` naming those that did not).
 */
export const health = new Hono<AppEnv>()
  .get('/healthz', (c) => c.json({ status: 'ok' }))
  .get('/readyz', async (c) => {
    const { db, pool } = openDatabase(c.env);
    const redis = createRedis(c.env);
    const [database, redisCheck, r2, hub] = await Promise.all([
      timed(() => db.execute(sql`select 1`)),
      timed(() => redis.ping()),
      timed(() => c.env.IMAGES.head(READINESS_OBJECT)),
      timed(() => storeHub(c.env, READINESS_HUB).status()),
    ]);
    c.executionCtx.waitUntil(pool.end());
    const checks = { database, redis: redisCheck, r2, store_hub: hub };
    const failed = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    const ready = failed.length === 0;
    return c.json({ status: ready ? 'ok' : 'unavailable', failed, checks }, ready ? 200 : 503);
  });
