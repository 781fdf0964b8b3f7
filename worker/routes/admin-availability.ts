import { createRoute, z } from '@hono/zod-openapi';
import { actorOf } from '../domain/audit.ts';
import { switchAvailability } from '../domain/availability.ts';
import { MenuSchema } from '../domain/menu-view.ts';
import { authorized, storeOf } from '../middleware/auth.ts';
import { menuChanged } from '../platform/cache.ts';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from '../openapi.ts';

/** The 품절 switch: only `is_available`, so a typo never passes for a no-op. */
const Availability = z
  .strictObject({
    is_available: z.boolean().openapi({ description: 'false: sold out (품절); true: on sale' }),
  })
  .openapi('Availability');

const availabilityRoute = {
  tags: ['menus'],
  ...authorized('store_admin'),
  description:
    'Records `menu.availability_changed` `{menu_id, option_id, is_available}` (every stream of ' +
    'the store, tablets included) only when the value changes; the same value again answers ' +
    'the menu and tells no one. Every switch is kept in the audit trail. ' +
    "Another store's or an unknown id → 404 NOT_FOUND.",
  responses: {
    200: jsonResponse(MenuSchema, 'the menu, as the admin sees it'),
    ...errorResponses(400, 401, 403, 404),
  },
};

const menuAvailabilityRoute = createRoute({
  ...availabilityRoute,
  method: 'patch',
  path: '/api/admin/menus/{id}/availability',
  summary: 'Mark a dish sold out (품절) or on sale again',
  request: { params: IdParam, body: jsonBody(Availability) },
});
const optionAvailabilityRoute = createRoute({
  ...availabilityRoute,
  method: 'patch',
  path: '/api/admin/options/{id}/availability',
  summary: "Mark one option of a dish sold out or on sale again (answers the option's menu)",
  request: { params: IdParam, body: jsonBody(Availability) },
});

/**
 * The store admin's 품절 switches, for a dish or one of its options: the tablets learn at once
 * through `menu.availability_changed`, and the guests' cached menu is invalidated.
 */
export const adminAvailability = createRouter()
  .openapi(menuAvailabilityRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const { is_available } = c.req.valid('json');
    const menu = await switchAvailability(
      c.var.db,
      storeId,
      { menuId: id },
      actorOf(c.var.principal),
      is_available,
    );
    await menuChanged(c.var.redis, storeId);
    return c.json(menu, 200);
  })
  .openapi(optionAvailabilityRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { id } = c.req.valid('param');
    const { is_available } = c.req.valid('json');
    const menu = await switchAvailability(
      c.var.db,
      storeId,
      { optionId: id },
      actorOf(c.var.principal),
      is_available,
    );
    await menuChanged(c.var.redis, storeId);
    return c.json(menu, 200);
  });
