import { z } from '@hono/zod-openapi';
import { and, asc, eq, type SQL } from 'drizzle-orm';
import { IMAGE_STATUSES, menuCategories, menus, type Menu } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import { imageUrl } from '../contracts/image-keys.ts';
import type { Database, Transaction } from '../domain/database.ts';

const MenuImageSchema = z
  .object({
    thumbnail_url: z.string().openapi({ example: '/images/menus/…/thumb.webp' }),
    display_url: z.string().openapi({ example: '/images/menus/…/display.webp' }),
  })
  .nullable()
  .openapi('MenuImage', { description: 'null until the variants are ready' });

/** A menu as the admin screens see it. */
export const MenuSchema = z
  .object({
    id: z.uuid(),
    category_id: z.uuid(),
    name: z.string(),
    price: z.number().int().openapi({ description: 'whole won' }),
    description: z.string().nullable(),
    is_available: z.boolean().openapi({ description: 'false: sold out (품절)' }),
    display_order: z.number().int(),
    image: MenuImageSchema,
    image_status: z.enum(IMAGE_STATUSES).nullable(),
    created_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Menu');
export type MenuView = z.infer<typeof MenuSchema>;

/** A menu as the guests' tablet sees it: no bookkeeping fields. */
export const GuestMenuSchema = MenuSchema.pick({
  id: true,
  name: true,
  price: true,
  description: true,
  is_available: true,
  display_order: true,
  image: true,
}).openapi('GuestMenu');
export type GuestMenuView = z.infer<typeof GuestMenuSchema>;

/** The image block: only a finished image is shown, never a half-processed one. */
function imageOf(menu: Menu): GuestMenuView['image'] {
  if (menu.imageStatus !== 'ready' || !menu.imageThumbnailKey || !menu.imageDisplayKey) {
    return null;
  }
  return {
    thumbnail_url: imageUrl(menu.imageThumbnailKey),
    display_url: imageUrl(menu.imageDisplayKey),
  };
}

/** The admin view of a menu row. */
export function menuView(menu: Menu): MenuView {
  return {
    id: menu.id,
    category_id: menu.categoryId,
    name: menu.name,
    price: menu.price,
    description: menu.description,
    is_available: menu.isAvailable,
    display_order: menu.displayOrder,
    image: imageOf(menu),
    image_status: menu.imageStatus,
    created_at: menu.createdAt.toISOString(),
    updated_at: menu.updatedAt.toISOString(),
  };
}

/** The guests' view of a menu row. */
export function guestMenuView(menu: Menu): GuestMenuView {
  return {
    id: menu.id,
    name: menu.name,
    price: menu.price,
    description: menu.description,
    is_available: menu.isAvailable,
    display_order: menu.displayOrder,
    image: imageOf(menu),
  };
}

/**
 * The menu rows matching `where` (a condition on `menus` that must name the store), in the order
 * guests see them: by category, then display order, then name — and id, so that ties never
 * reshuffle between requests.
 */
export async function selectMenus(
  db: Database | Transaction,
  where: SQL | undefined,
): Promise<Menu[]> {
  const rows = await db
    .select({ menu: menus })
    .from(menus)
    .innerJoin(
      menuCategories,
      and(eq(menuCategories.storeId, menus.storeId), eq(menuCategories.id, menus.categoryId)),
    )
    .where(where)
    .orderBy(
      asc(menuCategories.displayOrder),
      asc(menuCategories.name),
      asc(menus.displayOrder),
      asc(menus.name),
      asc(menus.id),
    );
  return rows.map((row) => row.menu);
}

/** A category of the guests' menu with its menus. */
export const GuestMenuCategorySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    display_order: z.number().int(),
    menus: z.array(GuestMenuSchema),
  })
  .openapi('GuestMenuCategory');
export type GuestMenuCategoryView = z.infer<typeof GuestMenuCategorySchema>;

/**
 * The whole menu a tablet shows, in two queries: the store's categories, then its menus.
 * Sold-out menus stay (shown as 품절) and empty categories stay, so the layout does not jump
 * when a dish sells out.
 */
export async function loadGuestMenu(
  db: Database,
  storeId: string,
): Promise<GuestMenuCategoryView[]> {
  const [categories, storeMenus] = await Promise.all([
    db
      .select()
      .from(menuCategories)
      .where(eq(menuCategories.storeId, storeId))
      .orderBy(asc(menuCategories.displayOrder), asc(menuCategories.name)),
    selectMenus(db, eq(menus.storeId, storeId)),
  ]);
  const menusByCategory = Map.groupBy(storeMenus, (menu) => menu.categoryId);
  return categories.map((category) => ({
    id: category.id,
    name: category.name,
    display_order: category.displayOrder,
    menus: (menusByCategory.get(category.id) ?? []).map(guestMenuView),
  }));
}

/** One menu of the caller's store, as guests see it; another store's menu is not found. */
export async function loadGuestMenuItem(
  db: Database,
  storeId: string,
  menuId: string,
): Promise<GuestMenuView> {
  const [menu] = await db
    .select()
    .from(menus)
    .where(and(eq(menus.storeId, storeId), eq(menus.id, menuId)));
  if (!menu) throw new ApiError(404, 'NOT_FOUND', '메뉴를 찾을 수 없습니다.');
  return guestMenuView(menu);
}
