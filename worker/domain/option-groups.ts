import { z } from '@hono/zod-openapi';
import { and, eq, notInArray, sql } from 'drizzle-orm';
import { MAX_PRICE_DELTA, menuOptionGroups, menuOptions, menus } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import { SingleLine, Uuid } from '../openapi.ts';
import type { Actor } from './audit.ts';
import type { Database, Transaction } from './database.ts';
import { menuViews, type MenuView } from './menu-view.ts';
import { menuChanged, menuNotFound } from './menus.ts';
import { translationsOf } from './translations.ts';

/** How many groups one menu may have, and options one group. */
const MAX_GROUPS = 20;
const MAX_OPTIONS = 50;

/** Where a category, menu, group or option sits among its siblings (low first). */
export const DisplayOrder = z.int().min(0).max(1_000_000);
const GroupName = SingleLine.trim().min(1).max(50);
const OptionName = SingleLine.trim().min(1).max(50);

const OptionInput = z.object({
  id: Uuid.optional().openapi({ description: 'an option of this menu to keep (its id stays)' }),
  name: OptionName.openapi({ example: '라면사리' }),
  price_delta: z
    .int()
    .min(-MAX_PRICE_DELTA)
    .max(MAX_PRICE_DELTA)
    .openapi({
      description: `won added to the dish's price (negative: taken off), within ±${MAX_PRICE_DELTA}`,
    }),
  is_available: z.boolean().optional().openapi({
    description: 'false = 품절; left out: a kept option keeps its state, a new one is available',
  }),
  display_order: DisplayOrder.optional().openapi({ description: 'default: its index' }),
  translations: translationsOf(OptionName).optional().openapi({
    description: 'left out: a kept option keeps its translations; {} removes them',
  }),
});

/** Names compare trimmed and ignoring case: "치즈" and " 치즈" are one name to a guest. */
const nameKey = (name: string) => name.trim().toLowerCase();

/** Where a value sits in the body, and the value to compare (none: nothing to compare). */
type Entry = { key: string | undefined; path: (string | number)[] };

/** An issue at each entry whose key an earlier entry has already. */
function flagRepeats(ctx: z.RefinementCtx, entries: Entry[], message: string): void {
  const seen = new Set<string>();
  for (const { key, path } of entries) {
    if (key === undefined) continue;
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path, message });
    seen.add(key);
  }
}

const GroupInput = z
  .object({
    id: Uuid.optional().openapi({ description: 'a group of this menu to keep (its id stays)' }),
    name: GroupName.openapi({ example: '추가' }),
    min_select: z.int().min(0).openapi({
      description: 'options a guest must pick at least (1+: required); at most the options given',
    }),
    max_select: z.int().min(1).openapi({
      description: 'options a guest may pick at most (1: pick one); at most the options given',
    }),
    display_order: DisplayOrder.optional().openapi({ description: 'default: its index' }),
    translations: translationsOf(GroupName).optional().openapi({
      description: 'left out: a kept group keeps its translations; {} removes them',
    }),
    options: z.array(OptionInput).min(1).max(MAX_OPTIONS),
  })
  .superRefine((group, ctx) => {
    const count = group.options.length;
    if (group.min_select > group.max_select) {
      ctx.addIssue({ code: 'custom', path: ['min_select'], message: 'min_select > max_select' });
    }
    if (group.min_select > count) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_select'],
        message: `min_select is more than the ${count} options`,
      });
    }
    if (group.max_select > count) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_select'],
        message: `max_select is more than the ${count} options`,
      });
    }
    const names = group.options.map((o, i) => ({
      key: nameKey(o.name),
      path: ['options', i, 'name'],
    }));
    flagRepeats(ctx, names, 'an option of this name is already in the group');
  });

