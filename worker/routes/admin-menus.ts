import { createRoute, z } from '@hono/zod-openapi';
import {
  addCategory,
  CategorySchema,
  changeCategory,
  listCategories,
  removeCategory,
} from '../domain/categories.ts';
import { actorOf } from '../domain/audit.ts';
import { MenuSchema } from '../domain/menu-view.ts';
import {
  addMenu,
  changeMenu,
  getMenu,
  listMenus,
  removeMenu,
  reorderMenus,
} from '../domain/menus.ts';
import { DisplayOrder, OptionGroupsInput, replaceOptionGroups } from '../domain/option-groups.ts';
import { translationsOf } from '../domain/translations.ts';
import { menuChanged } from '../platform/cache.ts';
import { authorized, storeOf } from '../middleware/auth.ts';
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
  MultiLine,
  SingleLine,
  Uuid,
} from '../openapi.ts';

/** At least one field: an empty PATCH is a client bug, not a silent no-op. */
const notEmpty = [
  (body: object) => Object.values(body).some((value) => value !== undefined),
  { message: '변경할 값을 하나 이상 보내 주세요.' },
] as const;

const CategoryName = SingleLine.trim().min(1).max(50);
const CategoryFields = z.object({
  name: CategoryName.openapi({ example: '찌개류' }),
  translations: translationsOf(CategoryName).optional().openapi({
    description: 'replaces every translation of the category ({} removes them)',
  }),
  display_order: DisplayOrder.optional().openapi({ description: 'default: after the last one' }),
});
const MenuName = SingleLine.trim().min(1).max(100);
const MenuDescription = MultiLine.trim().max(1000).nullable().optional();
const MenuFields = z.object({
  category_id: Uuid,
  name: MenuName.openapi({ example: '김치찌개' }),
  price: z.number().int().min(0).max(10_000_000).openapi({ description: 'whole won' }),
  description: MenuDescription,
  translations: translationsOf(MenuName, MenuDescription).optional().openapi({
    description: 'replaces every translation of the menu ({} removes them)',
  }),
  is_available: z.boolean().optional().openapi({ description: 'default true; false = 품절' }),
  display_order: DisplayOrder.optional().openapi({ description: 'default: last in its category' }),
});

/** The domain's names for a menu body. */
function menuInput(body: Partial<z.infer<typeof MenuFields>>) {
  return {
    categoryId: body.category_id,
    name: body.name,
    price: body.price,
    description: body.description,
    translations: body.translations,
    isAvailable: body.is_available,
    displayOrder: body.display_order,
  };
}

const categoryRoute = { tags: ['categories'], ...authorized('store_admin') };
const menuRoute = { tags: ['menus'], ...authorized('store_admin') };
const Categories = z.object({ categories: z.array(CategorySchema) });
const Menus = z.object({ menus: z.array(MenuSchema) });

