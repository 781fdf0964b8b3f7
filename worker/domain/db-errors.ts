/**
 * Recognises PostgreSQL constraint violations, so a domain function can turn "the database refused"
 * into the API's 409 without a racy check-then-write. drizzle wraps the driver's error: the
 * SQLSTATE and constraint name are on the error or its `cause`.
 */
export function violates(error: unknown, constraint: string): boolean {
  for (
    let e: unknown = error;
    e instanceof Error || isRecord(e);
    e = (e as { cause?: unknown }).cause
  ) {
    const { code, constraint: name } = e as { code?: unknown; constraint?: unknown };
    if (typeof code === 'string' && code.startsWith('23') && name === constraint) return true;
    if (!(e as { cause?: unknown }).cause) break;
  }
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
