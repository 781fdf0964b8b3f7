import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { tabletDevice } from '../support/tablets.ts';

/** A developer's shell as the tests may meet it; none of it may reach the stack they start. */
const SHELL = {
  SUPERADMIN_USERNAME: 'someone',
  SUPERADMIN_PASSWORD: 'someone-else-1234',
  DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  AMQP_URL: 'amqp://nobody:nothing@127.0.0.1:1',
  REDIS_URL: 'redis://127.0.0.1:1',
  WORKER_URL: 'http://127.0.0.1:1',
  CLOUDFLARE_ENV: 'production',
};

let stack: Stack;
beforeAll(async () => {
  for (const [name, value] of Object.entries(SHELL)) vi.stubEnv(name, value);
  try {
    stack = await startStack();
  } finally {
    vi.unstubAllEnvs();
  }
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

  it('serves the demo menu to a tablet in English, with a required 맵기 and an optional 추가', async () => {
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${stack.workerUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const login = await post('/api/customer/auth/login', {
      store_id: DEMO_STORE_ID,
      table_number: '1',
      password: '0000',
      device_id: tabletDevice(1),
    });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const answer = await fetch(`${stack.workerUrl}/api/customer/menus?lang=en`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const menu = (await answer.json()) as {
      lang: string;
      categories: Array<{ name: string; menus: Array<Record<string, any>> }>;
    };
    expect(menu.lang).toBe('en');
    expect(menu.categories.map((category) => category.name)).toEqual(['Mains', 'Sides', 'Drinks']);
    const stew = menu.categories[0]!.menus.find((dish) => dish.name === 'Kimchi stew')!;
    expect(stew.option_groups).toMatchObject([
      { name: 'Spiciness', min_select: 1, max_select: 1 },
      { name: 'Extras', min_select: 0, max_select: 3 },
    ]);

    const [spiciness, extras] = stew.option_groups;
    const order = await post(
      '/api/customer/orders',
      {
        items: [
          {
            menu_id: stew.id,
            quantity: 2,
            option_ids: [spiciness.options[2].id, extras.options[1].id],
            note: '덜 짜게',
          },
        ],
        expected_total: 2 * (stew.price + extras.options[1].price_delta),
      },
      token,
    );
    expect(order.status).toBe(201);
    // The kitchen reads the store's own names, whatever language the guest ordered in.
    expect(await order.json()).toMatchObject({
      total_amount: 2 * 10_500,
      items: [
        {
          menu_name: '김치찌개',
          unit_price: 10_500,
          note: '덜 짜게',
          options: [
            { group_name: '맵기', name: '매운맛', price_delta: 0 },
            { group_name: '추가', name: '치즈', price_delta: 1_500 },
          ],
        },
      ],
    });
  });

  it("ignores the shell's variables: the demo super admin logs in as printed", async () => {
    expect(stack.output()).toContain('superadmin / superadmin1234');
    const login = await fetch(`${stack.workerUrl}/api/superadmin/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'superadmin', password: 'superadmin1234' }),
    });
    expect(login.status).toBe(200);
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