const listCategoriesRoute = createRoute({
  ...categoryRoute,
  method: 'get',
  path: '/api/admin/categories',
  summary: 'Menu categories, in the order guests see them',
  responses: { 200: jsonResponse(Categories, 'the categories'), ...errorResponses(401, 403) },
});
const addCategoryRoute = createRoute({
  ...categoryRoute,
  method: 'post',
  path: '/api/admin/categories',
  summary: 'Add a menu category (409 CATEGORY_NAME_TAKEN)',
  request: { body: jsonBody(CategoryFields) },
  responses: {
    201: jsonResponse(CategorySchema, 'the new category'),
    ...errorResponses(400, 401, 403, 409),
  },
});
const changeCategoryRoute = createRoute({
  ...categoryRoute,
  method: 'patch',
  path: '/api/admin/categories/{id}',
  summary: 'Rename, translate or move a menu category',
  request: { params: IdParam, body: jsonBody(CategoryFields.partial().refine(...notEmpty)) },
  responses: {
    200: jsonResponse(CategorySchema, 'the category'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});
const removeCategoryRoute = createRoute({
  ...categoryRoute,
  method: 'delete',
  path: '/api/admin/categories/{id}',
  summary: 'Remove an empty menu category (409 CATEGORY_HAS_MENUS)',
  request: { params: IdParam },
  responses: { 204: { description: 'removed' }, ...errorResponses(400, 401, 403, 404, 409) },
});

const listMenusRoute = createRoute({
  ...menuRoute,
  method: 'get',
  path: '/api/admin/menus',
  summary: 'Menus of the store, or of one category',
  request: { query: z.object({ category_id: Uuid.optional() }) },
  responses: { 200: jsonResponse(Menus, 'the menus'), ...errorResponses(400, 401, 403, 404) },
});
const addMenuRoute = createRoute({
  ...menuRoute,
  method: 'post',
  path: '/api/admin/menus',
  summary: 'Add a menu to a category',
  request: { body: jsonBody(MenuFields) },
  responses: {
    201: jsonResponse(MenuSchema, 'the new menu'),
    ...errorResponses(400, 401, 403, 404),
  },
});
const reorderRoute = createRoute({
  ...menuRoute,
  method: 'put',
  path: '/api/admin/menus/order',
  summary: "Put a category's menus in order (menu_ids: exactly that category's menus)",
  description:
    'An id that is not a menu of the category → 404 NOT_FOUND (details.menu_ids); a menu of the ' +
    'category left out, or an id twice → 400 VALIDATION_ERROR.',
  request: {
    body: jsonBody(
      z.object({
        category_id: Uuid,
        menu_ids: z
          .array(Uuid)
          .max(1000)
          .refine((ids) => new Set(ids).size === ids.length, {
            message: '같은 메뉴가 두 번 들어 있습니다.',
          }),
      }),
    ),
  },
  responses: {
    200: jsonResponse(Menus, "the category's menus in their new order"),
    ...errorResponses(400, 401, 403, 404),
  },
});
const getMenuRoute = createRoute({
  ...menuRoute,
  method: 'get',
  path: '/api/admin/menus/{id}',
  summary: 'One menu',
  request: { params: IdParam },
  responses: { 200: jsonResponse(MenuSchema, 'the menu'), ...errorResponses(400, 401, 403, 404) },
});
const changeMenuRoute = createRoute({
  ...menuRoute,
  method: 'patch',
  path: '/api/admin/menus/{id}',
  summary: 'Change a menu: price, 품절, text, translations, order or category',
  request: { params: IdParam, body: jsonBody(MenuFields.partial().refine(...notEmpty)) },
  responses: { 200: jsonResponse(MenuSchema, 'the menu'), ...errorResponses(400, 401, 403, 404) },
});
const replaceOptionGroupsRoute = createRoute({
  ...menuRoute,
  method: 'put',
  path: '/api/admin/menus/{id}/option-groups',
  summary: "Replace a menu's choices (option groups and their options)",
  description:
    'Groups and options given with an id keep it; those left out are removed; an id that is not ' +
    "one of this menu's → 404 NOT_FOUND (details.group_ids, details.option_ids), nothing written. " +
    'min_select ≤ max_select, and both at most the number of options in the group.',
  request: { params: IdParam, body: jsonBody(OptionGroupsInput) },
  responses: {
    200: jsonResponse(MenuSchema, 'the menu with its new choices'),
    ...errorResponses(400, 401, 403, 404),
  },
});
const removeMenuRoute = createRoute({
  ...menuRoute,
  method: 'delete',
  path: '/api/admin/menus/{id}',
  summary: 'Remove a menu (orders already taken keep its name and price)',
  request: { params: IdParam },
  responses: { 204: { description: 'removed' }, ...errorResponses(400, 401, 403, 404) },
});

/**
 * The store admin's menu book: categories, menus and their choices. Every change emits
 * `menu.updated`, is kept in the audit trail and invalidates the guests' cached menu.
 */
export const adminMenus = createRouter()
  .openapi(listCategoriesRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const categories = await listCategories(c.var.db, storeId);
    return c.json({ categories }, 200);
  })
  .openapi(addCategoryRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { name, translations, display_order } = c.req.valid('json');
    const category = await addCategory(c.var.db, storeId, actorOf(c.var.principal), {
      name,
      translations,
      displayOrder: display_order,
    });
    await menuChanged(c.var.redis, storeId);
    return c.json(category, 201);
  })
  .openapi(changeCategoryRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { name, translations, display_order } = c.req.valid('json');
    const category = await changeCategory(
      c.var.db,
      storeId,
      c.req.valid('param').id,
      actorOf(c.var.principal),
      { name, translations, displayOrder: display_order },
    );
    await menuChanged(c.var.redis, storeId);
    return c.json(category, 200);
  })
  .openapi(removeCategoryRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    await removeCategory(c.var.db, storeId, c.req.valid('param').id, actorOf(c.var.principal));
    await menuChanged(c.var.redis, storeId);
    return c.body(null, 204);
  })
  .openapi(listMenusRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { category_id } = c.req.valid('query');
    const menus = await listMenus(c.var.db, storeId, category_id);
    return c.json({ menus }, 200);
  })
  .openapi(addMenuRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const body = c.req.valid('json');
    const menu = await addMenu(c.var.db, storeId, actorOf(c.var.principal), {
      ...menuInput(body),
      categoryId: body.category_id,
      name: body.name,
      price: body.price,
    });
    await menuChanged(c.var.redis, storeId);
    return c.json(menu, 201);
  })
  .openapi(reorderRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const { category_id, menu_ids } = c.req.valid('json');
    const menus = await reorderMenus(
      c.var.db,
      storeId,
      category_id,
      actorOf(c.var.principal),
      menu_ids,
    );
    await menuChanged(c.var.redis, storeId);
    return c.json({ menus }, 200);
  })
  .openapi(getMenuRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const menu = await getMenu(c.var.db, storeId, c.req.valid('param').id);
    return c.json(menu, 200);
  })
  .openapi(changeMenuRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const menu = await changeMenu(
      c.var.db,
      storeId,
      c.req.valid('param').id,
      actorOf(c.var.principal),
      menuInput(c.req.valid('json')),
    );
    await menuChanged(c.var.redis, storeId);
    return c.json(menu, 200);
  })
  .openapi(replaceOptionGroupsRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const menu = await replaceOptionGroups(
      c.var.db,
      storeId,
      c.req.valid('param').id,
      actorOf(c.var.principal),
      c.req.valid('json'),
    );
    await menuChanged(c.var.redis, storeId);
    return c.json(menu, 200);
  })
  .openapi(removeMenuRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    await removeMenu(
      c.var.db,
      storeId,
      c.req.valid('param').id,
      actorOf(c.var.principal),
      c.env.IMAGES,
    );
    await menuChanged(c.var.redis, storeId);
    return c.body(null, 204);
  });
