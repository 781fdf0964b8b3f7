import { and, eq, inArray, sql } from 'drizzle-orm';
import { menuOptionGroups, menuOptions, menus, type LineOptionSnapshot } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Transaction } from './database.ts';

/** One line of a guest's order, as the tablet sent it (validated at the edge, ids lower case). */
export type OrderLine = {
  menuId: string;
  quantity: number;
  /** The options the guest chose for this dish, each once. */
  optionIds?: string[];
  /** The guest's note on the line (trimmed; null when there is none). */
  note?: string | null;
};

/**
 * A line as the kitchen and the bill will see it: the dish's name and unit price (its price plus
 * the chosen options' deltas) and the chosen options as they are now — the snapshot stored with
 * the order (the keys are `order_items` columns).
 */
export type PricedLine = {
  menuId: string;
  menuName: string;
  unitPrice: number;
  quantity: number;
  subtotal: number;
  options: LineOptionSnapshot[];
  note: string | null;
};

type MenuRow = { id: string; name: string; price: number; is_available: boolean };
type OptionRow = {
  id: string;
  menu_id: string;
  group_id: string;
  name: string;
  price_delta: number;
  is_available: boolean;
};
type GroupRow = {
  id: string;
  menu_id: string;
  name: string;
  min_select: number;
  max_select: number;
};

/** What the ordered lines refer to on the store's menu, as read (and locked) by the order. */
type Catalog = {
  menus: Map<string, MenuRow>;
  /** The chosen options, in the guests' menu order (by group, then option). */
  options: Map<string, OptionRow>;
  /** The ordered menus' option groups, in the guests' menu order. */
  groups: GroupRow[];
};

/**
 * Prices a guest's lines against the store's menu as it is now, inside the order's transaction.
 * Refusals, in this order: a menu that is not the store's → 404 MENU_NOT_FOUND; a sold-out menu →
 * 409 MENU_UNAVAILABLE; an option that is not the store's → 404 OPTION_NOT_FOUND; an option of
 * another dish, or a group chosen fewer than `min_select` or more than `max_select` times (a
 * required group left out included) → 400 OPTION_SELECTION_INVALID; a sold-out option → 409
 * OPTION_UNAVAILABLE; a unit price below 0 → 400 OPTION_SELECTION_INVALID.
 */
export async function priceLines(
  tx: Transaction,
  storeId: string,
  lines: OrderLine[],
): Promise<PricedLine[]> {
  const catalog = await readCatalog(tx, storeId, lines);
  assertMenusOrderable(lines, catalog);
  assertOptionsExist(lines, catalog);
  for (const line of lines) assertSelection(line, catalog);
  assertOptionsAvailable(lines, catalog);
  return lines.map((line) => priceLine(line, catalog));
}

/**
 * Reads the ordered menus, the chosen options and the ordered menus' option groups in one
 * statement, each `for share` (in id order, so two lockers take them in the same order): until
 * the order commits, nobody can sell out, reprice or remove what it charges, and a change that
 * committed first is what the order sees (READ COMMITTED re-reads a row it waited for). So an
 * availability change lands either before the order (which is then refused) or after it.
 * Another store's rows are indistinguishable from missing ones.
 */
async function readCatalog(tx: Transaction, storeId: string, lines: OrderLine[]): Promise<Catalog> {
  const menuIds = [...new Set(lines.map((line) => line.menuId))];
  const optionIds = [...new Set(lines.flatMap((line) => line.optionIds ?? []))];
  const orderedMenus = and(eq(menus.storeId, storeId), inArray(menus.id, menuIds));
  const chosenOptions = and(eq(menuOptions.storeId, storeId), inArray(menuOptions.id, optionIds));
  const theirGroups = and(
    eq(menuOptionGroups.storeId, storeId),
    inArray(menuOptionGroups.menuId, menuIds),
  );
  const result = await tx.execute<{ menus: MenuRow[]; options: OptionRow[]; groups: GroupRow[] }>(
    sql`
      with ordered_menus as (
        select id, name, price, is_available from ${menus}
        where ${orderedMenus}
        order by id for share
      ), chosen_options as (
        select id, menu_id, group_id, name, price_delta, is_available, display_order
        from ${menuOptions}
        where ${chosenOptions}
        order by id for share
      ), option_groups as (
        select id, menu_id, name, min_select, max_select, display_order
        from ${menuOptionGroups}
        where ${theirGroups}
        order by id for share
      )
      -- The select list is evaluated in this order: the menus are locked first. Groups and
      -- options come in the guests' menu order (display order, then name, then id).
      select
        (select coalesce(jsonb_agg(ordered_menus), '[]') from ordered_menus) as menus,
        (select coalesce(jsonb_agg(
            jsonb_build_object('id', o.id, 'menu_id', o.menu_id, 'group_id', o.group_id,
              'name', o.name, 'price_delta', o.price_delta, 'is_available', o.is_available)
            order by g.display_order, g.name, g.id, o.display_order, o.name, o.id), '[]')
          from chosen_options o left join option_groups g on g.id = o.group_id) as options,
        (select coalesce(jsonb_agg(g order by g.display_order, g.name, g.id), '[]')
          from option_groups g) as groups
    `,
  );
  const row = result.rows[0]!;
  return {
    menus: new Map(row.menus.map((menu) => [menu.id, menu])),
    options: new Map(row.options.map((option) => [option.id, option])),
    groups: row.groups,
  };
}

