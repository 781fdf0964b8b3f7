import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Assume } from 'drizzle-orm/utils';
import type * as schema from '../../db/schema.ts';

/**
 * Drizzle bound to our schema, whatever PostgreSQL driver carries it: a Neon WebSocket pool in the
 * Worker (middleware/db.ts),
 * node-postgres where the same domain functions run from Node (the benchmark's baseline). The
 * domain functions take it as their first argument.
 */
export type Database = PgDatabase<RowsResultHKT, typeof schema>;

/** What `db.execute` answers on every driver we use: at least the rows. */
interface RowsResultHKT extends PgQueryResultHKT {
  type: WithRows<Assume<this['row'], Record<string, unknown>>>;
}
type WithRows<Row> = { rows: Row[] };

/** The handle inside `db.transaction(async (tx) => …)`. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
