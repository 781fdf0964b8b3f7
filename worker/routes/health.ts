import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { openDatabase } from '../platform/database.ts';
import { createRedis } from '../platform/redis.ts';

/** Upper bound for one dependency check, so that readiness answers even when a service hangs. */
const CHECK_TIMEOUT_MS = 3_000;

type Check = { ok: true; latency_ms: number } | { ok: false; latency_ms: number; error: string };

async function timed(probe: () => Promise<unknown>): Promise<Check> {
  const started = Date.now();
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        ),
      ),
    ]);
    return { ok: true, latency_ms: Date.now() - started };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, latency_ms: Date.now() - started, error: message };
  }
}

/** Liveness (`/healthz`: the isolate answers) and readiness (`/readyz`: every dependency answers). */
export const health = new Hono<AppEnv>()
  .get('/healthz', (c) => c.json({ status: 'ok' }))
  .get('/readyz', async (c) => {
    const { db, pool } = openDatabase(c.env);
    const redis = createRedis(c.env);
    const [database, redisCheck] = await Promise.all([
      timed(() => db.execute(sql`select 1`)),
      timed(() => redis.ping()),
    ]);
    c.executionCtx.waitUntil(pool.end());
    const checks = { database, redis: redisCheck };
    const ready = database.ok && redisCheck.ok;
    return c.json({ status: ready ? 'ok' : 'unavailable', checks }, ready ? 200 : 503);
  });
