import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { CONSTRAINTS, menuCategories, menus } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database, Transaction } from '../domain/database.ts';
import { changedFields, recordAudit, type Actor } from './audit.ts';
import { categoryNotFound } from './categories.ts';
import { violates } from './db-errors.ts';
import { recordEvent } from './events.ts';
import { deleteMenuImages } from './menu-images.ts';
import { menuView, menuViews, selectMenus, type MenuView } from './menu-view.ts';
import { loadOptionGroups } from './option-group-view.ts';
import type { TranslationsValue } from './translations.ts';

/** What an admin may set on a menu (all of it when adding, any of it when changing). */
export type MenuFields = {
  categoryId: string;
  name: string;
  price: number;
  description?: string | null;
  /** Replaces every translation of the menu. */
  translations?: TranslationsValue;
  isAvailable?: boolean;
  displayOrder?: number;
};

/** A menu's fields by their API names. */
const fieldsOf = (input: Partial<MenuFields>) => ({
  category_id: input.categoryId,
  name: input.name,
  price: input.price,
  description: input.description,
  translations: input.translations,
  is_available: input.isAvailable,
  display_order: input.displayOrder,
});

const ofStore = (storeId: string, menuId: string) =>
  and(eq(menus.storeId, storeId), eq(menus.id, menuId));

/** 404 for a menu that is not the store's (unknown, or another store's: the same answer). */
export function menuNotFound(): ApiError {
  return new ApiError(404, 'NOT_FOUND', '메뉴를 찾을 수 없습니다.');
}

/** The body's category is not the store's: the same 404 whether unknown or another store's. */
const unknownCategory = () => categoryNotFound({ field: 'category_id' });

/** The display order just after the last menu of the category (0 for an empty one). */
function endOfCategory(storeId: string, categoryId: string): SQL {
  // Aliased: drizzle writes columns unqualified, and inside an UPDATE of menus they must name
  // the subquery's rows, not the menu being updated.
  const other = alias(menus, 'other_menu');
  return sql`(select coalesce(max(${other.displayOrder}) + 1, 0) from ${menus} as ${sql.identifier('other_menu')} where ${other.storeId} = ${storeId} and ${other.categoryId} = ${categoryId})`;
}

/** Who changed the menu book, and what the audit trail says of it. */
export type MenuChange = {
  storeId: string;
  actor: Actor;
  /** The trail's action: `menu.<the event's action>` unless named. */
  auditAction?: string;
  details: Record<string, unknown>;
};

/**
 * Tablets reload the guests' menu on this event, and the audit trail keeps who changed the menu
 * (or, for a reorder, the category); both in the change's transaction.
 */
export async function menuChanged(
  tx: Transaction,
  change: MenuChange,
  action: 'created' | 'updated' | 'deleted' | 'reordered',
  menu: { menuId: string | null; categoryId: string },
) {
  const { storeId, actor } = change;
  await recordEvent(tx, {
    type: 'menu.updated',
    storeId,
    data: { action, menu_id: menu.menuId, category_id: menu.categoryId },
    actor,
  });
  await recordAudit(tx, {
    storeId,
    actor,
    action: change.auditAction ?? `menu.${action}`,
    ...(menu.menuId === null
      ? { targetType: 'category', targetId: menu.categoryId }
      : { targetType: 'menu', targetId: menu.menuId }),
    details: change.details,
  });
}

/** The store's menus (of one category when `categoryId` is given, which must be the store's). */
export async function listMenus(
  db: Database,
  storeId: string,
  categoryId?: string,
): Promise<MenuView[]> {
  if (categoryId === undefined) {
    // Every menu of the store: its groups are read side by side with the menus.
    const [rows, groups] = await Promise.all([
      selectMenus(db, eq(menus.storeId, storeId)),
      loadOptionGroups(db, storeId),
    ]);
    return rows.map((menu) => menuView(menu, groups.get(menu.id) ?? []));
  }
  const [category] = await db
    .select({ id: menuCategories.id })
    .from(menuCategories)
    .where(and(eq(menuCategories.storeId, storeId), eq(menuCategories.id, categoryId)));
  if (!category) throw unknownCategory();
  const rows = await selectMenus(
    db,
    and(eq(menus.storeId, storeId), eq(menus.categoryId, categoryId)),
  );
  return menuViews(db, storeId, rows);
}

/** One menu of the store, with its option groups (the admin menu object). */
export async function getMenu(
  db: Database | Transaction,
  storeId: string,
  menuId: string,
): Promise<MenuView> {
  const [[menu], groups] = await Promise.all([
    db.select().from(menus).where(ofStore(storeId, menuId)),
    loadOptionGroups(db, storeId, [menuId]),
  ]);
  if (!menu) throw menuNotFound();
  return menuView(menu, groups.get(menuId) ?? []);
}

/**
 * Adds a menu to one of the store's categories; without a display order it goes last. The
 * category is checked by `menus_category_fk` on (store_id, category_id): another store's category
 * fails exactly like an unknown one, with no window between a check and the insert.
 */
export async function addMenu(
  db: Database,
  storeId: string,
  actor: Actor,
  input: MenuFields,
): Promise<MenuView> {
  try {
    return await db.transaction(async (tx) => {
      const [menu] = await tx
        .insert(menus)
        .values({
          storeId,
          categoryId: input.categoryId,
          name: input.name,
          price: input.price,
          description: input.description || null,
          translations: input.translations ?? {},
          isAvailable: input.isAvailable ?? true,
          displayOrder: input.displayOrder ?? endOfCategory(storeId, input.categoryId),
        })
        .returning();
      const details = { name: menu!.name, category_id: menu!.categoryId, price: menu!.price };
      await menuChanged(tx, { storeId, actor, details }, 'created', {
        menuId: menu!.id,
        categoryId: menu!.categoryId,
      });
      // A new menu has no choices yet.
      return menuView(menu!, []);
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.menuCategory)) throw unknownCategory();
    throw error;
  }
}