/** Every ordered menu is the store's (404 MENU_NOT_FOUND otherwise) and on sale (409 otherwise). */
function assertMenusOrderable(lines: OrderLine[], catalog: Catalog): void {
  const ids = [...new Set(lines.map((line) => line.menuId))];
  const missing = ids.filter((id) => !catalog.menus.has(id));
  if (missing.length > 0) {
    throw new ApiError(404, 'MENU_NOT_FOUND', '주문하신 메뉴를 찾을 수 없습니다.', {
      details: { menu_ids: missing },
    });
  }
  const soldOut = ids.filter((id) => !catalog.menus.get(id)!.is_available);
  if (soldOut.length > 0) {
    throw new ApiError(409, 'MENU_UNAVAILABLE', '품절된 메뉴가 포함되어 있습니다.', {
      details: { menu_ids: soldOut },
    });
  }
}

/** Every chosen option is the store's: 404 OPTION_NOT_FOUND naming the others. */
function assertOptionsExist(lines: OrderLine[], catalog: Catalog): void {
  const ids = new Set(lines.flatMap((line) => line.optionIds ?? []));
  const missing = [...ids].filter((id) => !catalog.options.has(id));
  if (missing.length === 0) return;
  throw new ApiError(404, 'OPTION_NOT_FOUND', '선택하신 옵션을 찾을 수 없습니다.', {
    details: { option_ids: missing },
  });
}

/**
 * The line's options are its dish's, and each of the dish's groups is chosen between
 * `min_select` and `max_select` times (a required group left out is chosen 0 times).
 */
function assertSelection(line: OrderLine, catalog: Catalog): void {
  const chosen = chosenOptions(line, catalog);
  const foreign = chosen.filter((option) => option.menu_id !== line.menuId);
  if (foreign.length > 0) {
    throw new ApiError(400, 'OPTION_SELECTION_INVALID', '이 메뉴에서 고를 수 없는 옵션입니다.', {
      details: { menu_id: line.menuId, option_ids: foreign.map((option) => option.id) },
    });
  }
  for (const group of catalog.groups.filter((candidate) => candidate.menu_id === line.menuId)) {
    const selected = chosen.filter((option) => option.group_id === group.id).length;
    if (selected >= group.min_select && selected <= group.max_select) continue;
    const range =
      group.min_select === group.max_select
        ? `${group.min_select}개`
        : `${group.min_select}~${group.max_select}개`;
    throw new ApiError(
      400,
      'OPTION_SELECTION_INVALID',
      `'${group.name}'에서 ${range}를 선택해 주세요.`,
      {
        details: {
          menu_id: line.menuId,
          group_id: group.id,
          group_name: group.name,
          min_select: group.min_select,
          max_select: group.max_select,
          selected,
        },
      },
    );
  }
}

/** No chosen option is sold out: 409 OPTION_UNAVAILABLE naming the ones that are. */
function assertOptionsAvailable(lines: OrderLine[], catalog: Catalog): void {
  const ids = new Set(lines.flatMap((line) => line.optionIds ?? []));
  const soldOut = [...ids].filter((id) => !catalog.options.get(id)!.is_available);
  if (soldOut.length === 0) return;
  throw new ApiError(409, 'OPTION_UNAVAILABLE', '품절된 옵션이 포함되어 있습니다.', {
    details: { option_ids: soldOut },
  });
}

/**
 * The line's snapshot: unit price = the menu's price + the chosen options' deltas (400
 * OPTION_SELECTION_INVALID below 0), options in the guests' menu order (by group, then option).
 */
function priceLine(line: OrderLine, catalog: Catalog): PricedLine {
  const menu = catalog.menus.get(line.menuId)!;
  const ids = new Set(line.optionIds);
  const chosen = [...catalog.options.values()].filter((option) => ids.has(option.id));
  const unitPrice = chosen.reduce((sum, option) => sum + option.price_delta, menu.price);
  if (unitPrice < 0) {
    throw new ApiError(
      400,
      'OPTION_SELECTION_INVALID',
      '선택하신 옵션으로는 가격이 0원보다 낮아집니다.',
      { details: { menu_id: menu.id, unit_price: unitPrice } },
    );
  }
  const groupName = new Map(catalog.groups.map((group) => [group.id, group.name]));
  return {
    menuId: menu.id,
    menuName: menu.name,
    unitPrice,
    quantity: line.quantity,
    subtotal: unitPrice * line.quantity,
    options: chosen.map((option) => ({
      option_id: option.id,
      group_name: groupName.get(option.group_id)!,
      name: option.name,
      price_delta: option.price_delta,
    })),
    note: line.note ?? null,
  };
}

/** The option rows a line chose (all found: checked by {@link assertOptionsExist}). */
function chosenOptions(line: OrderLine, catalog: Catalog): OptionRow[] {
  return (line.optionIds ?? []).map((id) => catalog.options.get(id)!);
}
