/**
 * A menu's option written straight to the test database, for tests that must not go through the
 * admin's PUT (it invalidates the guests' cached menu, which such a test warms first).
 */
import * as schema from '../../../db/schema.ts';
import { withDb } from './fixtures.ts';

/** One group (추가, up to one) with one option (치즈 +500, on sale) on the store's menu. */
export function addOptionRow(storeId: string, menuId: string) {
  return withDb(async (db) => {
    const [group] = await db
      .insert(schema.menuOptionGroups)
      .values({ storeId, menuId, name: '추가', minSelect: 0, maxSelect: 1 })
      .returning();
    const [option] = await db
      .insert(schema.menuOptions)
      .values({ storeId, menuId, groupId: group!.id, name: '치즈', priceDelta: 500 })
      .returning();
    return option!;
  });
}
