import { z } from '@hono/zod-openapi';
import { and, asc, desc, eq, inArray, isNull, ne, type SQL } from 'drizzle-orm';
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
  .openapi({ description: "whole won, the sum of the session's orders that are not cancelled" });

/**
 * The orders a party pays for: every order but a cancelled one (a void stays listed, outside
 * every total), as a condition on `orders`.
 */
export function countsTowardTotals(): SQL {
  return ne(orders.status, 'cancelled');
}

/**
 * The orders nobody has seen to yet: still `pending` and not acknowledged, as a condition on
 * `orders`. Starting an order acknowledges it, and a cancelled one waits for no one; `pending`
 * also leaves out the orders the kitchen had started before acknowledgements were recorded.
 */
export function awaitsAcknowledgement(): SQL {
  return and(eq(orders.status, 'pending'), isNull(orders.acknowledgedAt))!;
}

/** What these orders come to, in whole won: the sum of those not cancelled. */
export function totalOf(list: OrderView[]): number {
  return list.reduce(
    (sum, order) => (order.status === 'cancelled' ? sum : sum + order.total_amount),
    0,
  );
}

/** An option the guest chose on a line, as it was when ordered (the kitchen's names). */
const LineOptionSchema = z
  .object({
    option_id: z.uuid(),
    group_name: z.string(),
    name: z.string(),
    price_delta: z.number().int().openapi({ description: 'whole won added to the unit price' }),
  })
  .openapi('LineOption');

/** An ordered line as every answer shows it: what was ordered and what it cost then. */
export const OrderLineSchema = z
  .object({
    menu_id: z.uuid().nullable().openapi({ description: 'null once the menu was deleted' }),
    menu_name: z.string(),
    quantity: z.number().int(),
    unit_price: z
      .number()
      .int()
      .openapi({ description: "the menu's price plus the chosen options' deltas" }),
    options: z.array(LineOptionSchema).openapi({ description: 'by group, then option order' }),
    note: z.string().nullable().openapi({ description: "the guest's note on this line" }),
    subtotal: z.number().int(),
  })
  .openapi('OrderLine');
export type OrderLineView = z.infer<typeof OrderLineSchema>;

/**
 * A voided order's record, on every order answer (active and archived): when, by which admin and
 * why it was cancelled — all null unless the order is `cancelled`.
 */
export const CancelRecordSchema = z.object({
  cancelled_at: z.string().nullable().openapi({ format: 'date-time' }),
  cancelled_by: z.uuid().nullable().openapi({ description: 'the admin who cancelled it' }),
  cancel_reason: z.string().nullable().openapi({ description: "the admin's reason, if given" }),
});

/** The API shape of a row's cancel record (an order's or an archived order's). */
export function toCancelRecord(
  row: Pick<Order, 'cancelledAt' | 'cancelledBy' | 'cancelReason'>,
): z.infer<typeof CancelRecordSchema> {
  return {
    cancelled_at: row.cancelledAt?.toISOString() ?? null,
    cancelled_by: row.cancelledBy,
    cancel_reason: row.cancelReason,
  };
}

/**
 * When an admin first saw to an order (acknowledged it, or started preparing it) and who: both
 * null until then.
 */
const AcknowledgementSchema = z.object({
  acknowledged_at: z.string().nullable().openapi({ format: 'date-time' }),
  acknowledged_by: z.uuid().nullable().openapi({ description: 'the admin who acknowledged it' }),
});

/** An order as every API answer shows it (customer and admin alike). */
export const OrderSchema = z
  .object({
    id: z.uuid(),
    order_number: z.number().int().openapi({ description: 'per store, restarting each day' }),
    table_id: z.uuid(),
    table_session_id: z.uuid(),
    status: z.enum(ORDER_STATUSES),
    total_amount: z.number().int().openapi({ description: 'whole won' }),
    items: z.array(OrderLineSchema),
    request: z.string().nullable().openapi({ description: "the guest's request (요청사항)" }),
    created_at: z.string().openapi({ format: 'date-time' }),
    ...CancelRecordSchema.shape,
    ...AcknowledgementSchema.shape,
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

/** What the API shows of an ordered line (active or archived): its row without ids. */
export type LineRow = Pick<
  OrderItem,
  'menuId' | 'menuName' | 'quantity' | 'unitPrice' | 'options' | 'note' | 'subtotal'
>;

/** The API shape of an ordered line. */
export function toLineView(line: LineRow): OrderLineView {
  return {
    menu_id: line.menuId,
    menu_name: line.menuName,
    quantity: line.quantity,
    unit_price: line.unitPrice,
    options: line.options,
    note: line.note,
    subtotal: line.subtotal,
  };
}

/** The API shape of an order row and its lines (in the order the guest entered them). */
export function toOrderView(
  order: Order,
  items: Array<LineRow & Pick<OrderItem, 'position'>>,
): OrderView {
  return {
    id: order.id,
    order_number: order.orderNumber,
    table_id: order.tableId,
    table_session_id: order.tableSessionId,
    status: order.status,
    total_amount: order.totalAmount,
    items: items.toSorted((a, b) => a.position - b.position).map(toLineView),
    request: order.request,
    created_at: order.createdAt.toISOString(),
    ...toCancelRecord(order),
    acknowledged_at: order.acknowledgedAt?.toISOString() ?? null,
    acknowledged_by: order.acknowledgedBy,
  };
}
