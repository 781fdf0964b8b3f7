import { z } from '@hono/zod-openapi';
import { and, asc, eq, inArray } from 'drizzle-orm';
import {
  MAX_PRICE_DELTA,
  menuOptionGroups,
  menuOptions,
  type MenuLanguage,
  type MenuOption,
  type MenuOptionGroup,
} from '../../db/schema.ts';
import type { Database, Transaction } from '../domain/database.ts';
import { localized, TranslationsSchema } from './translations.ts';

/** One choice of a group, as the admin screens see it. */
export const OptionSchema = z
  .object({
    id: z.uuid(),
    name: z.string().openapi({ example: '라면사리' }),
    price_delta: z.int().openapi({
      description: `won added to the dish's price (negative: taken off), within ±${MAX_PRICE_DELTA}`,
      example: 1000,
    }),
    is_available: z.boolean().openapi({ description: 'false: sold out (품절)' }),
    display_order: z.int(),
    translations: TranslationsSchema,
  })
  .openapi('Option');
export type OptionView = z.infer<typeof OptionSchema>;

/** A menu's choice (맵기, 사이즈, 추가), as the admin screens see it. */
export const OptionGroupSchema = z
  .object({
    id: z.uuid(),
    name: z.string().openapi({ example: '추가' }),
    min_select: z
      .int()
      .openapi({ description: 'options a guest must pick at least (1+: required)' }),
    max_select: z.int().openapi({ description: 'options a guest may pick at most (1: pick one)' }),
    display_order: z.int(),
    translations: TranslationsSchema,
    options: z.array(OptionSchema),
  })
  .openapi('OptionGroup');
export type OptionGroupView = z.infer<typeof OptionGroupSchema>;

/** One choice of a group, as the guests' tablet shows it, in the guest's language. */
export const GuestOptionSchema = OptionSchema.omit({ translations: true }).openapi('GuestOption');
export type GuestOptionView = z.infer<typeof GuestOptionSchema>;

/** A menu's choice as the guests' tablet shows it, in the guest's language. */
export const GuestOptionGroupSchema = OptionGroupSchema.omit({ translations: true, options: true })
  .extend({ options: z.array(GuestOptionSchema) })
  .openapi('GuestOptionGroup');
export type GuestOptionGroupView = z.infer<typeof GuestOptionGroupSchema>;

/** A group row with its option rows, in display order. */
export type OptionGroupRows = MenuOptionGroup & { options: MenuOption[] };

/**
 * The groups of the store's menus `menuIds` (every menu of the store when left out), each with
 * its options, by menu id: one query however many menus. Groups and options come in display
 * order (then name, then id, so that ties never reshuffle); a menu without groups is absent.
 */
export async function loadOptionGroups(
  db: Database | Transaction,
  storeId: string,
  menuIds?: string[],
): Promise<Map<string, OptionGroupRows[]>> {
  if (menuIds?.length === 0) return new Map();
  const rows = await db
    .select({ group: menuOptionGroups, option: menuOptions })
    .from(menuOptionGroups)
    .leftJoin(
      menuOptions,
      and(
        eq(menuOptions.storeId, menuOptionGroups.storeId),
        eq(menuOptions.menuId, menuOptionGroups.menuId),
        eq(menuOptions.groupId, menuOptionGroups.id),
      ),
    )
    .where(
      and(
        eq(menuOptionGroups.storeId, storeId),
        menuIds && inArray(menuOptionGroups.menuId, menuIds),
      ),
    )
    .orderBy(
      asc(menuOptionGroups.displayOrder),
      asc(menuOptionGroups.name),
      asc(menuOptionGroups.id),
      asc(menuOptions.displayOrder),
      asc(menuOptions.name),
      asc(menuOptions.id),
    );
  const groups = new Map<string, OptionGroupRows>();
  for (const { group, option } of rows) {
    const entry = groups.get(group.id) ?? { ...group, options: [] };
    groups.set(group.id, entry);
    if (option) entry.options.push(option);
  }
  return Map.groupBy(groups.values(), (group) => group.menuId);
}

/** The admin view of a group and its options. */
export function optionGroupView(group: OptionGroupRows): OptionGroupView {
  return {
    id: group.id,
    name: group.name,
    min_select: group.minSelect,
    max_select: group.maxSelect,
    display_order: group.displayOrder,
    translations: group.translations,
    options: group.options.map((option) => ({
      id: option.id,
      name: option.name,
      price_delta: option.priceDelta,
      is_available: option.isAvailable,
      display_order: option.displayOrder,
      translations: option.translations,
    })),
  };
}

/** The guests' view of a group and its options, names in `lang` where translated. */
export function guestOptionGroupView(
  group: OptionGroupRows,
  lang: MenuLanguage,
): GuestOptionGroupView {
  return {
    id: group.id,
    name: localized(group, lang).name,
    min_select: group.minSelect,
    max_select: group.maxSelect,
    display_order: group.displayOrder,
    options: group.options.map((option) => ({
      id: option.id,
      name: localized(option, lang).name,
      price_delta: option.priceDelta,
      is_available: option.isAvailable,
      display_order: option.displayOrder,
    })),
  };
}
