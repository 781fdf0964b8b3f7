import { z } from '@hono/zod-openapi';
import { and, asc, eq, type SQL } from 'drizzle-orm';
import {
  IMAGE_STATUSES,
  MENU_LANGUAGES,
  menuCategories,
  menus,
  stores,
  type Menu,
  type MenuLanguage,
} from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import { sha256Hex } from '../contracts/encoding.ts';
import { imageUrl } from '../contracts/image-keys.ts';
import type { Database, Transaction } from '../domain/database.ts';
import {
  GuestOptionGroupSchema,
  guestOptionGroupView,
  loadOptionGroups,
  OptionGroupSchema,
  optionGroupView,
  type OptionGroupRows,
} from './option-group-view.ts';
import { localized, TranslationsSchema } from './translations.ts';

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
    translations: TranslationsSchema,
    is_available: z.boolean().openapi({ description: 'false: sold out (품절)' }),
    display_order: z.number().int(),
    image: MenuImageSchema,
    image_status: z.enum(IMAGE_STATUSES).nullable(),
    option_groups: z.array(OptionGroupSchema).openapi({
      description: 'its choices (맵기, 사이즈, 추가), in display order',
    }),
    created_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Menu');
export type MenuView = z.infer<typeof MenuSchema>;

/** A menu as the guests' tablet sees it, in the guest's language: no bookkeeping fields. */
export const GuestMenuSchema = MenuSchema.pick({
  id: true,
  name: true,
  price: true,
  description: true,
  is_available: true,
  display_order: true,
  image: true,
})
  .extend({ option_groups: z.array(GuestOptionGroupSchema) })
  .openapi('GuestMenu');
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

/** The admin view of a menu row and its option groups. */
export function menuView(menu: Menu, groups: OptionGroupRows[]): MenuView {
  return {
    id: menu.id,
    category_id: menu.categoryId,
    name: menu.name,
    price: menu.price,
    description: menu.description,
    translations: menu.translations,
    is_available: menu.isAvailable,
    display_order: menu.displayOrder,
    image: imageOf(menu),
    image_status: menu.imageStatus,
    option_groups: groups.map(optionGroupView),
    created_at: menu.createdAt.toISOString(),
    updated_at: menu.updatedAt.toISOString(),
  };
}

/** The admin views of the store's menu rows `rows` (in their order), with their option groups. */
export async function menuViews(
  db: Database | Transaction,
  storeId: string,
  rows: Menu[],
): Promise<MenuView[]> {
  const ids = rows.map((menu) => menu.id);
  const groups = await loadOptionGroups(db, storeId, ids);
  return rows.map((menu) => menuView(menu, groups.get(menu.id) ?? []));
}

/** The guests' view of a menu row and its option groups, in `lang` where translated. */
function guestMenuView(menu: Menu, groups: OptionGroupRows[], lang: MenuLanguage): GuestMenuView {
  const { name, description } = localized(menu, lang);
  return {
    id: menu.id,
    name,
    price: menu.price,
    description,
    is_available: menu.isAvailable,
    display_order: menu.displayOrder,
    image: imageOf(menu),
    option_groups: groups.map((group) => guestOptionGroupView(group, lang)),
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

/** A category of the guests' menu with its menus, in the guest's language. */
export const GuestMenuCategorySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    display_order: z.number().int(),
    menus: z.array(GuestMenuSchema),
  })
  .openapi('GuestMenuCategory');
export type GuestMenuCategoryView = z.infer<typeof GuestMenuCategorySchema>;

/** The whole menu a tablet shows, in one language. */
export const GuestMenuBookSchema = z
  .object({
    lang: z.enum(MENU_LANGUAGES).openapi({
      description: "the language of the names: the one asked for, else the store's default",
    }),
    menu_version: z.string().openapi({
      description:
        'changes whenever anything in this answer changes (a name, a price, 품절, an option…); ' +
        'per language: compare it with the version of an answer in the same language',
      example: '3f2a9c41d07be815',
    }),
    categories: z.array(GuestMenuCategorySchema),
  })
  .openapi('GuestMenuBook');
export type GuestMenuBook = z.infer<typeof GuestMenuBookSchema>;

/**
 * A short fingerprint of what guests see: the SHA-256 of the answer's JSON. Derived from the
 * answer itself, so that no write can change the menu without changing it.
 */
async function versionOf(categories: GuestMenuCategoryView[]): Promise<string> {
  return (await sha256Hex(JSON.stringify(categories))).slice(0, 16);
}

/**
 * The whole menu a tablet shows, in `requested` (the store's default language when none): three
 * queries side by side — the store's language with its categories, the menus, the option
 * groups. Sold-out menus and options stay (shown as 품절) and empty categories stay, so the
 * layout does not jump when a dish sells out.
 */
export async function loadGuestMenu(
  db: Database,
  storeId: string,
  requested?: MenuLanguage,
): Promise<GuestMenuBook> {
  const [categories, storeMenus, groups] = await Promise.all([
    db
      .select({ defaultLanguage: stores.defaultLanguage, category: menuCategories })
      .from(stores)
      .leftJoin(menuCategories, eq(menuCategories.storeId, stores.id))
      .where(eq(stores.id, storeId))
      .orderBy(asc(menuCategories.displayOrder), asc(menuCategories.name)),
    selectMenus(db, eq(menus.storeId, storeId)),
    loadOptionGroups(db, storeId),
  ]);
  // The join always answers the store's row; a store gone meanwhile has an empty menu.
  const lang = requested ?? categories[0]?.defaultLanguage ?? 'ko';
  const menusByCategory = Map.groupBy(storeMenus, (menu) => menu.categoryId);
  const book = categories.flatMap(({ category }) =>
    category
      ? [
          {
            id: category.id,
            name: localized(category, lang).name,
            display_order: category.displayOrder,
            menus: (menusByCategory.get(category.id) ?? []).map((menu) =>
              guestMenuView(menu, groups.get(menu.id) ?? [], lang),
            ),
          },
        ]
      : [],
  );
  return { lang, menu_version: await versionOf(book), categories: book };
}

/**
 * One menu of the caller's store as guests see it, in `requested` (the store's default language
 * when none); another store's menu is not found.
 */
export async function loadGuestMenuItem(
  db: Database,
  storeId: string,
  menuId: string,
  requested?: MenuLanguage,
): Promise<GuestMenuView> {
  const [[found], groups] = await Promise.all([
    db
      .select({ menu: menus, defaultLanguage: stores.defaultLanguage })
      .from(menus)
      .innerJoin(stores, eq(stores.id, menus.storeId))
      .where(and(eq(menus.storeId, storeId), eq(menus.id, menuId))),
    loadOptionGroups(db, storeId, [menuId]),
  ]);
  if (!found) throw new ApiError(404, 'NOT_FOUND', '메뉴를 찾을 수 없습니다.');
  const lang = requested ?? found.defaultLanguage;
  return guestMenuView(found.menu, groups.get(menuId) ?? [], lang);
}
