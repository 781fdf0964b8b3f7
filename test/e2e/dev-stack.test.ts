import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { startStack, type Stack } from '../support/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

describe('npm run dev', () => {
  it('serves liveness and readiness on the Worker, and the relay health check', async () => {
    const health = await fetch(`${stack.workerUrl}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${stack.workerUrl}/readyz`);
    expect(await ready.json()).toMatchObject({
      checks: { database: { ok: true }, redis: { ok: true } },
    });
    expect((await fetch(`${stack.relayUrl}/healthz`)).status).toBe(200);
  });

  it('has seeded the demo store, whose admin can log in with the printed credentials', async () => {
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    const { rows } = await client.query('select name from stores where id = $1', [DEMO_STORE_ID]);
    await client.end();
    expect(rows).toHaveLength(1);
    expect(stack.output()).toContain('admin / admin1234');

    const login = await fetch(`${stack.workerUrl}/api/admin/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ store_id: DEMO_STORE_ID, username: 'admin', password: 'admin1234' }),
    });
    expect(login.status).toBe(200);
    expect(await login.json()).toMatchObject({ token_type: 'Bearer' });
  });

  it('stops every part on Ctrl-C', async () => {
    const workerUrl = stack.workerUrl;
    const code = await stack.stop();
    expect(code).toBe(0);
    // Nothing listens any more: refused at once, not a timeout.
    const refused = { message: 'fetch failed', cause: { code: 'ECONNREFUSED' } };
    await expect(fetch(`${workerUrl}/healthz`)).rejects.toMatchObject(refused);
    await expect(fetch(`${stack.relayUrl}/healthz`)).rejects.toMatchObject(refused);
  });
});
