import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  exportSPKI,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
} from 'jose';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { api, newStore, newSuperAdmin, newTable, PASSWORD, withDb } from './support/fixtures.ts';
import {
  callWith,
  newSigningKey,
  payloadOf,
  probe,
  publicHalf,
  randomIp,
  signToken,
  testSigningKey,
  unsignedToken,
  withPayload,
} from './support/tokens.ts';

/** A real route only the super admin may call: the target of the token attacks. */
const SUPER_ROUTE = '/api/superadmin/stores';
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

async function superClaims() {
  const admin = await newSuperAdmin();
  return { sub: admin.id, role: 'super_admin', store_id: null, ver: 0 };
}

function expectRefused(res: { status: number; body: any }, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(401);
  expect(res.body.error.code).toBe(code);
}

describe('publishing the public keys', () => {
  it('lists the signing key by kid, without any private member', async () => {
    const res = await api('GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const key = res.body.keys.find((k: { kid: string }) => k.kid === env.JWT_KEY_ID);
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', n: expect.any(String) });
    for (const published of res.body.keys) {
      for (const member of PRIVATE_MEMBERS) expect(published).not.toHaveProperty(member);
    }
  });

  it('lets anyone verify an issued token with the published keys alone', async () => {
    const admin = await newSuperAdmin();
    const login = await api('POST', '/api/superadmin/auth/login', {
      body: { username: admin.username, password: PASSWORD },
      headers: { 'cf-connecting-ip': randomIp() },
    });
    const token = login.body.access_token as string;
    expect(decodeProtectedHeader(token).kid).toBe(env.JWT_KEY_ID);
    const jwks = (await api('GET', '/.well-known/jwks.json')).body as JSONWebKeySet;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: 'table-order',
      audience: 'table-order-api',
    });
    expect(payload).toMatchObject({ sub: admin.id, role: 'super_admin', store_id: null });
  });
});

