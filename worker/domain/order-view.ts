import { z } from '@hono/zod-openapi';
import { asc, desc, inArray, type SQL } from 'drizzle-orm';
import { ORDER_STATUSES, orderItems, orders, type Order, type OrderItem } from '../../db/schema.ts';
import type { Database, Transaction } from '../domain/database.ts';

/**
 * What a party's orders come to, in whole won: a sum, which may pass 2^31 (summed as `bigint`;
 * exact as a JSON number up to 2^53).
 */
export const SessionTotal = z
  .number()
  .int()
  .min(0)
  .openapi({ description: "whole won, the sum of the session's orders" });

/** An order as every API answer shows it (customer and admin alike). */
export const OrderSchema = z
  .object({
    id: z.uuid(),
    order_number: z.number().int().openapi({ description: 'per store, restarting each day' }),
    table_id: z.uuid(),
    table_session_id: z.uuid(),
    status: z.enum(ORDER_STATUSES),
    total_amount: z.number().int().openapi({ description: 'whole won' }),
    items: z.array(
      z.object({
        menu_id: z.uuid().nullable().openapi({ description: 'null once the menu was deleted' }),
        menu_name: z.string(),
        quantity: z.number().int(),
        unit_price: z.number().int(),
        subtotal: z.number().int(),
      }),
    ),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Order');
export type OrderView = z.infer<typeof OrderSchema>;

/**
 * Loads the orders matching `where` (a condition on `orders`) with their items, newest first,
 * in two queries whatever the number of orders.
 */
export async function loadOrders(
  db: Database | Transaction,
  where: SQL | undefined,
): Promise<OrderView[]> {
  const rows = await db
    .select()
    .from(orders)
    .where(where)
    .orderBy(desc(orders.createdAt), desc(orders.orderNumber));
  if (rows.length === 0) return [];
  const items = await db
    .select()
    .from(orderItems)
    .where(
      inArray(
        orderItems.orderId,
        rows.map((row) => row.id),
      ),
    )
    .orderBy(asc(orderItems.position));
  const itemsByOrder = Map.groupBy(items, (item) => item.orderId);
  return rows.map((row) => toOrderView(row, itemsByOrder.get(row.id) ?? []));
}

/** What the API shows of an order's line: its row without ids. */
type LineRow = Pick<
  OrderItem,
  'position' | 'menuId' | 'menuName' | 'quantity' | 'unitPrice' | 'subtotal'
>;

/** The API shape of an order row and its lines (in the order the guest entered them). */
export function toOrderView(order: Order, items: LineRow[]): OrderView {
  return {
    id: order.id,
    order_number: order.orderNumber,
    table_id: order.tableId,
    table_session_id: order.tableSessionId,
    status: order.status,
    total_amount: order.totalAmount,
    items: items
      .toSorted((a, b) => a.position - b.position)
      .map((item) => ({
        menu_id: item.menuId,
        menu_name: item.menuName,
        quantity: item.quantity,
        unit_price: item.unitPrice,
        subtotal: item.subtotal,
      })),
    created_at: order.createdAt.toISOString(),
  };
}
