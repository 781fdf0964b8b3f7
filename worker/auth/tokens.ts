import { errors, jwtVerify, SignJWT } from 'jose';
import { ApiError } from '../api-error.ts';
import { keyRing } from './keys.ts';

/** Tokens live as long as the seed's session length; tablets log in again with stored credentials. */
export const TOKEN_TTL_SECONDS = 16 * 60 * 60;
const ISSUER = 'table-order';
const AUDIENCE = 'table-order-api';

/**
 * Who is calling. `ver` is the account's token version: bumping it revokes older tokens. A
 * table's `device` is the tablet that logged in (claim `dev`): the token works while that tablet
 * holds the table (worker/domain/device-lease.ts).
 */
export type Principal =
  | { role: 'table'; sub: string; storeId: string; ver: number; device: string }
  | { role: 'store_admin'; sub: string; storeId: string; ver: number }
  | { role: 'super_admin'; sub: string; storeId: null; ver: number };
export type Role = Principal['role'];

/** Signs an RS256 access token for a principal. */
export async function issueToken(env: Env, principal: Principal): Promise<string> {
  const { kid, signingKey } = await keyRing(env);
  return new SignJWT({
    role: principal.role,
    store_id: principal.storeId,
    ver: principal.ver,
    ...(principal.role === 'table' && { dev: principal.device }),
  })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setSubject(principal.sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_TTL_SECONDS}s`)
    .sign(signingKey);
}

/** A verified token: who it speaks for, and until when (epoch ms). */
export type VerifiedToken = { principal: Principal; expiresAt: number };

/**
 * Verifies a token's signature (RS256 only, by `kid`), issuer, audience and expiry, and returns
 * its principal and expiry. Every failure is a 401: `TOKEN_EXPIRED` for an expired token, `TOKEN_INVALID`
 * for anything else (tampered, unknown key, other algorithm, malformed claims, a table token
 * without its `dev`).
 */
export async function verifyToken(env: Env, token: string): Promise<VerifiedToken> {
  const { verificationKey } = await keyRing(env);
  try {
    const { payload } = await jwtVerify(token, verificationKey, {
      algorithms: ['RS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const { sub, role, store_id: storeId, ver, dev: device, exp } = payload;
    if (typeof sub !== 'string' || typeof ver !== 'number' || typeof exp !== 'number')
      throw new errors.JWTClaimValidationFailed('claims', payload);
    const expiresAt = exp * 1000;
    // A table token without its tablet (issued before tablets were named) makes no caller.
    if (role === 'table' && typeof storeId === 'string' && typeof device === 'string') {
      return { principal: { role, sub, storeId, ver, device }, expiresAt };
    }
    if (role === 'store_admin' && typeof storeId === 'string') {
      return { principal: { role, sub, storeId, ver }, expiresAt };
    }
    if (role === 'super_admin' && storeId === null) {
      return { principal: { role, sub, storeId: null, ver }, expiresAt };
    }
    throw new errors.JWTClaimValidationFailed('role', payload);
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      throw new ApiError(401, 'TOKEN_EXPIRED', '로그인이 만료되었습니다. 다시 로그인해 주세요.');
    }
    if (error instanceof errors.JOSEError) {
      throw new ApiError(401, 'TOKEN_INVALID', '유효하지 않은 인증 정보입니다.');
    }
    throw error;
  }
}
