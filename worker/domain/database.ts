import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Assume } from 'drizzle-orm/utils';

/**
 * Drizzle over PostgreSQL, whatever driver carries it: a Neon WebSocket pool in the Worker
 * (platform/database.ts), node-postgres where the same domain functions run from Node (the
 * benchmark's baseline). The domain functions take it as their first argument. Queries are built
 * from the tables of db/schema.ts; drizzle's relational API (`db.query`) is not used, so no schema
 * is attached: attaching one derives its whole relational config on every `drizzle()`, i.e. on
 * every request.
 */
export type Database = PgDatabase<RowsResultHKT>;

/** What `db.execute` answers on every driver we use: at least the rows. */
interface RowsResultHKT extends PgQueryResultHKT {
  type: WithRows<Assume<this['row'], Record<string, unknown>>>;
}
type WithRows<Row> = { rows: Row[] };

/** The handle inside `db.transaction(async (tx) => …)`. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
