import { createRoute, z } from '@hono/zod-openapi';
import { actorOf } from '../domain/audit.ts';
import {
  MergedSessionSchema,
  mergeSession,
  MovedSessionSchema,
  moveSession,
} from '../domain/table-moves.ts';
import {
  addTable,
  changeTable,
  listTables,
  releaseDevice,
  removeTable,
  TableSchema,
} from '../domain/tables.ts';
import { revokeAccess } from '../hub/revocation.ts';
import { changingFloor, floorChanged, historyChanged } from '../platform/cache.ts';
import { authorized, storeOf } from '../middleware/auth.ts';
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
  SingleLine,
  TableLabel,
  Uuid,
} from '../openapi.ts';

/** What the tablet is set up with; stored only as a bcrypt hash. */
const TablePassword = SingleLine.min(4).max(64).openapi({ example: '1234' });

const listRoute = createRoute({
  method: 'get',
  path: '/api/admin/tables',
  tags: ['tables'],
  summary: "The store's tables, in natural order of their labels, with who is seated",
  ...authorized('store_admin'),
  responses: {
    200: jsonResponse(z.object({ tables: z.array(TableSchema) }), 'the tables'),
    ...errorResponses(401, 403),
  },
});

const addRoute = createRoute({
  method: 'post',
  path: '/api/admin/tables',
  tags: ['tables'],
  summary: 'Set up a table (its label and the password the tablet logs in with)',
  description: 'The label is unique in the store ignoring case: 409 TABLE_NUMBER_TAKEN.',
  ...authorized('store_admin'),
  request: {
    body: jsonBody(z.object({ table_number: TableLabel, password: TablePassword })),
  },
  responses: {
    201: jsonResponse(TableSchema, 'the new table'),
    ...errorResponses(400, 401, 403, 409),
  },
});

