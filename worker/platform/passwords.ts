import bcrypt from 'bcryptjs';

/**
 * bcrypt work factor. The seed system used 12; bcryptjs (pure JS, runs in workerd) at cost 12
 * burns a few hundred ms of CPU per login on the Worker — the measured choice lives in
 * docs/operations.md.
 */
export const BCRYPT_COST = 10;

/** Hashes a password for storage. */
export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

/** Compares a password with a stored hash in constant time (bcrypt's own comparison). */
export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}
