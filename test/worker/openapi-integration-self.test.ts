import { describe, expect, it } from 'vitest';
import { api, newStore, newSuperAdmin, newTable } from './support/fixtures.ts';

/** The documented endpoints, as OpenAPI paths (streams and image upload are tested apart). */
const CONTRACT_ROUTES = [
  'post /api/customer/auth/login',
  'post /api/admin/auth/login',
  'post /api/superadmin/auth/login',
  'get /.well-known/jwks.json',
  'get /api/customer/menus',
  'get /api/customer/menus/{id}',
  'post /api/customer/orders',
  'get /api/customer/orders',
  'get /api/admin/dashboard',
  'get /api/admin/orders',
  'patch /api/admin/orders/{id}/status',
  'post /api/admin/orders/{id}/acknowledge',
  'get /api/admin/store',
  'patch /api/admin/store',
  'delete /api/admin/orders/{id}',
  'get /api/admin/tables',
  'post /api/admin/tables',
  'patch /api/admin/tables/{id}',
  'delete /api/admin/tables/{id}',
  'post /api/admin/tables/{id}/complete-session',
  'get /api/admin/tables/{id}/order-history',
  'get /api/admin/categories',
  'post /api/admin/categories',
  'patch /api/admin/categories/{id}',
  'delete /api/admin/categories/{id}',
  'get /api/admin/menus',
  'post /api/admin/menus',
  'get /api/admin/menus/{id}',
  'patch /api/admin/menus/{id}',
  'delete /api/admin/menus/{id}',
  'put /api/admin/menus/order',
  'post /api/superadmin/stores',
  'get /api/superadmin/stores',
  'patch /api/superadmin/stores/{id}',
  'post /api/superadmin/admins',
  'get /api/superadmin/admins',
  'patch /api/superadmin/admins/{id}/activate',
  'patch /api/superadmin/admins/{id}/deactivate',
];

type OpenApiDocument = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, unknown>; security?: unknown; requestBody?: unknown }
    >
  >;
};

describe('the API contract', () => {
  it('is published as OpenAPI 3.1 covering the documented endpoints', async () => {
    const { status, body } = await api<OpenApiDocument>('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const documented = Object.entries(body.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    );
    expect(documented).toEqual(expect.arrayContaining(CONTRACT_ROUTES));
  });

  it('documents a success and the error envelope for every route, and bearer auth where needed', async () => {
    const { body } = await api<OpenApiDocument>('GET', '/openapi.json');
    for (const [path, methods] of Object.entries(body.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const statuses = Object.keys(operation.responses);
        expect(
          statuses.some((s) => s.startsWith('2')),
          `${method} ${path}`,
        ).toBe(true);
        const needsToken = path.startsWith('/api/') && !path.endsWith('/auth/login');
        expect(Boolean(operation.security), `${method} ${path} security`).toBe(needsToken);
        if (needsToken)
          expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
  });

  it('serves a documentation page', async () => {
    const { exports } = await import('cloudflare:workers');
    const response = await exports.default.fetch('http://table-order.test/docs');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('/openapi.json');
  });
});

describe('malformed requests on every documented route', () => {
  it('answer 400 VALIDATION_ERROR in the envelope, never 5xx, for a broken JSON body', async () => {
    const [{ body: doc }, store, superAdmin] = await Promise.all([
      api<OpenApiDocument>('GET', '/openapi.json'),
      newStore(),
      newSuperAdmin(),
    ]);
    const table = await newTable(store.id);
    const tokenFor = (path: string) =>
      path.startsWith('/api/customer/')
        ? table.token
        : path.startsWith('/api/superadmin/')
          ? superAdmin.token
          : store.admin.token;
    const withBodies = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => 'requestBody' in operation)
        .map(([method]) => [method.toUpperCase(), path] as const),
    );
    expect(withBodies.length).toBeGreaterThan(10);
    for (const [method, path] of withBodies) {
      const concrete = path.replace('{id}', crypto.randomUUID());
      const headers = { 'cf-connecting-ip': `198.51.100.${Math.floor(Math.random() * 250)}` };
      for (const rawBody of ['{', '[]', '"text"', '{"unexpected": true}']) {
        const res = await api(method, concrete, { token: tokenFor(path), rawBody, headers });
        expect(res.status, `${method} ${path} ${rawBody}`).toBe(400);
        expect(res.body.error.code, `${method} ${path}`).toBe('VALIDATION_ERROR');
      }
    }
  });
});
