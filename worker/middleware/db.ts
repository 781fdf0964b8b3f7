import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.ts';
import { openDatabase } from '../platform/database.ts';

/**
 * Sets `c.var.db` (and `c.var.warmUpDatabase`, see `requireRole`) and ends its pool once the
 * response is sent.
 */
export const database = createMiddleware<AppEnv>(async function database(c, next) {
  const { db, pool } = openDatabase(c.env);
  c.set('db', db);
  c.set('warmUpDatabase', () => pool.warmUp());
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(pool.end());
  }
});
