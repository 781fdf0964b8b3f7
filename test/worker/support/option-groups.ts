/**
 * Fixtures for the option group tests: a menu's choices set up through the admin's own PUT, and
 * the rows read back (or changed behind the API's back) straight in the test database.
 */
import { asc, eq } from 'drizzle-orm';
import * as schema from '../../../db/schema.ts';
import { api, withDb } from './fixtures.ts';

/** One option of a PUT body. */
export type OptionBody = {
  id?: string;
  name: string;
  price_delta: number;
  is_available?: boolean;
  display_order?: number;
  translations?: Record<string, unknown>;
};

/** One group of a PUT body. */
export type GroupBody = {
  id?: string;
  name: string;
  min_select: number;
  max_select: number;
  display_order?: number;
  translations?: Record<string, unknown>;
  options: OptionBody[];
};

/** `PUT /api/admin/menus/:id/option-groups` as the store's admin. */
export function putOptionGroups(token: string, menuId: string, groups: GroupBody[]) {
  return api('PUT', `/api/admin/menus/${menuId}/option-groups`, {
    token,
    body: { option_groups: groups },
  });
}

/** 맵기 (pick exactly one) and 추가 (up to two toppings), the usual choices of a stew. */
export const STEW_CHOICES: GroupBody[] = [
  {
    name: '맵기',
    min_select: 1,
    max_select: 1,
    options: [
      { name: '순한맛', price_delta: 0 },
      { name: '보통', price_delta: 0 },
      { name: '매운맛', price_delta: 0 },
    ],
  },
  {
    name: '추가',
    min_select: 0,
    max_select: 2,
    options: [
      { name: '라면사리', price_delta: 1000 },
      { name: '치즈', price_delta: 500 },
    ],
  },
];

/** Gives the menu the stew's choices through the API and answers the admin menu object. */
export async function withStewChoices(token: string, menuId: string) {
  const res = await putOptionGroups(token, menuId, STEW_CHOICES);
  if (res.status !== 200) throw new Error(`option groups not set: ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * Gives the menu `groups` straight in the database (display order: the position), so that no
 * write touches the cache before a test warms it. Answers the groups with their option ids.
 */
export function newChoices(storeId: string, menuId: string, groups: GroupBody[]) {
  return withDb(async (db) => {
    const written = [];
    for (const [g, group] of groups.entries()) {
      const [row] = await db
        .insert(schema.menuOptionGroups)
        .values({
          storeId,
          menuId,
          name: group.name,
          minSelect: group.min_select,
          maxSelect: group.max_select,
          displayOrder: g,
          translations: group.translations ?? {},
        })
        .returning();
      const options = await db
        .insert(schema.menuOptions)
        .values(
          group.options.map((option, o) => ({
            storeId,
            menuId,
            groupId: row!.id,
            name: option.name,
            priceDelta: option.price_delta,
            isAvailable: option.is_available ?? true,
            displayOrder: o,
            translations: option.translations ?? {},
          })),
        )
        .returning();
      written.push({ ...row!, options });
    }
    return written;
  });
}

/** The menu's group and option rows, in display order: what a request left behind. */
export function optionRowsOf(menuId: string) {
  return withDb(async (db) => ({
    groups: await db
      .select()
      .from(schema.menuOptionGroups)
      .where(eq(schema.menuOptionGroups.menuId, menuId))
      .orderBy(asc(schema.menuOptionGroups.displayOrder)),
    options: await db
      .select()
      .from(schema.menuOptions)
      .where(eq(schema.menuOptions.menuId, menuId))
      .orderBy(asc(schema.menuOptions.groupId), asc(schema.menuOptions.displayOrder)),
  }));
}

/** Marks an option sold out (or back) behind the API's back. */
export function setOptionAvailable(optionId: string, isAvailable: boolean) {
  return withDb((db) =>
    db.update(schema.menuOptions).set({ isAvailable }).where(eq(schema.menuOptions.id, optionId)),
  );
}

/** Sets a row's translations behind the API's back. */
export function setTranslations(
  table: typeof schema.menus | typeof schema.menuCategories | typeof schema.menuOptions,
  id: string,
  translations: Record<string, { name: string; description?: string | null }>,
) {
  return withDb((db) => db.update(table).set({ translations }).where(eq(table.id, id)));
}
