import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { plainDishOf } from '../support/demo-menu.ts';
import { listen, type Listener } from '../support/event-stream.ts';
import { apiClient } from '../support/http.ts';
import { killRelay, spawnRelay, type SpawnedRelay } from '../support/relay-fixtures.ts';
import { startStack, type Stack } from '../support/stack.ts';

/**
 * One id from tablet to screen, end to end: the `X-Request-Id` a tablet sends with its order is
 * on the order's event in the admin's stream, and in the relay's log where it was published and
 * delivered — so an operator can follow the order by it. The relay is run by the test to read
 * its log.
 */
let stack: Stack;
let call: ReturnType<typeof apiClient>;
let relay: SpawnedRelay;
let dashboard: Listener | undefined;
const demo: Record<string, string> = {};

beforeAll(async () => {
  stack = await startStack({ relay: false });
  call = apiClient(stack.workerUrl);
  relay = spawnRelay(stack.relayEnv);
  const ip = { 'cf-connecting-ip': '203.0.113.8' };
  const admin = await call(
    'POST',
    '/api/admin/auth/login',
    undefined,
    { store_id: DEMO_STORE_ID, username: 'admin', password: 'admin1234' },
    ip,
  );
  demo.admin = admin.body.access_token;
  const tablet = await call(
    'POST',
    '/api/customer/auth/login',
    undefined,
    { store_id: DEMO_STORE_ID, table_number: 1, password: '0000', device_id: crypto.randomUUID() },
    ip,
  );
  expect(tablet.status, JSON.stringify(tablet.body)).toBe(200);
  demo.tablet = tablet.body.access_token;
  demo.menu = plainDishOf((await call('GET', '/api/customer/menus', demo.tablet)).body);
}, 120_000);

afterAll(async () => {
  dashboard?.close();
  if (relay) await killRelay(relay);
  await stack?.stop();
});

/** The relay's log lines (JSON, whole lines only) that name `correlationId`. */
function relayLinesOf(correlationId: string): Record<string, unknown>[] {
  return relay
    .output()
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.correlation_id === correlationId);
}

describe('an order a tablet sends with its own request id', () => {
  it('reaches the admin’s screen with that id, and the relay’s log names it', async () => {
    dashboard = listen(`${stack.workerUrl}/api/admin/orders/stream`, { token: demo.admin });
    await dashboard.opened();

    const placed = await call(
      'POST',
      '/api/customer/orders',
      demo.tablet,
      { items: [{ menu_id: demo.menu, quantity: 1 }] },
      { 'X-Request-Id': 'tablet-7-order-42' },
    );

    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    expect(placed.headers.get('x-request-id')).toBe('tablet-7-order-42');
    const [seen] = await dashboard.waitFor('order.created', 1, 20_000);
    expect(seen!.envelope).toMatchObject({
      type: 'order.created',
      data: { id: placed.body.id },
      correlation_id: 'tablet-7-order-42',
    });
    const eventId = String(seen!.envelope.id);
    await expect
      .poll(() => relayLinesOf('tablet-7-order-42').map((line) => [line.msg, line.eventId]))
      .toEqual([
        ['event published', eventId],
        ['event delivered', eventId],
      ]);
  });
});
