import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import app from '../../worker/index.ts';

/** Calls the Worker with some bindings replaced, as a misconfigured or degraded deployment would. */
async function fetchWith(path: string, overrides: Partial<Env>): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`http://table-order.test${path}`),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe('liveness', () => {
  it('answers 200 while the Worker is up', async () => {
    const response = await exports.default.fetch('http://table-order.test/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });
});

type Readiness = {
  status: string;
  failed: string[];
  checks: Record<string, { ok: boolean; latency_ms: number; error?: string }>;
};

/** Every dependency the Worker has, as /readyz names them. */
const DEPENDENCIES = ['database', 'redis', 'r2', 'store_hub'];

describe('readiness', () => {
  it('is ready when the database, Redis, R2 and the store hub all answer, each timed', async () => {
    const response = await exports.default.fetch('http://table-order.test/readyz');
    const body = await response.json<Readiness>();
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.failed).toEqual([]);
    expect(Object.keys(body.checks).sort()).toEqual([...DEPENDENCIES].sort());
    for (const name of DEPENDENCIES) {
      expect(body.checks[name], name).toEqual({ ok: true, latency_ms: expect.any(Number) });
    }
  });

  // R2 and Durable Objects are Miniflare's own here and cannot be made to fail; a deployment
  // that lacks the binding is the failure these can show for real.
  it.each([
    ['r2', { IMAGES: undefined }],
    ['store_hub', { STORE_HUB: undefined }],
  ])('is not ready (503, naming %s) when that binding is missing', async (name, overrides) => {
    const response = await fetchWith('/readyz', overrides as unknown as Partial<Env>);
    const body = await response.json<Readiness>();
    expect(response.status, JSON.stringify(body)).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.failed).toEqual([name]);
    expect(body.checks[name]).toEqual({
      ok: false,
      latency_ms: expect.any(Number),
      error: expect.any(String),
    });
    for (const other of DEPENDENCIES.filter((dependency) => dependency !== name)) {
      expect(body.checks[other]?.ok, other).toBe(true);
    }
  });

  it('is not ready (503, naming the failed check) when Redis cannot be reached', async () => {
    const response = await fetchWith('/readyz', { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' });
    const body = await response.json<Readiness>();
    expect(response.status).toBe(503);
    expect(body.failed).toEqual(['redis']);
    expect(body.checks.redis?.ok).toBe(false);
    expect(body.checks.database?.ok).toBe(true);
  });

  it('is not ready when the database cannot be reached', async () => {
    const response = await fetchWith('/readyz', { NEON_WS_PROXY: '127.0.0.1:1/v1' });
    const body = await response.json<Readiness>();
    expect(response.status).toBe(503);
    expect(body.failed).toEqual(['database']);
    expect(body.checks.database?.ok).toBe(false);
    expect(body.checks.redis?.ok).toBe(true);
  });
});

describe('unknown routes', () => {
  it('answer 404 in the error envelope with the request id', async () => {
    const response = await exports.default.fetch('http://table-order.test/no/such/route', {
      headers: { 'x-request-id': 'probe-123' },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: expect.any(String),
        details: {},
        request_id: 'probe-123',
      },
    });
  });
});

describe('the database out of reach', () => {
  it('makes an API request answer 503 SERVICE_UNAVAILABLE with Retry-After, not 500', async () => {
    const ctx = createExecutionContext();
    const request = new Request('http://table-order.test/api/admin/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': '192.0.2.44' },
      body: JSON.stringify({ store_id: crypto.randomUUID(), username: 'nobody', password: 'x' }),
    });
    const response = await app.fetch(request, { ...env, NEON_WS_PROXY: '127.0.0.1:1/v1' }, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    const body = await response.json<{ error: { code: string } }>();
    expect(body.error.code).toBe('SERVICE_UNAVAILABLE');
  });
});