/** The body of `PUT /api/admin/menus/:id/option-groups`: the menu's whole set of choices. */
export const OptionGroupsInput = z
  .object({ option_groups: z.array(GroupInput).max(MAX_GROUPS) })
  .superRefine(({ option_groups: groups }, ctx) => {
    const at = (g: number, ...rest: (string | number)[]) => ['option_groups', g, ...rest];
    const names = groups.map((group, g) => ({ key: nameKey(group.name), path: at(g, 'name') }));
    flagRepeats(ctx, names, 'a group of this name is already on the menu');
    flagRepeats(
      ctx,
      groups.map((group, g) => ({ key: group.id, path: at(g, 'id') })),
      'this group id is given twice',
    );
    const optionIds = groups.flatMap((group, g) =>
      group.options.map((option, o) => ({ key: option.id, path: at(g, 'options', o, 'id') })),
    );
    flagRepeats(ctx, optionIds, 'this option id is given twice');
  })
  .openapi('OptionGroupsInput', {
    description:
      `At most ${MAX_GROUPS} groups of 1..${MAX_OPTIONS} options; names unique (ignoring case) ` +
      'among the groups of the menu and among the options of a group. Groups and options given ' +
      'with an id keep it; those left out are removed.',
  });
export type OptionGroupsInput = z.infer<typeof OptionGroupsInput>;

/** The current groups and options of a menu, locked until the replacement commits. */
async function lockedChoices(tx: Transaction, storeId: string, menuId: string) {
  const [groups, options] = await Promise.all([
    tx
      .select({ id: menuOptionGroups.id, translations: menuOptionGroups.translations })
      .from(menuOptionGroups)
      .where(and(eq(menuOptionGroups.storeId, storeId), eq(menuOptionGroups.menuId, menuId)))
      .for('update'),
    tx
      .select({
        id: menuOptions.id,
        isAvailable: menuOptions.isAvailable,
        translations: menuOptions.translations,
      })
      .from(menuOptions)
      .where(and(eq(menuOptions.storeId, storeId), eq(menuOptions.menuId, menuId)))
      .for('update'),
  ]);
  return {
    groups: new Map(groups.map((group) => [group.id, group])),
    options: new Map(options.map((option) => [option.id, option])),
  };
}
type Choices = Awaited<ReturnType<typeof lockedChoices>>;

/** 404 naming every given id that is not one of the menu's groups or options. */
function assertOwnIds(input: OptionGroupsInput, current: Choices): void {
  const groups = input.option_groups;
  const groupIds = groups.flatMap((g) => (g.id && !current.groups.has(g.id) ? [g.id] : []));
  const optionIds = groups.flatMap((g) =>
    g.options.flatMap((o) => (o.id && !current.options.has(o.id) ? [o.id] : [])),
  );
  if (groupIds.length === 0 && optionIds.length === 0) return;
  throw new ApiError(404, 'NOT_FOUND', '이 메뉴에 없는 옵션 그룹이나 옵션이 포함되어 있습니다.', {
    details: { group_ids: groupIds, option_ids: optionIds },
  });
}

/** A row to write, as drizzle takes it. */
type GroupRow = typeof menuOptionGroups.$inferInsert & { id: string };
type OptionRow = typeof menuOptions.$inferInsert & { id: string };

/**
 * The rows the set becomes: given ids kept, new ones drawn here (so that options can name their
 * new group in the same statement), display order defaulting to the position, and what the body
 * leaves out of a kept row (its 품절, its translations) as it was.
 */
function rowsOf(storeId: string, menuId: string, input: OptionGroupsInput, current: Choices) {
  const groups: GroupRow[] = [];
  const options: OptionRow[] = [];
  input.option_groups.forEach((group, g) => {
    const groupId = group.id ?? crypto.randomUUID();
    const keptGroup = group.id === undefined ? undefined : current.groups.get(group.id);
    groups.push({
      id: groupId,
      storeId,
      menuId,
      name: group.name,
      minSelect: group.min_select,
      maxSelect: group.max_select,
      displayOrder: group.display_order ?? g,
      translations: group.translations ?? keptGroup?.translations ?? {},
    });
    group.options.forEach((option, o) => {
      const kept = option.id === undefined ? undefined : current.options.get(option.id);
      options.push({
        id: option.id ?? crypto.randomUUID(),
        storeId,
        menuId,
        groupId,
        name: option.name,
        priceDelta: option.price_delta,
        isAvailable: option.is_available ?? kept?.isAvailable ?? true,
        displayOrder: option.display_order ?? o,
        translations: option.translations ?? kept?.translations ?? {},
      });
    });
  });
  return { groups, options };
}

