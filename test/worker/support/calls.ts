/**
 * Fixtures for staff calls (직원 호출): a guest calling, an admin acknowledging, and reading back
 * what the calls wrote (call rows, the audit trail).
 */
import { and, asc, eq } from 'drizzle-orm';
import * as schema from '../../../db/schema.ts';
import type { CallReason } from '../../../db/schema.ts';
import { api, outboxOf, withDb, type ApiResponse } from './fixtures.ts';

/** POST /api/customer/calls as the table. */
export function callStaff(token: string, body: object): Promise<ApiResponse> {
  return api('POST', '/api/customer/calls', { token, body });
}

/** POST /api/admin/calls/{id}/acknowledge as the admin. */
export function acknowledge(token: string, callId: string): Promise<ApiResponse> {
  return api('POST', `/api/admin/calls/${callId}/acknowledge`, { token });
}

/** GET /api/admin/calls, optionally `?status=`. */
export function listCalls(token: string, status?: string): Promise<ApiResponse> {
  const query = status === undefined ? '' : `?status=${status}`;
  return api('GET', `/api/admin/calls${query}`, { token });
}

/** The store's outbox rows of the call events, oldest first. */
export async function callEventsOf(storeId: string) {
  const rows = await outboxOf(storeId);
  return rows.filter((row) => row.type.startsWith('table.call_'));
}

/** The call rows of a table, oldest first. */
export function callRowsOf(tableId: string) {
  return withDb((db) =>
    db
      .select()
      .from(schema.staffCalls)
      .where(eq(schema.staffCalls.tableId, tableId))
      .orderBy(asc(schema.staffCalls.createdAt)),
  );
}

/** The audit rows of a store about calls, oldest first. */
export function callAuditOf(storeId: string) {
  return withDb((db) =>
    db
      .select()
      .from(schema.auditLog)
      .where(and(eq(schema.auditLog.storeId, storeId), eq(schema.auditLog.targetType, 'call')))
      .orderBy(asc(schema.auditLog.id)),
  );
}

/**
 * Closed calls of a table written straight to the database, one a minute apart ending a minute
 * ago, oldest first: a long evening's calls, without the API's one-open-call rule in the way.
 */
export function closedCalls(
  table: { storeId: string; id: string },
  count: number,
  reason: CallReason = 'water',
) {
  const start = Date.now() - (count + 1) * 60_000;
  return withDb((db) =>
    db
      .insert(schema.staffCalls)
      .values(
        Array.from({ length: count }, (_, i) => ({
          storeId: table.storeId,
          tableId: table.id,
          reason,
          status: 'closed' as const,
          createdAt: new Date(start + i * 60_000),
          closedAt: new Date(start + i * 60_000 + 30_000),
        })),
      )
      .returning({ id: schema.staffCalls.id }),
  );
}
