import { z } from '@hono/zod-openapi';
import { and, asc, count, eq, sql, type SQL } from 'drizzle-orm';
import { CONSTRAINTS, menuCategories, menus } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database, Transaction } from '../domain/database.ts';
import { changedFields, recordAudit, type Actor } from './audit.ts';
import { violates } from './db-errors.ts';
import { recordEvent } from './events.ts';
import { TranslationsSchema, type TranslationsValue } from './translations.ts';

/** A menu category (메뉴 분류) as the admin sees it. */
export const CategorySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    translations: TranslationsSchema,
    display_order: z.number().int(),
    menu_count: z.number().int().openapi({ description: 'menus in this category' }),
    created_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Category');
export type CategoryView = z.infer<typeof CategorySchema>;

/** The categories matching `where` (which must name the store), in the guests' order. */
async function loadCategories(
  db: Database | Transaction,
  where: SQL | undefined,
): Promise<CategoryView[]> {
  const rows = await db
    .select({ category: menuCategories, menuCount: count(menus.id) })
    .from(menuCategories)
    // Joining on the store too lets the count use menus_store_category_order_idx.
    .leftJoin(
      menus,
      and(eq(menus.storeId, menuCategories.storeId), eq(menus.categoryId, menuCategories.id)),
    )
    .where(where)
    .groupBy(menuCategories.id)
    .orderBy(asc(menuCategories.displayOrder), asc(menuCategories.name));
  return rows.map(({ category, menuCount }) => ({
    id: category.id,
    name: category.name,
    translations: category.translations,
    display_order: category.displayOrder,
    menu_count: menuCount,
    created_at: category.createdAt.toISOString(),
    updated_at: category.updatedAt.toISOString(),
  }));
}

const ofStore = (storeId: string, categoryId: string) =>
  and(eq(menuCategories.storeId, storeId), eq(menuCategories.id, categoryId));

/** 404 for a category that is not the store's (unknown, or another store's: the same answer). */
export function categoryNotFound(details: Record<string, unknown> = {}): ApiError {
  return new ApiError(404, 'NOT_FOUND', '메뉴 분류를 찾을 수 없습니다.', { details });
}

function nameTaken(name: string | undefined): ApiError {
  return new ApiError(409, 'CATEGORY_NAME_TAKEN', '이미 있는 메뉴 분류 이름입니다.', {
    details: { name },
  });
}

/**
 * A category change changes the guests' menu: the tablets reload it on this event. The audit
 * trail keeps who made it, with `details`.
 */
async function categoryChanged(
  tx: Transaction,
  change: { storeId: string; actor: Actor; categoryId: string },
  action: 'created' | 'updated' | 'deleted',
  details: Record<string, unknown>,
) {
  const { storeId, actor, categoryId } = change;
  await recordEvent(tx, {
    type: 'menu.updated',
    storeId,
    data: { action, menu_id: null, category_id: categoryId },
    actor,
  });
  await recordAudit(tx, {
    storeId,
    actor,
    action: `category.${action}`,
    targetType: 'category',
    targetId: categoryId,
    details,
  });
}

/** What an admin may set on a category (the name when adding; any of it when changing). */
export type CategoryFields = {
  name: string;
  /** Replaces every translation of the category. */
  translations?: TranslationsValue;
  displayOrder?: number;
};

/** Every category of the store, by display order then name. */
export function listCategories(db: Database, storeId: string): Promise<CategoryView[]> {
  return loadCategories(db, eq(menuCategories.storeId, storeId));
}

/**
 * Adds a category. Without a display order it goes after the existing ones. Name uniqueness per
 * store is the database's to decide, so concurrent adds of one name give one 409.
 */
export async function addCategory(
  db: Database,
  storeId: string,
  actor: Actor,
  input: CategoryFields,
): Promise<CategoryView> {
  try {
    return await db.transaction(async (tx) => {
      const [category] = await tx
        .insert(menuCategories)
        .values({
          storeId,
          name: input.name,
          translations: input.translations ?? {},
          displayOrder:
            input.displayOrder ??
            sql`(select coalesce(max(${menuCategories.displayOrder}) + 1, 0) from ${menuCategories} where ${menuCategories.storeId} = ${storeId})`,
        })
        .returning({ id: menuCategories.id });
      await categoryChanged(tx, { storeId, actor, categoryId: category!.id }, 'created', {
        name: input.name,
      });
      const [view] = await loadCategories(tx, ofStore(storeId, category!.id));
      return view!;
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.categoryNameTaken)) throw nameTaken(input.name);
    throw error;
  }
}

/** Renames, translates and/or moves a category in the guests' menu. */
export async function changeCategory(
  db: Database,
  storeId: string,
  categoryId: string,
  actor: Actor,
  input: Partial<CategoryFields>,
): Promise<CategoryView> {
  try {
    return await db.transaction(async (tx) => {
      const [changed] = await tx
        .update(menuCategories)
        .set({
          name: input.name,
          translations: input.translations,
          displayOrder: input.displayOrder,
        })
        .where(ofStore(storeId, categoryId))
        .returning({ name: menuCategories.name });
      if (!changed) throw categoryNotFound();
      await categoryChanged(tx, { storeId, actor, categoryId }, 'updated', {
        name: changed.name,
        changed: changedFields({
          name: input.name,
          translations: input.translations,
          display_order: input.displayOrder,
        }),
      });
      const [view] = await loadCategories(tx, ofStore(storeId, categoryId));
      return view!;
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.categoryNameTaken)) throw nameTaken(input.name);
    throw error;
  }
}

/**
 * Removes an empty category. A category that still has menus is refused by `menus_category_fk`
 * itself (no count-then-delete race with a menu being added to it meanwhile).
 */
export async function removeCategory(
  db: Database,
  storeId: string,
  categoryId: string,
  actor: Actor,
): Promise<void> {
  try {
    await db.transaction(async (tx) => {
      const [removed] = await tx
        .delete(menuCategories)
        .where(ofStore(storeId, categoryId))
        .returning({ name: menuCategories.name });
      if (!removed) throw categoryNotFound();
      await categoryChanged(tx, { storeId, actor, categoryId }, 'deleted', { name: removed.name });
    });
  } catch (error) {
    if (violates(error, CONSTRAINTS.menuCategory)) {
      throw new ApiError(
        409,
        'CATEGORY_HAS_MENUS',
        '메뉴가 남아 있는 분류는 삭제할 수 없습니다. 메뉴를 먼저 옮기거나 삭제해 주세요.',
      );
    }
    throw error;
  }
}