describe('refusing forged and broken tokens', () => {
  it('accepts a token made exactly like ours (so the refusals below are about the flaw)', async () => {
    const res = await api('GET', SUPER_ROUTE, { token: await signToken(await superClaims()) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('refuses an expired token with TOKEN_EXPIRED', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const token = await signToken(await superClaims(), { expiresAt: past });
    expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_EXPIRED');
  });

  it("refuses a store admin's token whose payload was edited into a super admin's", async () => {
    const store = await newStore();
    const claims = payloadOf(store.admin.token);
    const token = withPayload(store.admin.token, {
      ...claims,
      role: 'super_admin',
      store_id: null,
    });
    expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_INVALID');
  });

  it("refuses a store admin's token edited to name another store", async () => {
    const store = await newStore();
    const other = await newStore();
    const token = withPayload(store.admin.token, {
      ...payloadOf(store.admin.token),
      store_id: other.id,
    });
    expectRefused(await probe('store_admin', token), 'TOKEN_INVALID');
    expect((await probe('store_admin', store.admin.token)).status).toBe(200);
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const claims = await superClaims();
    const now = Math.floor(Date.now() / 1000);
    const token = unsignedToken(
      { ...claims, iss: 'table-order', aud: 'table-order-api', iat: now, exp: now + 3600 },
      env.JWT_KEY_ID,
    );
    expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_INVALID');
  });

  it('refuses an HS256 token keyed with our public key (algorithm confusion)', async () => {
    const { jwk } = await testSigningKey();
    const publicKey = (await importJWK(publicHalf(jwk), 'RS256', {
      extractable: true,
    })) as CryptoKey;
    const claims = await superClaims();
    for (const secret of [await exportSPKI(publicKey), JSON.stringify(publicHalf(jwk))]) {
      const token = await signToken(claims, {
        key: new TextEncoder().encode(secret),
        alg: 'HS256',
        kid: env.JWT_KEY_ID,
      });
      expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_INVALID');
    }
  });

  it('refuses a token signed by a key we never published, under our kid or its own', async () => {
    const stranger = await newSigningKey();
    const key = (await importJWK(JSON.parse(stranger.privateJwk), 'RS256')) as CryptoKey;
    const claims = await superClaims();
    for (const kid of [env.JWT_KEY_ID, stranger.kid]) {
      const token = await signToken(claims, { key, kid });
      expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_INVALID');
    }
  });

  it('refuses our own key under an unknown kid', async () => {
    const token = await signToken(await superClaims(), { kid: 'no-such-key' });
    expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_INVALID');
  });

  it('refuses a token for another issuer or another audience', async () => {
    const claims = await superClaims();
    for (const options of [{ issuer: 'someone-else' }, { audience: 'another-api' }]) {
      const token = await signToken(claims, options);
      expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_INVALID');
    }
  });

  it('refuses well-signed tokens whose claims do not make a caller', async () => {
    const claims = await superClaims();
    for (const bad of [
      { ...claims, role: 'owner' },
      { ...claims, store_id: crypto.randomUUID() }, // a super admin belongs to no store
      { ...claims, ver: '0' },
    ]) {
      const token = await signToken(bad as typeof claims);
      expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_INVALID');
    }
  });

  it('refuses garbage with TOKEN_INVALID', async () => {
    for (const token of ['garbage', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30.']) {
      expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_INVALID');
    }
  });

  it('asks for a login (TOKEN_MISSING) without a Bearer token', async () => {
    const token = await signToken(await superClaims());
    for (const authorization of [undefined, token, `Basic ${token}`, 'Bearer', 'Bearer  ']) {
      const headers: Record<string, string> = authorization ? { authorization } : {};
      expectRefused(await api('GET', SUPER_ROUTE, { headers }), 'TOKEN_MISSING');
    }
    expect(
      (await api('GET', SUPER_ROUTE, { headers: { authorization: `bearer ${token}` } })).status,
    ).toBe(200);
  });
});

describe('tokens of accounts that changed', () => {
  it('refuses the token of a table that was deleted', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    expect((await probe('table', table.token)).status).toBe(200);
    // Through the API: the account check is cached, and the removal is what invalidates it.
    const removed = await api('DELETE', `/api/admin/tables/${table.id}`, {
      token: store.admin.token,
    });
    expect(removed.status).toBe(204);
    expectRefused(await probe('table', table.token), 'TOKEN_INVALID');
  });

  it("refuses a tablet's tokens once the table's password changed", async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    await withDb((db) =>
      db
        .update(schema.diningTables)
        .set({ passwordVersion: 2 })
        .where(eq(schema.diningTables.id, table.id)),
    );
    expectRefused(await probe('table', table.token), 'TOKEN_INVALID');
  });

  it("refuses an admin's tokens once its token version moved on, and a deleted admin's", async () => {
    const store = await newStore();
    const other = await newStore();
    await withDb(async (db) => {
      await db
        .update(schema.admins)
        .set({ tokenVersion: 1 })
        .where(eq(schema.admins.id, store.admin.id));
      await db.delete(schema.admins).where(eq(schema.admins.id, other.admin.id));
    });
    expectRefused(await probe('store_admin', store.admin.token), 'TOKEN_INVALID');
    expectRefused(await probe('store_admin', other.admin.token), 'TOKEN_INVALID');
  });
});

describe('roles', () => {
  it('keeps tables and store admins out of the super admin console (403 FORBIDDEN)', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    for (const token of [table.token, store.admin.token]) {
      const res = await api('GET', SUPER_ROUTE, { token });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
  });

  it('keeps each role to its own routes', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const root = await newSuperAdmin();
    const tokens = { table: table.token, store_admin: store.admin.token, super_admin: root.token };
    for (const [holder, token] of Object.entries(tokens)) {
      for (const role of ['table', 'store_admin', 'super_admin'] as const) {
        const res = await probe(role, token);
        expect(res.status, `${holder} token on a ${role} route`).toBe(holder === role ? 200 : 403);
      }
    }
  });
});

describe('rotating the signing key', () => {
  async function rotation() {
    const { jwk } = await testSigningKey();
    const next = await newSigningKey();
    return {
      next,
      old: publicHalf(jwk),
      // What an operator deploys: the new key signs, the old public key still verifies.
      rotated: {
        JWT_PRIVATE_KEY: next.privateJwk,
        JWT_KEY_ID: next.kid,
        JWT_PREVIOUS_PUBLIC_KEYS: JSON.stringify({ keys: [publicHalf(jwk)] }),
      },
    };
  }

  it('keeps accepting tokens signed with the previous key while it is listed', async () => {
    const { rotated } = await rotation();
    const root = await newSuperAdmin();
    const res = await callWith(rotated, 'GET', SUPER_ROUTE, { token: root.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('signs new tokens with the new key, and publishes both keys', async () => {
    const { next, rotated } = await rotation();
    const root = await newSuperAdmin();
    const login = await callWith(rotated, 'POST', '/api/superadmin/auth/login', {
      body: { username: root.username, password: PASSWORD },
      headers: { 'cf-connecting-ip': randomIp() },
    });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    expect(decodeProtectedHeader(token).kid).toBe(next.kid);
    expect((await callWith(rotated, 'GET', SUPER_ROUTE, { token })).status).toBe(200);
    // A deployment that never heard of the new key does not accept it.
    expectRefused(await api('GET', SUPER_ROUTE, { token }), 'TOKEN_INVALID');

    const jwks = await callWith(rotated, 'GET', '/.well-known/jwks.json');
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([next.kid, env.JWT_KEY_ID]);
  });

  it('refuses tokens of the previous key once it is dropped from the list', async () => {
    const { rotated } = await rotation();
    const root = await newSuperAdmin();
    const dropped = { ...rotated, JWT_PREVIOUS_PUBLIC_KEYS: '' };
    expectRefused(
      await callWith(dropped, 'GET', SUPER_ROUTE, { token: root.token }),
      'TOKEN_INVALID',
    );
  });

  it('never publishes private members, even when a private key is listed as previous', async () => {
    const { jwk } = await testSigningKey();
    const { rotated } = await rotation();
    const careless = { ...rotated, JWT_PREVIOUS_PUBLIC_KEYS: JSON.stringify({ keys: [jwk] }) };
    const res = await callWith(careless, 'GET', '/.well-known/jwks.json');
    expect(res.body.keys).toHaveLength(2);
    for (const key of res.body.keys) {
      for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
    }
  });
});