const changeRoute = createRoute({
  method: 'patch',
  path: '/api/admin/tables/{id}',
  tags: ['tables'],
  summary: 'Relabel a table or change its password (which logs the tablet out)',
  ...authorized('store_admin'),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .object({ table_number: TableLabel.optional(), password: TablePassword.optional() })
        .refine((body) => body.table_number !== undefined || body.password !== undefined, {
          message: 'table_number 또는 password 중 하나는 필요합니다.',
        }),
    ),
  },
  responses: {
    200: jsonResponse(TableSchema, 'the table'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const removeRoute = createRoute({
  method: 'delete',
  path: '/api/admin/tables/{id}',
  tags: ['tables'],
  summary: 'Remove a table nobody is seated at (409 TABLE_HAS_ACTIVE_SESSION otherwise)',
  ...authorized('store_admin'),
  request: { params: IdParam },
  responses: {
    204: { description: 'removed' },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const releaseDeviceRoute = createRoute({
  method: 'post',
  path: '/api/admin/tables/{id}/release-device',
  tags: ['tables'],
  summary: 'Lets the table’s tablet go, so that another tablet can log in (a replaced tablet)',
  description:
    'The tablet that held the table is refused from its next request on (401 TOKEN_INVALID) ' +
    'and its streams end; the next tablet to log in holds the table. A table no tablet holds ' +
    'answers as it is. Audit `table.device_released` `{device_id}`.',
  ...authorized('store_admin'),
  request: { params: IdParam },
  responses: {
    200: jsonResponse(TableSchema, 'the table, held by no tablet'),
    ...errorResponses(400, 401, 403, 404),
  },
});

const moveRoute = createRoute({
  method: 'post',
  path: '/api/admin/tables/{id}/move',
  tags: ['tables'],
  summary: 'Moves the party seated here, with its orders and open calls, to a free table',
  description:
    'The source table is left free. Nobody seated here → 409 NO_ACTIVE_SESSION; a party at ' +
    'the target → 409 TABLE_OCCUPIED; the same table → 400; another store’s table → 404. ' +
    'Event `table.session_moved`, to the admins and both tables.',
  ...authorized('store_admin'),
  request: {
    params: IdParam,
    body: jsonBody(z.strictObject({ to_table_id: Uuid }).openapi('MoveSession')),
  },
  responses: {
    200: jsonResponse(MovedSessionSchema, 'the party at its new table, with its bill so far'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const mergeRoute = createRoute({
  method: 'post',
  path: '/api/admin/tables/{id}/merge',
  tags: ['tables'],
  summary: 'Merges the party seated here into the party at another table (합석)',
  description:
    'Its orders join the target’s session, its session ends, its open calls go along, and the ' +
    'source table is left free. Nobody seated at either table → 409 NO_ACTIVE_SESSION (details ' +
    'name the table); the same table → 400; another store’s table → 404. Event ' +
    '`table.session_merged`, to the admins and both tables.',
  ...authorized('store_admin'),
  request: {
    params: IdParam,
    body: jsonBody(z.strictObject({ into_table_id: Uuid }).openapi('MergeSession')),
  },
  responses: {
    200: jsonResponse(MergedSessionSchema, "the target's session, with both parties' bill"),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

/**
 * The store admin's table set-up: list, add, relabel or re-password, remove, let its tablet go.
 * Every change of the floor invalidates the cached dashboard once committed; a new password, a
 * removed table or a released tablet revokes the tablet's access (`revokeAccess`): its old
 * tokens are refused on the next request and its open streams end at once. Cache keys and the
 * hub come from the row, not the path. Moving or merging a party changes the floor (the cached
 * dashboard is invalidated side by side with the write), not the history: the party is archived
 * under its table at 이용 완료.
 */
export const adminTables = createRouter()
  .openapi(listRoute, async (c) => {
    const tables = await listTables(c.var.db, storeOf(c.var.principal));
    return c.json({ tables }, 200);
  })
  .openapi(addRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const body = c.req.valid('json');
    const table = await addTable(c.var.db, storeId, actorOf(c.var.principal), {
      tableNumber: body.table_number,
      password: body.password,
    });
    await floorChanged(c.var.redis, storeId);
    return c.json(table, 201);
  })
  .openapi(changeRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const table = await changeTable(c.var.db, storeId, id, actorOf(c.var.principal), {
      tableNumber: body.table_number,
      password: body.password,
    });
    const redis = c.var.redis;
    await Promise.all([
      floorChanged(redis, storeId),
      body.password !== undefined && revokeAccess(c.env, redis, { id: table.id, storeId }),
    ]);
    return c.json(table, 200);
  })
  .openapi(removeRoute, async (c) => {
    const { id } = c.req.valid('param');
    const principal = c.var.principal;
    const table = await removeTable(c.var.db, storeOf(principal), id, actorOf(principal));
    const redis = c.var.redis;
    await Promise.all([
      floorChanged(redis, table.storeId),
      revokeAccess(c.env, redis, table),
      // Its history stays, but is no longer the table's: its pages must answer 404 now.
      historyChanged(redis, table.id),
    ]);
    return c.body(null, 204);
  })
  .openapi(releaseDeviceRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const { table, released } = await releaseDevice(
      c.var.db,
      storeId,
      id,
      actorOf(c.var.principal),
    );
    if (released) await revokeAccess(c.env, c.var.redis, { id: table.id, storeId });
    return c.json(table, 200);
  })
  .openapi(moveRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const { to_table_id: toTableId } = c.req.valid('json');
    const moved = await changingFloor(c.var.redis, storeId, () =>
      moveSession(c.var.db, storeId, { fromTableId: id, toTableId }, actorOf(c.var.principal)),
    );
    return c.json(moved, 200);
  })
  .openapi(mergeRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const { into_table_id: intoTableId } = c.req.valid('json');
    const merged = await changingFloor(c.var.redis, storeId, () =>
      mergeSession(c.var.db, storeId, { fromTableId: id, intoTableId }, actorOf(c.var.principal)),
    );
    return c.json(merged, 200);
  });
