import { z } from '@hono/zod-openapi';
import { and, asc, count, desc, eq, inArray } from 'drizzle-orm';
import {
  diningTables,
  ORDER_STATUSES,
  orderHistory as pastOrders,
  orderHistoryItems as pastOrderLines,
  stores,
} from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database } from '../domain/database.ts';
import { onStoreDays } from './store-days.ts';
import { CancelRecordSchema, OrderSchema, toCancelRecord, toLineView } from './order-view.ts';

/**
 * A past order of a completed session, as the history answers it; a cancelled one keeps its
 * cancel record (and never counted toward the session's total).
 */
export const HistoryOrderSchema = z
  .object({
    id: z.uuid(),
    original_order_id: z.uuid().openapi({ description: 'the id the order had while active' }),
    order_number: z.number().int(),
    table_session_id: z.uuid(),
    status: z.enum(ORDER_STATUSES),
    total_amount: z.number().int(),
    items: OrderSchema.shape.items,
    request: OrderSchema.shape.request,
    ordered_at: z.string().openapi({ format: 'date-time' }),
    completed_at: z.string().openapi({ format: 'date-time' }),
    ...CancelRecordSchema.shape,
  })
  .openapi('HistoryOrder');
export type HistoryOrder = z.infer<typeof HistoryOrderSchema>;

/** Which page of a table's history, and which store-local days (`YYYY-MM-DD`, both inclusive). */
export type HistoryQuery = { from?: string; to?: string; page: number; pageSize: number };

/**
 * The archived orders of one table of the caller's store, newest completion first, one page at a
 * time. `from`/`to` are days in the store's timezone: the bounds are turned into instants by
 * PostgreSQL (`(day)::timestamp at time zone tz`), so midnight is the store's midnight whatever
 * the daylight-saving rules. Another store's table (or none) → 404.
 */
export async function orderHistory(
  db: Database,
  storeId: string,
  tableId: string,
  query: HistoryQuery,
): Promise<{ orders: HistoryOrder[]; totalCount: number }> {
  const [table] = await db
    .select({ timezone: stores.timezone })
    .from(diningTables)
    .innerJoin(stores, eq(stores.id, diningTables.storeId))
    .where(and(eq(diningTables.id, tableId), eq(diningTables.storeId, storeId)));
  if (!table) throw new ApiError(404, 'NOT_FOUND', '테이블을 찾을 수 없습니다.');

  const where = and(
    eq(pastOrders.storeId, storeId),
    eq(pastOrders.tableId, tableId),
    onStoreDays(pastOrders.completedAt, query, table.timezone),
  );
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(pastOrders)
      .where(where)
      .orderBy(
        desc(pastOrders.completedAt),
        desc(pastOrders.orderedAt),
        desc(pastOrders.orderNumber),
        desc(pastOrders.id),
      )
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize),
    db.select({ value: count() }).from(pastOrders).where(where),
  ]);
  const lines =
    rows.length === 0
      ? []
      : await db
          .select()
          .from(pastOrderLines)
          .where(
            inArray(
              pastOrderLines.orderHistoryId,
              rows.map((row) => row.id),
            ),
          )
          .orderBy(asc(pastOrderLines.position));
  const linesByOrder = Map.groupBy(lines, (line) => line.orderHistoryId);
  return {
    totalCount: total?.value ?? 0,
    orders: rows.map((row) => ({
      id: row.id,
      original_order_id: row.originalOrderId,
      order_number: row.orderNumber,
      table_session_id: row.tableSessionId,
      status: row.status,
      total_amount: row.totalAmount,
      items: (linesByOrder.get(row.id) ?? []).map(toLineView),
      request: row.request,
      ordered_at: row.orderedAt.toISOString(),
      completed_at: row.completedAt.toISOString(),
      ...toCancelRecord(row),
    })),
  };
}
