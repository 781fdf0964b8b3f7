import type { Redis } from '@upstash/redis/cloudflare';
import type { RequestIdVariables } from 'hono/request-id';
import type { Principal } from './auth/tokens.ts';
import type { Prefetched } from './platform/cache.ts';
import type { Database } from './domain/database.ts';

/** Hono's environment for this app: the Worker bindings (generated `Env`) and per-request values. */
export type AppEnv = {
  Bindings: Env;
  Variables: RequestIdVariables & {
    /** Drizzle over a Neon pool created for this request and closed after it (see middleware/db). */
    db: Database;
    /** Opens the request's first database connection ahead of its first query (middleware/db). */
    warmUpDatabase: () => Promise<void>;
    /** The request's Redis client (see middleware/redis). */
    redis: Redis;
    /** The route's first cache read, started by `authorizedReading` (middleware/auth). */
    prefetched?: Prefetched;
    /** The verified caller, set by `requireRole` (middleware/auth). */
    principal: Principal;
    /** When the caller's token expires (epoch ms), set with `principal` by `requireRole`. */
    tokenExpiresAt: number;
  };
};
