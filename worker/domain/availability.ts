import { and, eq, ne } from 'drizzle-orm';
import { menuOptions, menus } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import { recordAudit, type Actor } from './audit.ts';
import type { Database, Transaction } from './database.ts';
import { recordEvent } from './events.ts';
import { getMenu } from './menus.ts';
import type { MenuView } from './menu-view.ts';

/** What the admin marks sold out (품절) or back on sale: a whole dish, or one option of a dish. */
export type AvailabilityTarget = { menuId: string } | { optionId: string };

/** Where a switch landed: the dish it concerns, and whether its state actually changed. */
type Switched = { menuId: string; changed: boolean };

/**
 * Marks a dish or one of its options sold out (`isAvailable` false) or on sale again, and answers
 * the dish as the admin sees it, as this switch left it. Only a real change records
 * `menu.availability_changed`, in the same transaction, so that every tablet of the store hides
 * or shows it at once; flipping a switch to where it already is changes nothing and tells no one.
 * The update itself compares (`… where is_available <> new`), so of two admins flipping the same
 * switch at once exactly one records the event. The audit trail keeps every switch, saying
 * whether it changed anything. Another store's id is not found, exactly like an unknown one.
 */
export async function switchAvailability(
  db: Database,
  storeId: string,
  target: AvailabilityTarget,
  actor: Actor,
  isAvailable: boolean,
): Promise<MenuView> {
  return db.transaction(async (tx) => {
    const switched =
      'menuId' in target
        ? await switchMenu(tx, storeId, target.menuId, isAvailable)
        : await switchOption(tx, storeId, target.optionId, isAvailable);
    if (switched.changed) {
      await recordEvent(tx, {
        type: 'menu.availability_changed',
        storeId,
        data: {
          menu_id: switched.menuId,
          option_id: 'optionId' in target ? target.optionId : null,
          is_available: isAvailable,
        },
        actor,
      });
    }
    await recordAudit(tx, { storeId, actor, ...switchAudited(target, switched, isAvailable) });
    return getMenu(tx, storeId, switched.menuId);
  });
}

/** What the audit trail keeps of a switch: the dish's or the option's, and what it did. */
function switchAudited(target: AvailabilityTarget, switched: Switched, isAvailable: boolean) {
  const details = { is_available: isAvailable, changed: switched.changed };
  if ('menuId' in target) {
    return {
      action: 'menu.availability_changed',
      targetType: 'menu',
      targetId: target.menuId,
      details,
    };
  }
  return {
    action: 'option.availability_changed',
    targetType: 'option',
    targetId: target.optionId,
    details: { menu_id: switched.menuId, ...details },
  };
}

async function switchMenu(
  tx: Transaction,
  storeId: string,
  menuId: string,
  isAvailable: boolean,
): Promise<Switched> {
  const ofStore = and(eq(menus.storeId, storeId), eq(menus.id, menuId));
  const [changed] = await tx
    .update(menus)
    .set({ isAvailable })
    .where(and(ofStore, ne(menus.isAvailable, isAvailable)))
    .returning({ id: menus.id });
  if (changed) return { menuId, changed: true };
  const [unchanged] = await tx.select({ id: menus.id }).from(menus).where(ofStore);
  if (!unchanged) throw new ApiError(404, 'NOT_FOUND', '메뉴를 찾을 수 없습니다.');
  return { menuId, changed: false };
}

async function switchOption(
  tx: Transaction,
  storeId: string,
  optionId: string,
  isAvailable: boolean,
): Promise<Switched> {
  const ofStore = and(eq(menuOptions.storeId, storeId), eq(menuOptions.id, optionId));
  const [changed] = await tx
    .update(menuOptions)
    .set({ isAvailable })
    .where(and(ofStore, ne(menuOptions.isAvailable, isAvailable)))
    .returning({ menuId: menuOptions.menuId });
  if (changed) return { menuId: changed.menuId, changed: true };
  const [unchanged] = await tx
    .select({ menuId: menuOptions.menuId })
    .from(menuOptions)
    .where(ofStore);
  if (!unchanged) throw new ApiError(404, 'NOT_FOUND', '옵션을 찾을 수 없습니다.');
  return { menuId: unchanged.menuId, changed: false };
}
