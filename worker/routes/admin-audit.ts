import { createRoute, z } from '@hono/zod-openapi';
import { AuditEntrySchema, auditTrail } from '../domain/audit.ts';
import { authorized, storeOf } from '../middleware/auth.ts';
import {
  createRouter,
  errorResponses,
  jsonResponse,
  Pagination,
  pagination,
  StoreDaysPageQuery,
} from '../openapi.ts';

const auditRoute = createRoute({
  method: 'get',
  path: '/api/admin/audit',
  tags: ['admin: audit'],
  summary: 'Who changed what in the store: the audit trail, newest first',
  description:
    'Every write of the store’s admins and of the super admin for the store (orders, calls, ' +
    'tables, sessions, menus, options, accounts). `from` and `to` are store-local days, both ' +
    'inclusive.',
  ...authorized('store_admin'),
  request: { query: StoreDaysPageQuery },
  responses: {
    200: jsonResponse(
      z.object({ data: z.array(AuditEntrySchema), pagination: Pagination }),
      'one page of the audit trail',
    ),
    ...errorResponses(400, 401, 403),
  },
});

/** The store admin's look back at who changed what (the audit trail). */
export const adminAudit = createRouter().openapi(auditRoute, async (c) => {
  const query = c.req.valid('query');
  const { entries, totalCount } = await auditTrail(c.var.db, storeOf(c.var.principal), {
    from: query.from,
    to: query.to,
    page: query.page,
    pageSize: query.page_size,
  });
  return c.json(
    { data: entries, pagination: pagination(query.page, query.page_size, totalCount) },
    200,
  );
});
