/**
 * The Worker's domain functions (worker/domain/) run from Node: they take a drizzle database,
 * here drizzle's node-postgres driver over a `pg` pool — the same SQL the Worker sends through
 * its Neon pool. For tests that exercise a use case against the database directly, and the
 * benchmark's baseline.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Database } from '../../worker/domain/database.ts';

/** A domain database over `pool` (no schema attached: the domain functions never use one). */
export function domainDatabase(pool: pg.Pool): Database {
  return drizzle({ client: pool });
}
