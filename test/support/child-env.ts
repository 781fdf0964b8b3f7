/**
 * The environment of a process a test starts: PATH and HOME (to find programs and the user's
 * tool settings) and the variables given — nothing else from the shell that runs the tests, so a
 * developer's DATABASE_URL, SUPERADMIN_* or ports cannot change what that process does.
 */
export function isolatedEnv(vars: Record<string, string> = {}): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const name of ['PATH', 'HOME']) {
    const value = process.env[name];
    if (value !== undefined) inherited[name] = value;
  }
  return { ...inherited, ...vars };
}
