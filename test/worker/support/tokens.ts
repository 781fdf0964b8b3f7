/**
 * Fixtures for login and token tests: a fresh client IP per test (failed logins are counted per
 * IP in Redis, shared by every test and every run), hand-made tokens signed with the test key,
 * the app called with some bindings replaced, and a probe app that puts the real role middleware
 * in front of one route per role (store admin and table routes are written elsewhere).
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import {
  base64url,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Role } from '../../../worker/auth/tokens.ts';
import type { AppEnv } from '../../../worker/env.ts';
import { handleError } from '../../../worker/errors.ts';
import app from '../../../worker/index.ts';
import { requireRole } from '../../../worker/middleware/auth.ts';
import { database } from '../../../worker/middleware/db.ts';
import { redisClient } from '../../../worker/middleware/redis.ts';
import type { ApiResponse } from './fixtures.ts';

/** A client address no other test (in this run or an earlier one) has used. */
export function randomIp(): string {
  const hex = crypto.randomUUID().replaceAll('-', '');
  return `fd00:${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 12)}::${hex.slice(12, 16)}`;
}

/** Calls the real app with some bindings replaced (another key, Redis down …). */
export async function callWith(
  overrides: Partial<Env>,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  return dispatch(app, overrides, method, path, options);
}

const probeApp = new Hono<AppEnv>();
probeApp.use(requestId());
probeApp.use(database);
probeApp.use(redisClient);
for (const role of ['table', 'store_admin', 'super_admin'] as const) {
  probeApp.get(`/probe/${role}`, requireRole([role]), (c) => c.json(c.var.principal));
}
probeApp.onError(handleError);

/**
 * Calls a test-only route guarded by `requireRole([role])` — the middleware every real route uses —
 * and answers the verified principal.
 */
export function probe(role: Role, token?: string, overrides: Partial<Env> = {}) {
  return dispatch(probeApp, overrides, 'GET', `/probe/${role}`, { token });
}

async function dispatch(
  target: { fetch: Hono<AppEnv>['fetch'] },
  overrides: Partial<Env>,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> },
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const request = new Request(`http://table-order.test${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const ctx = createExecutionContext();
  const response = await target.fetch(request, { ...env, ...overrides }, ctx);
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  return {
    status: response.status,
    body: text ? JSON.parse(text) : undefined,
    headers: response.headers,
  };
}

/** The test deployment's signing key (the private JWK in `JWT_PRIVATE_KEY`). */
export async function testSigningKey(): Promise<{ key: CryptoKey; jwk: JWK; kid: string }> {
  const jwk = JSON.parse(env.JWT_PRIVATE_KEY) as JWK;
  return { key: (await importJWK(jwk, 'RS256')) as CryptoKey, jwk, kid: jwk.kid! };
}

/** A fresh RS256 key as an operator would configure it: private JWK JSON, kid, public JWK. */
export async function newSigningKey(): Promise<{
  privateJwk: string;
  kid: string;
  publicJwk: JWK;
}> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `rotated-${crypto.randomUUID()}`;
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateJwk: JSON.stringify(jwk), kid, publicJwk: publicHalf(jwk) };
}

/** An RSA JWK without its private members. */
export function publicHalf({ kty, n, e, kid, alg, use }: JWK): JWK {
  return { kty, n, e, kid, alg, use };
}

/**
 * Signs a token like the API does (RS256, test key, issuer, audience, 1 h) unless told otherwise.
 * `claims` are the API's own (`role`, `store_id`, `ver`, a table's `dev`) plus `sub`.
 */
export async function signToken(
  claims: { sub: string; role: string; store_id: string | null; ver: number; dev?: string },
  options: {
    key?: CryptoKey | Uint8Array;
    alg?: string;
    kid?: string;
    issuer?: string;
    audience?: string;
    expiresAt?: number;
  } = {},
): Promise<string> {
  const signing = options.key ? { key: options.key, kid: options.kid } : await testSigningKey();
  const { sub, ...rest } = claims;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(rest)
    .setProtectedHeader({
      alg: options.alg ?? 'RS256',
      kid: options.kid ?? signing.kid,
      typ: 'JWT',
    })
    .setSubject(sub)
    .setIssuer(options.issuer ?? 'table-order')
    .setAudience(options.audience ?? 'table-order-api')
    .setIssuedAt(now - 60)
    .setExpirationTime(options.expiresAt ?? now + 3600)
    .sign(options.key ?? signing.key);
}

/** A token's payload, readable without verifying it. */
export function payloadOf(token: string): JWTPayload & Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!)));
}

/** The same token with its payload replaced (the signature left as it was). */
export function withPayload(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  const body = base64url.encode(new TextEncoder().encode(JSON.stringify(payload)));
  return `${header}.${body}.${signature}`;
}

/** An unsigned token (`alg: none`) carrying `payload`. */
export function unsignedToken(payload: Record<string, unknown>, kid?: string): string {
  const encode = (value: unknown) =>
    base64url.encode(new TextEncoder().encode(JSON.stringify(value)));
  return `${encode({ alg: 'none', typ: 'JWT', kid })}.${encode(payload)}.`;
}
