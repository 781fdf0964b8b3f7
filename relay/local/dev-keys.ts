/**
 * RS256 signing keys for the Worker's tokens. `npm run keys:dev` (and `npm run dev`, when
 * `.dev.vars` has none) writes a fresh pair into `.dev.vars`; the tests make their own.
 * `npm run keys:dev -- .prod.vars` fills the production secrets file the same way, before
 * `npm run secrets:put` (docs/deploy.md).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';

/** A new RSA-2048 key as the Worker reads it: a private JWK (JSON, one line) and its kid. */
export async function generateSigningKey(
  kidPrefix = 'dev',
): Promise<{ privateJwk: string; kid: string }> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const kid = `${kidPrefix}-${randomUUID()}`;
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateJwk: JSON.stringify(jwk), kid };
}

/** Fills JWT_PRIVATE_KEY / JWT_KEY_ID in a .dev.vars file when they are empty; true if it did. */
export async function ensureDevKeys(devVarsPath: string, kidPrefix = 'dev'): Promise<boolean> {
  const text = readFileSync(devVarsPath, 'utf8');
  if (parseEnv(text).JWT_PRIVATE_KEY) return false;
  const { privateJwk, kid } = await generateSigningKey(kidPrefix);
  const lines = text.split('\n').filter((line) => !/^(JWT_PRIVATE_KEY|JWT_KEY_ID)=/.test(line));
  lines.push(`JWT_PRIVATE_KEY='${privateJwk}'`, `JWT_KEY_ID=${kid}`, '');
  writeFileSync(devVarsPath, lines.join('\n').replace(/\n{3,}/g, '\n\n'));
  return true;
}

if (import.meta.main) {
  // Another file than .dev.vars (the production secrets) gets kids that do not say `dev`.
  const [given] = process.argv.slice(2);
  const path = given ?? fileURLToPath(new URL('../../.dev.vars', import.meta.url));
  console.log(
    (await ensureDevKeys(path, given ? 'key' : 'dev'))
      ? `wrote a new key pair to ${path}`
      : `${path} already has a key`,
  );
}
