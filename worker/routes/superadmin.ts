import { createRoute, z } from '@hono/zod-openapi';
import { DEFAULT_HISTORY_RETENTION_DAYS, MENU_LANGUAGES } from '../../db/schema.ts';
import { actorOf } from '../domain/audit.ts';
import {
  createStoreAdmin,
  listStoreAdmins,
  setStoreAdminActive,
  StoreAdminSchema,
} from '../domain/admins.ts';
import {
  canonicalTimeZone,
  changeOrderAckSeconds,
  DEFAULT_TIMEZONE,
  listStores,
  openStore,
  StoreSchema,
  StoreSettingsChange,
} from '../domain/stores.ts';
import { revokeAccess } from '../hub/revocation.ts';
import { accountChanged } from '../platform/cache.ts';
import { authorized } from '../middleware/auth.ts';
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
  PageQuery,
  Pagination,
  pagination,
  SingleLine,
  Uuid,
} from '../openapi.ts';

const StoreBody = z.object({
  name: SingleLine.trim().min(1).max(100),
  timezone: SingleLine.trim()
    .max(64)
    .refine((tz) => canonicalTimeZone(tz) !== undefined, 'not an IANA time zone')
    .overwrite((tz) => canonicalTimeZone(tz) ?? tz)
    .default(DEFAULT_TIMEZONE)
    .openapi({ example: 'Asia/Seoul', description: `IANA time zone, default ${DEFAULT_TIMEZONE}` }),
  default_language: z.enum(MENU_LANGUAGES).default('ko').openapi({
    description: "the language of the menu's base names (the kitchen's), default ko",
  }),
  history_retention_days: z
    .int()
    .min(1)
    .max(3650)
    .default(DEFAULT_HISTORY_RETENTION_DAYS)
    .openapi({
      description: `days a completed order stays in the history, default ${DEFAULT_HISTORY_RETENTION_DAYS}`,
    }),
});

/**
 * Usernames are typed on a tablet-sized keyboard and compared exactly at login: lower-case
 * letters, digits, `.`, `_`, `-`, starting with a letter or digit. Upper case is refused rather
 * than folded, so `Kim` and `kim` can never be two accounts of one store.
 */
const Username = SingleLine.min(3)
  .max(50)
  .regex(/^[a-z0-9][a-z0-9._-]*$/)
  .openapi({ example: 'counter-1' });

const StoreAdminBody = z.object({
  store_id: Uuid,
  username: Username,
  password: SingleLine.min(8).max(100),
});

const StoreAdminQuery = PageQuery.extend({
  store_id: Uuid.optional(),
  q: SingleLine.trim()
    .max(50)
    .optional()
    .openapi({ description: 'part of the username, case-insensitive' }),
});

const createStore = createRoute({
  method: 'post',
  path: '/api/superadmin/stores',
  tags: ['superadmin'],
  summary: 'Open a new store',
  ...authorized('super_admin'),
  request: { body: jsonBody(StoreBody) },
  responses: {
    201: jsonResponse(StoreSchema, 'the new store'),
    ...errorResponses(400, 401, 403),
  },
});

const storeList = createRoute({
  method: 'get',
  path: '/api/superadmin/stores',
  tags: ['superadmin'],
  summary: 'Every store, by name',
  ...authorized('super_admin'),
  responses: {
    200: jsonResponse(z.object({ stores: z.array(StoreSchema) }), 'the stores'),
    ...errorResponses(401, 403),
  },
});

const changeStore = createRoute({
  method: 'patch',
  path: '/api/superadmin/stores/{id}',
  tags: ['superadmin'],
  summary: "Set how long a store's orders may wait unacknowledged",
  description:
    'The same setting as the store admin’s `PATCH /api/admin/store`, kept in the store’s audit ' +
    'trail (`store.updated`, `{from, to}`). Unknown store → 404.',
  ...authorized('super_admin'),
  request: { params: IdParam, body: jsonBody(StoreSettingsChange) },
  responses: {
    200: jsonResponse(StoreSchema, 'the store'),
    ...errorResponses(400, 401, 403, 404),
  },
});

const createAdmin = createRoute({
  method: 'post',
  path: '/api/superadmin/admins',
  tags: ['superadmin'],
  summary: "Create a store's admin account",
  ...authorized('super_admin'),
  request: { body: jsonBody(StoreAdminBody) },
  responses: {
    201: jsonResponse(StoreAdminSchema, 'the new store admin'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const adminList = createRoute({
  method: 'get',
  path: '/api/superadmin/admins',
  tags: ['superadmin'],
  summary: 'Store admins, newest first, by store and part of the username',
  ...authorized('super_admin'),
  request: { query: StoreAdminQuery },
  responses: {
    200: jsonResponse(
      z.object({ data: z.array(StoreAdminSchema), pagination: Pagination }),
      'one page of store admins',
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

function adminSwitch(action: 'activate' | 'deactivate', summary: string) {
  return createRoute({
    method: 'patch',
    path: `/api/superadmin/admins/{id}/${action}`,
    tags: ['superadmin'],
    summary,
    ...authorized('super_admin'),
    request: { params: IdParam },
    responses: {
      200: jsonResponse(StoreAdminSchema, 'the store admin'),
      ...errorResponses(400, 401, 403, 404),
    },
  });
}
const activateAdmin = adminSwitch(
  'activate',
  'Let a store admin log in again (tokens from before the deactivation stay revoked)',
);
const deactivateAdmin = adminSwitch(
  'deactivate',
  'Disable a store admin: its tokens are refused from the next request (403 ACCOUNT_DISABLED)',
);

/**
 * The operator's console: stores and the accounts of their admins, each write kept in the audit
 * trail of the store it concerns.
 */
export const superadmin = createRouter()
  .openapi(createStore, async (c) => {
    const store = await openStore(c.var.db, actorOf(c.var.principal), c.req.valid('json'));
    return c.json(store, 201);
  })
  .openapi(storeList, async (c) => {
    return c.json({ stores: await listStores(c.var.db) }, 200);
  })
  .openapi(changeStore, async (c) => {
    const { id } = c.req.valid('param');
    const { order_ack_seconds } = c.req.valid('json');
    const actor = actorOf(c.var.principal);
    return c.json(await changeOrderAckSeconds(c.var.db, actor, id, order_ack_seconds), 200);
  })
  .openapi(createAdmin, async (c) => {
    const body = c.req.valid('json');
    const admin = await createStoreAdmin(c.var.db, actorOf(c.var.principal), {
      storeId: body.store_id,
      username: body.username,
      password: body.password,
    });
    return c.json(admin, 201);
  })
  .openapi(adminList, async (c) => {
    const query = c.req.valid('query');
    const { admins, total } = await listStoreAdmins(c.var.db, {
      storeId: query.store_id,
      q: query.q,
      page: query.page,
      pageSize: query.page_size,
    });
    return c.json(
      { data: admins, pagination: pagination(query.page, query.page_size, total) },
      200,
    );
  })
  .openapi(activateAdmin, async (c) => {
    const { id } = c.req.valid('param');
    const admin = await setStoreAdminActive(c.var.db, id, actorOf(c.var.principal), true);
    // Its tokens from before are judged by the new token version on their very next request.
    await accountChanged(c.var.redis, admin.id);
    return c.json(admin, 200);
  })
  .openapi(deactivateAdmin, async (c) => {
    const { id } = c.req.valid('param');
    const admin = await setStoreAdminActive(c.var.db, id, actorOf(c.var.principal), false);
    await revokeAccess(c.env, c.var.redis, { id: admin.id, storeId: admin.store_id });
    return c.json(admin, 200);
  });
