import { createRoute } from '@hono/zod-openapi';
import { actorOf } from '../domain/audit.ts';
import {
  changeOrderAckSeconds,
  StoreSettingsChange,
  StoreSettingsSchema,
  storeOfId,
  toStoreSettings,
} from '../domain/stores.ts';
import { authorized, storeOf } from '../middleware/auth.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../openapi.ts';

const readSettings = createRoute({
  method: 'get',
  path: '/api/admin/store',
  tags: ['admin: store'],
  summary: "The caller's store and its settings",
  ...authorized('store_admin'),
  responses: {
    200: jsonResponse(StoreSettingsSchema, 'the store'),
    ...errorResponses(401, 403),
  },
});

const changeSettings = createRoute({
  method: 'patch',
  path: '/api/admin/store',
  tags: ['admin: store'],
  summary: 'Sets how long an order may wait unacknowledged before the screens are alerted',
  description:
    'Orders taken from now on are alerted (`order.unacknowledged`) by the new time; those ' +
    'already taken keep the time they were taken with. Kept in the audit trail ' +
    '(`store.updated`, `{from, to}`).',
  ...authorized('store_admin'),
  request: { body: jsonBody(StoreSettingsChange) },
  responses: {
    200: jsonResponse(StoreSettingsSchema, 'the store with its new settings'),
    ...errorResponses(400, 401, 403),
  },
});

/**
 * The store admin's own store: its settings, read and changed. No cached answer shows them: an
 * order reads the store's time in its own statement.
 */
export const adminStore = createRouter()
  .openapi(readSettings, async (c) => {
    const store = await storeOfId(c.var.db, storeOf(c.var.principal));
    return c.json(toStoreSettings(store), 200);
  })
  .openapi(changeSettings, async (c) => {
    const { order_ack_seconds } = c.req.valid('json');
    const store = await changeOrderAckSeconds(
      c.var.db,
      actorOf(c.var.principal),
      storeOf(c.var.principal),
      order_ack_seconds,
    );
    return c.json(toStoreSettings(store), 200);
  });