/** The value an `insert … on conflict do update` was given for `column`. */
const excluded = (column: { name: string }) => sql.raw(`excluded."${column.name}"`);

/**
 * Replaces a menu's whole set of choices (the admin's PUT) in one transaction. The menu row is
 * locked first (touching its `updated_at`), then its groups and options, so two replacements, a
 * replacement and a 품절 switch, or a replacement and the menu's removal run one after the
 * other. Every id given must be one of this menu's groups or options (another menu's or another
 * store's → 404 NOT_FOUND naming them, nothing written); those left out are removed (an order
 * already taken keeps its snapshot). An option may move to another group of the menu. Records
 * `menu.updated` and the audit trail's `menu.options_replaced`; answers the admin menu object.
 */
export async function replaceOptionGroups(
  db: Database,
  storeId: string,
  menuId: string,
  actor: Actor,
  input: OptionGroupsInput,
): Promise<MenuView> {
  return db.transaction(async (tx) => {
    const [menu] = await tx
      .update(menus)
      .set({ updatedAt: sql`now()` })
      .where(and(eq(menus.storeId, storeId), eq(menus.id, menuId)))
      .returning();
    if (!menu) throw menuNotFound();
    const current = await lockedChoices(tx, storeId, menuId);
    assertOwnIds(input, current);
    const rows = rowsOf(storeId, menuId, input, current);
    // Groups first (options name them), stale options before stale groups (an option moving
    // out of a removed group must not go with it).
    if (rows.groups.length > 0) {
      await tx
        .insert(menuOptionGroups)
        .values(rows.groups)
        .onConflictDoUpdate({
          target: menuOptionGroups.id,
          set: {
            name: excluded(menuOptionGroups.name),
            minSelect: excluded(menuOptionGroups.minSelect),
            maxSelect: excluded(menuOptionGroups.maxSelect),
            displayOrder: excluded(menuOptionGroups.displayOrder),
            translations: excluded(menuOptionGroups.translations),
            updatedAt: sql`now()`,
          },
        });
      await tx
        .insert(menuOptions)
        .values(rows.options)
        .onConflictDoUpdate({
          target: menuOptions.id,
          set: {
            groupId: excluded(menuOptions.groupId),
            name: excluded(menuOptions.name),
            priceDelta: excluded(menuOptions.priceDelta),
            isAvailable: excluded(menuOptions.isAvailable),
            displayOrder: excluded(menuOptions.displayOrder),
            translations: excluded(menuOptions.translations),
            updatedAt: sql`now()`,
          },
        });
    }
    await tx.delete(menuOptions).where(
      and(
        eq(menuOptions.storeId, storeId),
        eq(menuOptions.menuId, menuId),
        notInArray(
          menuOptions.id,
          rows.options.map((option) => option.id),
        ),
      ),
    );
    await tx.delete(menuOptionGroups).where(
      and(
        eq(menuOptionGroups.storeId, storeId),
        eq(menuOptionGroups.menuId, menuId),
        notInArray(
          menuOptionGroups.id,
          rows.groups.map((group) => group.id),
        ),
      ),
    );
    const details = {
      group_names: rows.groups.map((group) => group.name),
      option_count: rows.options.length,
    };
    await menuChanged(
      tx,
      { storeId, actor, auditAction: 'menu.options_replaced', details },
      'updated',
      { menuId, categoryId: menu.categoryId },
    );
    const [view] = await menuViews(tx, storeId, [menu]);
    return view!;
  });
}
