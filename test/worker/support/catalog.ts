/**
 * Fixtures for the catalog tests (tables, categories, menus): rows written straight to the test
 * database and read back, so tests can set up states the API has no shortcut for (a seated
 * table, an order on a menu, a finished image) and check what a request left behind.
 */
import { eq } from 'drizzle-orm';
import * as schema from '../../../db/schema.ts';
import { withDb } from './fixtures.ts';

/** A category of the store with no menus. */
export function newCategory(storeId: string, name: string, displayOrder = 0) {
  return withDb(async (db) => {
    const [category] = await db
      .insert(schema.menuCategories)
      .values({ storeId, name, displayOrder })
      .returning();
    return category!;
  });
}

/** A menu in a category, with only the fields a test cares about given. */
export function addMenuRow(
  storeId: string,
  categoryId: string,
  menu: { name: string; price?: number; displayOrder?: number; isAvailable?: boolean },
) {
  return withDb(async (db) => {
    const [row] = await db
      .insert(schema.menus)
      .values({ storeId, categoryId, price: 1000, ...menu })
      .returning();
    return row!;
  });
}

/** Marks a menu's image variants as ready under the given keys. */
export function finishImage(menuId: string, key: string) {
  return withDb((db) =>
    db
      .update(schema.menus)
      .set({
        imageStatus: 'ready',
        imageOriginalKey: `${key}/original`,
        imageThumbnailKey: `${key}/thumbnail.webp`,
        imageDisplayKey: `${key}/display.webp`,
      })
      .where(eq(schema.menus.id, menuId)),
  );
}

/** Marks a menu's image as uploaded and still being resized (only the original stored). */
export function startImage(menuId: string, key: string) {
  return withDb((db) =>
    db
      .update(schema.menus)
      .set({ imageStatus: 'processing', imageOriginalKey: `${key}/original` })
      .where(eq(schema.menus.id, menuId)),
  );
}

/** Seats a party at the table: an active session, optionally with one order on `menu`. */
export function seatParty(
  storeId: string,
  tableId: string,
  menu?: { id: string; name: string; price: number },
) {
  return withDb(async (db) => {
    const [session] = await db
      .insert(schema.tableSessions)
      .values({ storeId, tableId })
      .returning();
    if (!menu) return { sessionId: session!.id, orderId: null };
    const [order] = await db
      .insert(schema.orders)
      .values({
        storeId,
        tableId,
        tableSessionId: session!.id,
        orderNumber: 1 + Math.floor(Math.random() * 1_000_000),
        totalAmount: menu.price,
        businessDate: '2000-01-01',
      })
      .returning();
    await db.insert(schema.orderItems).values({
      orderId: order!.id,
      menuId: menu.id,
      position: 0,
      menuName: menu.name,
      unitPrice: menu.price,
      quantity: 1,
      subtotal: menu.price,
    });
    return { sessionId: session!.id, orderId: order!.id };
  });
}

export const tableRow = (id: string) =>
  withDb(async (db) => {
    const [row] = await db.select().from(schema.diningTables).where(eq(schema.diningTables.id, id));
    return row;
  });

export const categoryRow = (id: string) =>
  withDb(async (db) => {
    const [row] = await db
      .select()
      .from(schema.menuCategories)
      .where(eq(schema.menuCategories.id, id));
    return row;
  });

export const menuRow = (id: string) =>
  withDb(async (db) => {
    const [row] = await db.select().from(schema.menus).where(eq(schema.menus.id, id));
    return row;
  });

export const orderItemsOf = (orderId: string) =>
  withDb((db) => db.select().from(schema.orderItems).where(eq(schema.orderItems.orderId, orderId)));

/** A uuid that names nothing. */
export const nobody = () => crypto.randomUUID();

/**
 * What 이용 완료 leaves behind, written directly: the session's orders moved to history (with the
 * table's number) and the session ended. Returns the history rows' ids.
 */
export function completeStay(storeId: string, tableId: string, sessionId: string) {
  return withDb(async (db) => {
    const [table] = await db
      .select()
      .from(schema.diningTables)
      .where(eq(schema.diningTables.id, tableId));
    const orders = await db
      .select()
      .from(schema.orders)
      .where(eq(schema.orders.tableSessionId, sessionId));
    const ids: string[] = [];
    for (const order of orders) {
      const [history] = await db
        .insert(schema.orderHistory)
        .values({
          storeId,
          tableId,
          tableNumber: table!.tableNumber,
          tableSessionId: sessionId,
          originalOrderId: order.id,
          orderNumber: order.orderNumber,
          status: order.status,
          totalAmount: order.totalAmount,
          orderedAt: order.createdAt,
          completedAt: new Date(),
        })
        .returning();
      ids.push(history!.id);
      await db.delete(schema.orders).where(eq(schema.orders.id, order.id));
    }
    await db
      .update(schema.tableSessions)
      .set({ endedAt: new Date() })
      .where(eq(schema.tableSessions.id, sessionId));
    return ids;
  });
}

export const historyRow = (id: string) =>
  withDb(async (db) => {
    const [row] = await db.select().from(schema.orderHistory).where(eq(schema.orderHistory.id, id));
    return row;
  });
