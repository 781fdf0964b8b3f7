/**
 * What of a failed query may be written to a log — one rule for the Worker's `onError` and the
 * relay's logger. A query's parameters can be password hashes or guests' text, and PostgreSQL's
 * own words about the data quote it too: its message (`invalid input syntax for type uuid: "…"`)
 * and `detail` (`Key (name)=(…) already exists`, `Failing row contains (…)`). So a failed query is
 * logged by its shape only: the statement as drizzle built it (SQL text with `$n` placeholders),
 * the SQLSTATE, and the names PostgreSQL gives (constraint, table, column).
 */

/** The log form of a failed query (undefined fields are left out of the JSON line). */
export type LoggedQueryError = {
  name: string;
  /** `query failed: SQLSTATE <code>`, or the driver's reason when the database never answered. */
  message: string;
  /** The SQL text with `$n` placeholders, when drizzle sent it. */
  statement?: string;
  sqlstate?: string;
  constraint?: string;
  table?: string;
  column?: string;
  /** The stack's frames, without its first line (which repeats the message and parameters). */
  stack?: string;
};

/** drizzle's wrapper of a failed query; its message holds the parameters. */
type DrizzleQueryError = Error & { query: string; params: unknown[] };
/** PostgreSQL's error as the drivers (node-postgres, Neon) hand it over. */
type PostgresError = Error & {
  code: string;
  severity: string;
  constraint?: string;
  table?: string;
  column?: string;
};

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** Causes followed at most; the real chains are two or three deep. */
const MAX_DEPTH = 5;

function isDrizzleQueryError(error: Error): error is DrizzleQueryError {
  const fields = error as Partial<DrizzleQueryError>;
  return typeof fields.query === 'string' && Array.isArray(fields.params);
}

function isPostgresError(error: Error): error is PostgresError {
  const fields = error as Partial<PostgresError>;
  return (
    typeof fields.code === 'string' &&
    SQLSTATE.test(fields.code) &&
    typeof fields.severity === 'string'
  );
}

/**
 * The log form of `error` if it is (or was caused by) a failed query; undefined for any other
 * error, which the caller logs as it likes.
 */
export function loggableQueryError(error: unknown): LoggedQueryError | undefined {
  let query: DrizzleQueryError | undefined;
  let postgres: PostgresError | undefined;
  let innermost: Error | undefined;
  for (let e = error, depth = 0; e instanceof Error && depth < MAX_DEPTH; depth += 1) {
    if (!query && isDrizzleQueryError(e)) query = e;
    if (!postgres && isPostgresError(e)) postgres = e;
    innermost = e;
    e = e.cause;
  }
  if (!query && !postgres) return undefined;
  const top = error as Error;
  // Without PostgreSQL's answer the cause is the driver's own (no connection, a timeout): its
  // message carries no data. The wrapper's message is drizzle's, with the parameters.
  const reason = postgres
    ? `SQLSTATE ${postgres.code}`
    : innermost !== query
      ? innermost?.message
      : undefined;
  return {
    name: top.name,
    message: reason ? `query failed: ${reason}` : 'query failed',
    statement: query?.query,
    sqlstate: postgres?.code,
    constraint: postgres?.constraint,
    table: postgres?.table,
    column: postgres?.column,
    stack: top.stack
      ?.split('\n')
      .filter((line) => /^\s+at /.test(line))
      .join('\n'),
  };
}
