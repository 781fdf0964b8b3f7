import { createRoute, z } from '@hono/zod-openapi';
import {
  GuestMenuCategorySchema,
  GuestMenuSchema,
  loadGuestMenu,
  loadGuestMenuItem,
} from '../domain/menu-view.ts';
import { CACHE_TTL_SECONDS, cached, cacheKeys } from '../platform/cache.ts';
import { authorized, authorizedReading, storeOf } from '../middleware/auth.ts';
import { createRouter, errorResponses, IdParam, jsonResponse } from '../openapi.ts';

const guestMenuRoute = createRoute({
  method: 'get',
  path: '/api/customer/menus',
  tags: ['customer'],
  summary: "The store's menu for the tablet: categories with their menus, sold-out ones included",
  ...authorizedReading((table) => cacheKeys.guestMenu(storeOf(table)), 'table'),
  responses: {
    200: jsonResponse(
      z.object({ categories: z.array(GuestMenuCategorySchema) }).openapi('GuestMenuBook'),
      'categories and menus in display order',
    ),
    ...errorResponses(401, 403),
  },
});

const guestMenuItemRoute = createRoute({
  method: 'get',
  path: '/api/customer/menus/{id}',
  tags: ['customer'],
  summary: 'One menu of the store, for its detail view',
  ...authorized('table'),
  request: { params: IdParam },
  responses: {
    200: jsonResponse(GuestMenuSchema, 'the menu'),
    ...errorResponses(400, 401, 403, 404),
  },
});

/**
 * What guests browse on the tablet: their store's menu, nothing else. The whole menu is read
 * through the cache (every tablet of the store asks for the same answer), read side by side
 * with the tablet's checks; the admin's menu writes invalidate it.
 */
export const customerMenus = createRouter()
  .openapi(guestMenuRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const categories = await cached(
      c.var.redis,
      cacheKeys.guestMenu(storeId),
      CACHE_TTL_SECONDS,
      () => loadGuestMenu(c.var.db, storeId),
      c.var.prefetched,
    );
    return c.json({ categories }, 200);
  })
  .openapi(guestMenuItemRoute, async (c) => {
    const menu = await loadGuestMenuItem(
      c.var.db,
      storeOf(c.var.principal),
      c.req.valid('param').id,
    );
    return c.json(menu, 200);
  });
