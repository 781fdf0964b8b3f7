import {
  createLocalJWKSet,
  exportJWK,
  importJWK,
  importPKCS8,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';

/** The key material of one deployment: one key signs, every listed public key verifies. */
export type KeyRing = {
  kid: string;
  signingKey: CryptoKey;
  /** Served at `/.well-known/jwks.json`: the signing key's public half plus previous keys. */
  jwks: JSONWebKeySet;
  verificationKey: JWTVerifyGetKey;
};

const ALG = 'RS256';
let cached: { source: string; ring: Promise<KeyRing> } | undefined;

/**
 * The key ring for these bindings, built once per isolate (importing keys costs CPU; the
 * bindings of a deployment never change while its isolate lives).
 *
 * - `JWT_PRIVATE_KEY`: the signing key, PKCS#8 PEM or a private JWK (JSON);
 * - `JWT_KEY_ID`: its `kid` (a JWK's own `kid` wins);
 * - `JWT_PREVIOUS_PUBLIC_KEYS`: optional JWKS JSON of keys still accepted during a rotation.
 */
export function keyRing(env: Env): Promise<KeyRing> {
  const source = `${env.JWT_PRIVATE_KEY}\u0000${env.JWT_KEY_ID}\u0000${env.JWT_PREVIOUS_PUBLIC_KEYS}`;
  if (cached?.source !== source) {
    const ring = buildKeyRing(env);
    cached = { source, ring };
    // A broken configuration must not stick: the next request tries again.
    ring.catch(() => {
      if (cached?.ring === ring) cached = undefined;
    });
  }
  return cached.ring;
}

async function buildKeyRing(env: Env): Promise<KeyRing> {
  const raw = env.JWT_PRIVATE_KEY.trim();
  if (!raw) throw new Error('JWT_PRIVATE_KEY is not set');
  let kid = env.JWT_KEY_ID;
  let signingKey: CryptoKey;
  if (raw.startsWith('{')) {
    const jwk = JSON.parse(raw) as JWK;
    kid = jwk.kid ?? kid;
    signingKey = (await importJWK(jwk, ALG, { extractable: true })) as CryptoKey;
  } else {
    signingKey = await importPKCS8(raw.replaceAll('\\n', '\n'), ALG, { extractable: true });
  }
  if (!kid) throw new Error('JWT_KEY_ID is not set and the key has no kid');

  // The public half of an RSA private JWK is its n and e.
  const { n, e } = await exportJWK(signingKey);
  const current: JWK = { kty: 'RSA', n, e, kid, alg: ALG, use: 'sig' };
  const previous = env.JWT_PREVIOUS_PUBLIC_KEYS?.trim()
    ? (JSON.parse(env.JWT_PREVIOUS_PUBLIC_KEYS) as JSONWebKeySet).keys
    : [];
  const jwks: JSONWebKeySet = {
    keys: [current, ...previous.filter((key) => key.kid !== kid).map(publicOnly)],
  };
  return { kid, signingKey, jwks, verificationKey: createLocalJWKSet(jwks) };
}

/** Never publish private members, even if an operator pasted a private JWK by mistake. */
function publicOnly({ kty, n, e, kid, alg, use }: JWK): JWK {
  return { kty, n, e, kid, alg: alg ?? ALG, use: use ?? 'sig' };
}