/**
 * Changes some of a menu's fields: price, 품절 (is_available), text, order, or its category (a
 * menu moved without a display order goes last in its new category).
 */
export async function changeMenu(
  db: Database,
  storeId: string,
  menuId: string,
  actor: Actor,
  input: Partial<MenuFields>,
): Promise<MenuView> {
  const movedToEnd =
    input.categoryId !== undefined && input.displayOrder === undefined
      ? sql`case when ${menus.categoryId} = ${input.categoryId} then ${menus.displayOrder} else ${endOfCategory(storeId, input.categoryId)} end`
      : undefined;
  try {
    return await db.transaction(async (tx) => {
      const [menu] = await tx
        .update(menus)
        .set({
          categoryId: input.categoryId,
          name: input.name,
          price: input.price,
          // A blank description is no description: the tablet shows nothing either way.
          description: input.description === '' ? null : input.description,
          translations: input.translations,
          isAvailable: input.isAvailable,
          displayOrder: input.displayOrder ?? movedToEnd,
        })
        .where(ofStore(storeId, menuId))
        .returning();
      if (!menu) throw menuNotFound();
      const details = { name: menu.name, changed: changedFields(fieldsOf(input)) };
      await menuChanged(tx, { storeId, actor, details }, 'updated', {
        menuId,
        categoryId: menu.categoryId,
      });
      const [view] = await menuViews(tx, storeId, [menu]);
      return view!;
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.menuCategory)) throw unknownCategory();
    throw error;
  }
}

/**
 * Takes a menu off the store. Orders already taken keep the name and price they snapshotted;
 * their lines' `menu_id` becomes null (`order_items.menu_id … on delete set null`). Once the
 * deletion has committed, the menu's image objects are deleted from `images` (R2).
 */
export async function removeMenu(
  db: Database,
  storeId: string,
  menuId: string,
  actor: Actor,
  images?: R2Bucket,
): Promise<void> {
  const removedId = await db.transaction(async (tx) => {
    const [menu] = await tx
      .delete(menus)
      .where(ofStore(storeId, menuId))
      .returning({ id: menus.id, name: menus.name, categoryId: menus.categoryId });
    if (!menu) throw menuNotFound();
    const details = { name: menu.name, category_id: menu.categoryId };
    await menuChanged(tx, { storeId, actor, details }, 'deleted', {
      menuId,
      categoryId: menu.categoryId,
    });
    return menu.id;
  });
  if (images) await deleteMenuImages(images, storeId, removedId);
}

/**
 * Puts a category's menus in the given order (display_order = position). `menuIds` (in lower
 * case, as the edge reads every id) must name exactly the category's menus: an id that is not one
 * of them (unknown, another category's or another store's) → 404 NOT_FOUND; one of them left out
 * → 400 VALIDATION_ERROR. Duplicates are refused at the edge. The category is locked `FOR UPDATE` (adding or moving a menu into it takes
 * a key-share lock on it through the foreign key) and its menus `FOR UPDATE` (moving one out), so
 * the set cannot change between the check and the single UPDATE.
 */
export async function reorderMenus(
  db: Database,
  storeId: string,
  categoryId: string,
  actor: Actor,
  menuIds: string[],
): Promise<MenuView[]> {
  return db.transaction(async (tx) => {
    const [category] = await tx
      .select({ id: menuCategories.id })
      .from(menuCategories)
      .where(and(eq(menuCategories.storeId, storeId), eq(menuCategories.id, categoryId)))
      .for('update');
    if (!category) throw unknownCategory();
    const inCategory = and(eq(menus.storeId, storeId), eq(menus.categoryId, categoryId));
    // In id order, the order in which a guest's order share-locks the menus it charges
    // (order-lines.ts): two lockers that take rows in one order cannot deadlock.
    const current = await tx
      .select({ id: menus.id })
      .from(menus)
      .where(inCategory)
      .orderBy(asc(menus.id))
      .for('update');
    const currentIds = new Set(current.map((menu) => menu.id));
    const foreign = menuIds.filter((id) => !currentIds.has(id));
    if (foreign.length > 0) {
      throw new ApiError(404, 'NOT_FOUND', '이 분류에 없는 메뉴가 포함되어 있습니다.', {
        details: { field: 'menu_ids', menu_ids: foreign },
      });
    }
    const missing = [...currentIds].filter((id) => !menuIds.includes(id));
    if (missing.length > 0) {
      throw new ApiError(400, 'VALIDATION_ERROR', '분류의 모든 메뉴를 순서대로 보내 주세요.', {
        details: { field: 'menu_ids', missing },
      });
    }
    if (menuIds.length > 0) {
      const position = sql.join(
        menuIds.map((id, index) => sql`when ${id}::uuid then ${index}::int`),
        sql` `,
      );
      await tx
        .update(menus)
        .set({ displayOrder: sql`case ${menus.id} ${position} end` })
        .where(and(inCategory, inArray(menus.id, menuIds)));
    }
    const details = { menu_ids: menuIds };
    await menuChanged(tx, { storeId, actor, details }, 'reordered', { menuId: null, categoryId });
    return menuViews(tx, storeId, await selectMenus(tx, inCategory));
  });
}
