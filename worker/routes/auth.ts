import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { keyRing } from '../auth/keys.ts';
import { DEVICE_LEASE_SILENCE_HOURS } from '../domain/device-lease.ts';
import { loginStoreAdmin, loginSuperAdmin, loginTable } from '../domain/logins.ts';
import { TableLabelText } from '../domain/tables.ts';
import type { AppEnv } from '../env.ts';
import { revokeAccess } from '../hub/revocation.ts';
import {
  createRouter,
  errorResponses,
  jsonBody,
  jsonResponse,
  SingleLine,
  TableLabel,
  Uuid,
} from '../openapi.ts';

const Password = SingleLine.min(1).max(200);
/** PostgreSQL text cannot hold NUL: such a name would fail the look-up with a 500, not a 400. */
const Username = SingleLine.min(1).max(100);
const TokenFields = {
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().openapi({ example: 57_600 }),
};

/**
 * What a login needs of the request: the database, the bindings, and the caller's IP as
 * Cloudflare reports it (one throttle bucket for all callers it does not name).
 */
function caller(c: Context<AppEnv>) {
  return { db: c.var.db, env: c.env, ip: c.req.header('cf-connecting-ip') ?? 'unknown' };
}

const tableLogin = createRoute({
  method: 'post',
  path: '/api/customer/auth/login',
  tags: ['auth'],
  summary: 'A tablet logs in as its table',
  description:
    'The table is found by its label ignoring case (`"a-1"` logs into `"A-1"`). The first ' +
    'tablet (`device_id`) to log in holds the table; another tablet gets 409 TABLE_IN_USE ' +
    '(`details.last_seen_at`: when the holder was last heard from) until an admin releases ' +
    `the table or the holder has been silent for ${DEVICE_LEASE_SILENCE_HOURS} h. A wrong ` +
    'password is 401 whoever holds the table.',
  request: {
    body: jsonBody(
      z.object({
        store_id: Uuid,
        table_number: TableLabel,
        password: Password,
        device_id: Uuid.openapi({
          description: 'the tablet’s own id: a UUID it makes once and keeps',
        }),
      }),
    ),
  },
  responses: {
    200: jsonResponse(
      z
        .object({
          ...TokenFields,
          table: z.object({ id: z.uuid(), table_number: TableLabelText }),
          store: z.object({ id: z.uuid(), name: z.string() }),
        })
        .openapi('TableLogin'),
      'a table token, for this tablet',
    ),
    ...errorResponses(400, 401, 409, 429),
  },
});

const adminLogin = createRoute({
  method: 'post',
  path: '/api/admin/auth/login',
  tags: ['auth'],
  summary: 'A store admin logs in',
  request: {
    body: jsonBody(z.object({ store_id: Uuid, username: Username, password: Password })),
  },
  responses: {
    200: jsonResponse(
      z
        .object({
          ...TokenFields,
          admin: z.object({ id: z.uuid(), username: z.string(), store_id: z.uuid() }),
        })
        .openapi('AdminLogin'),
      'a store admin token',
    ),
    ...errorResponses(400, 401, 403, 429),
  },
});

const superAdminLogin = createRoute({
  method: 'post',
  path: '/api/superadmin/auth/login',
  tags: ['auth'],
  summary: 'The super admin logs in',
  request: {
    body: jsonBody(z.object({ username: Username, password: Password })),
  },
  responses: {
    200: jsonResponse(z.object(TokenFields).openapi('SuperAdminLogin'), 'a super admin token'),
    ...errorResponses(400, 401, 403, 429),
  },
});

const jwks = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  tags: ['auth'],
  summary: 'Public keys that verify our tokens (by kid)',
  responses: {
    200: jsonResponse(
      z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi('JWKS'),
      'JWKS',
    ),
  },
});

/**
 * Logins for the three kinds of caller, and the public keys that verify their tokens. A table
 * login that gives the table to another tablet revokes the old tablet's access once committed.
 */
export const auth = createRouter()
  .openapi(tableLogin, async (c) => {
    const body = c.req.valid('json');
    const { login, changedHands } = await loginTable(caller(c), {
      storeId: body.store_id,
      tableNumber: body.table_number,
      password: body.password,
      deviceId: body.device_id,
    });
    // The tablet that had the table (if any) loses it now: its tokens and streams end.
    if (changedHands) {
      await revokeAccess(c.env, c.var.redis, { id: login.table.id, storeId: login.store.id });
    }
    return c.json(login, 200);
  })
  .openapi(adminLogin, async (c) => {
    const body = c.req.valid('json');
    const result = await loginStoreAdmin(caller(c), {
      storeId: body.store_id,
      username: body.username,
      password: body.password,
    });
    return c.json(result, 200);
  })
  .openapi(superAdminLogin, async (c) => {
    const body = c.req.valid('json');
    return c.json(await loginSuperAdmin(caller(c), body), 200);
  })
  .openapi(jwks, async (c) => {
    const ring = await keyRing(c.env);
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ keys: ring.jwks.keys as Array<Record<string, unknown>> }, 200);
  });
