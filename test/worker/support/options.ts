/**
 * Fixtures for ordering with options, notes and requests: a dining room whose dishes have
 * choices (set up through the admin's own PUT), orders sent as the tablet sends them, and the
 * admin's 품절 switch and repricing through the API.
 */
import { eq, sql } from 'drizzle-orm';
import * as schema from '../../../db/schema.ts';
import { api, withDb, type ApiResponse } from './fixtures.ts';
import { putOptionGroups, type GroupBody } from './option-groups.ts';
import { blockedBy, diningRoom } from './ordering.ts';

/** 김치찌개 (9,000): 맵기, pick exactly one; 추가, up to two toppings. */
const STEW_CHOICES: GroupBody[] = [
  {
    name: '맵기',
    min_select: 1,
    max_select: 1,
    options: [
      { name: '순한맛', price_delta: 0 },
      { name: '보통', price_delta: 0 },
      { name: '매운맛', price_delta: 500 },
    ],
  },
  {
    name: '추가',
    min_select: 0,
    max_select: 2,
    options: [
      { name: '라면사리', price_delta: 1000 },
      { name: '치즈', price_delta: 500 },
      { name: '계란', price_delta: 700 },
    ],
  },
];

/** 공기밥 (1,000): 양 (half a bowl takes 500 off) and a 쿠폰 worth more than the rice. */
const RICE_CHOICES: GroupBody[] = [
  {
    name: '양',
    min_select: 0,
    max_select: 1,
    options: [
      { name: '반공기', price_delta: -500 },
      { name: '곱빼기', price_delta: 1000 },
    ],
  },
  {
    name: '쿠폰',
    min_select: 0,
    max_select: 1,
    options: [{ name: '무료 쿠폰', price_delta: -1500 }],
  },
];

/** A dish's choices as the admin set them: group and option ids by name. */
export type Choices = { groups: Record<string, string>; options: Record<string, string> };

/**
 * A store with one table and 김치찌개 9,000 / 공기밥 1,000 / 소주 5,000 (see `diningRoom`),
 * the stew and the rice with their choices (소주 has none).
 */
export async function roomWithChoices() {
  const room = await diningRoom();
  const token = room.store.admin.token;
  return {
    ...room,
    stewChoices: await giveChoices(token, room.stew.id, STEW_CHOICES),
    riceChoices: await giveChoices(token, room.rice.id, RICE_CHOICES),
  };
}

/** Sets a dish's choices through the admin's PUT and answers their ids by name. */
async function giveChoices(token: string, menuId: string, groups: GroupBody[]): Promise<Choices> {
  const res = await putOptionGroups(token, menuId, groups);
  if (res.status !== 200) throw new Error(`choices not set: ${JSON.stringify(res.body)}`);
  return choicesOf(res.body);
}

/** Group and option ids by name, from an admin menu object. */
function choicesOf(menu: { option_groups: AdminGroup[] }): Choices {
  return {
    groups: Object.fromEntries(menu.option_groups.map((group) => [group.name, group.id])),
    options: Object.fromEntries(
      menu.option_groups.flatMap((group) =>
        group.options.map((option) => [option.name, option.id]),
      ),
    ),
  };
}

type AdminOption = { id: string; name: string; price_delta: number; is_available: boolean };
type AdminGroup = { id: string; name: string; min_select: number; max_select: number } & {
  display_order: number;
  options: Array<AdminOption & { display_order: number }>;
};

/**
 * The admin edits one option (its delta, its name) or removes it, keeping every other group and
 * option as it is (ids kept): GET the menu, PUT its choices back changed.
 */
export async function editOption(
  token: string,
  menuId: string,
  optionId: string,
  change: { price_delta?: number; name?: string } | 'remove',
): Promise<void> {
  const menu = await api('GET', `/api/admin/menus/${menuId}`, { token });
  const groups = (menu.body.option_groups as AdminGroup[]).map((group) => ({
    ...group,
    options: group.options
      .filter((option) => change !== 'remove' || option.id !== optionId)
      .map((option) =>
        option.id === optionId && change !== 'remove' ? { ...option, ...change } : option,
      ),
  }));
  const res = await putOptionGroups(token, menuId, groups);
  if (res.status !== 200) throw new Error(`option not edited: ${JSON.stringify(res.body)}`);
}

/** `PATCH /api/admin/options/:id/availability` as the store's admin (품절 or back on sale). */
export function switchOption(token: string, optionId: string, isAvailable: boolean) {
  return api('PATCH', `/api/admin/options/${optionId}/availability`, {
    token,
    body: { is_available: isAvailable },
  });
}

/** An order line as the tablet sends it. */
export type LineBody = {
  menu_id: string;
  quantity: number;
  option_ids?: string[];
  note?: string | null;
};
/** An order as the tablet sends it. */
export type OrderBody = { items: LineBody[]; request?: string | null; expected_total?: number };

/** `POST /api/customer/orders` as the table with a whole body, optionally with a key. */
export function order(token: string, body: OrderBody, key?: string): Promise<ApiResponse> {
  return api('POST', '/api/customer/orders', {
    token,
    body,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
}

/**
 * Catches orders between pricing their lines and committing: holds the store's order-number
 * counters locked (as an order's numbering does; the store must have ordered today already) while
 * `orders` start, until all of them queue behind that lock; then starts `change` and waits until
 * it queues behind them too — an order that has read what it charges holds it until its commit —
 * and lets everything go. Answers the orders' and the change's responses.
 */
export async function changingUnderWaitingOrders(
  storeId: string,
  orders: Array<() => Promise<ApiResponse>>,
  change: () => Promise<ApiResponse>,
): Promise<{ orders: ApiResponse[]; change: ApiResponse }> {
  // Boxed: a promise returned from the transaction callback would be awaited before the commit
  // that it is waiting for.
  const { pending } = await withDb((db) =>
    db.transaction(async (tx) => {
      const { rows } = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
      await tx
        .select({ storeId: schema.orderNumberCounters.storeId })
        .from(schema.orderNumberCounters)
        .where(eq(schema.orderNumberCounters.storeId, storeId))
        .for('update');
      const placed = Promise.all(orders.map((request) => request()));
      await blockedBy(db, rows[0]!.pid, orders.length);
      const changed = change();
      const queued = blockedBy(db, rows[0]!.pid, orders.length + 1);
      const first = await Promise.race([queued.then(() => 'queued'), changed.then(() => 'done')]);
      if (first === 'done') {
        queued.catch(() => {});
        throw new Error('the change went through while orders that had read its rows were open');
      }
      return { pending: Promise.all([placed, changed]) };
    }),
  );
  const [placed, changed] = await pending;
  return { orders: placed, change: changed };
}
