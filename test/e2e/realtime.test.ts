import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { isolatedEnv } from '../support/child-env.ts';
import { listen, type Listener } from '../support/event-stream.ts';
import { plainDishOf } from '../support/demo-menu.ts';
import { apiClient } from '../support/http.ts';
import { closeBrokerConnections } from '../support/relay-fixtures.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { tabletDevice } from '../support/tablets.ts';

/**
 * The promise to a restaurant, end to end: outbox → relay → RabbitMQ → StoreHub → SSE, with the
 * relay run by the test so it can be killed and its broker connection cut mid-flow.
 */
let stack: Stack;
let call: ReturnType<typeof apiClient>;
let relay: ChildProcess | undefined;
const listeners: Listener[] = [];
const demo: Record<string, string> = {};
const other: Record<string, string> = {};

function startRelay(): ChildProcess {
  const child = spawn(process.execPath, ['relay/src/index.ts'], {
    env: isolatedEnv({ ...stack.relayEnv, OUTBOX_POLL_INTERVAL_MS: '500' }),
    stdio: 'ignore',
  });
  relay = child;
  return child;
}

/** Opens a stream and waits until it is open at the hub, so no event after this call can miss it. */
async function stream(path: string, token: string, lastEventId?: string): Promise<Listener> {
  const listener = listen(`${stack.workerUrl}${path}`, { token, lastEventId });
  listeners.push(listener);
  await listener.opened();
  return listener;
}

/** The order ids of the `order.created` events a stream received so far, in arrival order. */
function ordersSeen(listener: Listener): string[] {
  return listener.received
    .filter((e) => e.type === 'order.created')
    .map((e) => e.envelope.data.id as string);
}

async function order(tablet: string, menuId: string) {
  const res = await call('POST', '/api/customer/orders', tablet, {
    items: [{ menu_id: menuId, quantity: 1 }],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

beforeAll(async () => {
  stack = await startStack({ relay: false });
  call = apiClient(stack.workerUrl);
  startRelay();
  const ip = { 'cf-connecting-ip': '203.0.113.7' };
  const admin = await call(
    'POST',
    '/api/admin/auth/login',
    undefined,
    { store_id: DEMO_STORE_ID, username: 'admin', password: 'admin1234' },
    ip,
  );
  demo.admin = admin.body.access_token;
  demo.adminId = admin.body.admin.id;
  for (const n of [1, 2]) {
    const tablet = await call(
      'POST',
      '/api/customer/auth/login',
      undefined,
      { store_id: DEMO_STORE_ID, table_number: n, password: '0000', device_id: tabletDevice(n) },
      ip,
    );
    demo[`tablet${n}`] = tablet.body.access_token;
    demo[`table${n}`] = tablet.body.table.id;
  }
  demo.menu = plainDishOf((await call('GET', '/api/customer/menus', demo.tablet1)).body);

  const superToken = (
    await call(
      'POST',
      '/api/superadmin/auth/login',
      undefined,
      { username: 'superadmin', password: 'superadmin1234' },
      ip,
    )
  ).body.access_token;
  const store = await call('POST', '/api/superadmin/stores', superToken, { name: '옆집' });
  await call('POST', '/api/superadmin/admins', superToken, {
    store_id: store.body.id,
    username: 'neighbour',
    password: 'neighbour-1',
  });
  other.admin = (
    await call(
      'POST',
      '/api/admin/auth/login',
      undefined,
      { store_id: store.body.id, username: 'neighbour', password: 'neighbour-1' },
      ip,
    )
  ).body.access_token;
  const category = await call('POST', '/api/admin/categories', other.admin, { name: '면' });
  other.menu = (
    await call('POST', '/api/admin/menus', other.admin, {
      category_id: category.body.id,
      name: '냉면',
      price: 9000,
    })
  ).body.id;
  await call('POST', '/api/admin/tables', other.admin, { table_number: 1, password: '1111' });
  other.tablet = (
    await call(
      'POST',
      '/api/customer/auth/login',
      undefined,
      { store_id: store.body.id, table_number: 1, password: '1111', device_id: tabletDevice(1) },
      ip,
    )
  ).body.access_token;
}, 120_000);

afterAll(async () => {
  for (const listener of listeners) listener.close();
  if (relay && relay.exitCode === null) {
    relay.kill('SIGTERM');
    await once(relay, 'exit');
  }
  await stack?.stop();
});

describe('an order placed on a tablet', () => {
  it("reaches the store's admin stream and its own table's stream — and no one else's", async () => {
    const [dashboard, table1, table2, neighbour] = await Promise.all([
      stream('/api/admin/orders/stream', demo.admin!),
      stream('/api/customer/orders/stream', demo.tablet1!),
      stream('/api/customer/orders/stream', demo.tablet2!),
      stream('/api/admin/orders/stream', other.admin!),
    ]);

    const placed = await order(demo.tablet1!, demo.menu!);
    const [seen] = await dashboard.waitFor('order.created');
    expect(seen!.envelope).toMatchObject({
      type: 'order.created',
      store_id: DEMO_STORE_ID,
      table_id: demo.table1,
      data: { id: placed.id },
      // A guest's order: no admin caused it.
      actor: null,
    });
    const [mine] = await table1.waitFor('order.created');
    expect(mine!.envelope.data.id).toBe(placed.id);

    // Each stream that must not see `placed` gets an order of its own, placed after `placed`
    // reached the hub: once that arrives, `placed` would have arrived before it.
    const theirs = await order(other.tablet!, other.menu!);
    await neighbour.waitFor('order.created');
    expect(ordersSeen(neighbour)).toEqual([theirs.id]);
    const table2s = await order(demo.tablet2!, demo.menu!);
    await table2.waitFor('order.created');
    expect(ordersSeen(table2)).toEqual([table2s.id]);
    // …and the neighbour's order, placed before table 2's, never reached this store's dashboard.
    await dashboard.waitFor('order.created', 2);
    expect(ordersSeen(dashboard)).toEqual([placed.id, table2s.id]);
    expect(dashboard.received.map((e) => e.envelope.store_id)).toEqual([
      DEMO_STORE_ID,
      DEMO_STORE_ID,
    ]);
  });

  it('is followed on the dashboard by its status changes, a cancel and the table’s completion', async () => {
    const [dashboard, table2] = await Promise.all([
      stream('/api/admin/orders/stream', demo.admin!),
      stream('/api/customer/orders/stream', demo.tablet2!),
    ]);
    const placed = await order(demo.tablet2!, demo.menu!);
    const mistaken = await order(demo.tablet2!, demo.menu!);
    await call('PATCH', `/api/admin/orders/${placed.id}/status`, demo.admin, {
      status: 'preparing',
    });
    const cancelled = await call('POST', `/api/admin/orders/${mistaken.id}/cancel`, demo.admin, {
      reason: '중복 주문',
    });
    expect(cancelled.status).toBe(200);
    await call('POST', `/api/admin/tables/${demo.table2}/complete-session`, demo.admin);
    const [changed] = await dashboard.waitFor('order.status_changed');
    // Starting an order also acknowledges it: the step says by whom and when.
    expect(changed!.envelope.data).toEqual({
      order_id: placed.id,
      from: 'pending',
      to: 'preparing',
      acknowledged_at: expect.any(String),
      acknowledged_by: expect.any(String),
    });
    const [voided] = await dashboard.waitFor('order.cancelled');
    expect(voided!.envelope).toMatchObject({ table_id: demo.table2, data: cancelled.body });
    const [voidedAtTable] = await table2.waitFor('order.cancelled');
    expect(voidedAtTable!.envelope.data).toEqual(cancelled.body);
    const [completed] = await dashboard.waitFor('table.session_completed');
    expect(completed!.envelope.table_id).toBe(demo.table2);
  });
});

describe('a dish sold out on the admin screen', () => {
  /** PATCH …/availability of a menu, as the admin holding `token`; answers the menu. */
  async function setAvailable(token: string, menuId: string, isAvailable: boolean) {
    const res = await call('PATCH', `/api/admin/menus/${menuId}/availability`, token, {
      is_available: isAvailable,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { id: string; is_available: boolean };
  }

  /** The menu ids of the `menu.availability_changed` events a stream received so far. */
  const availabilitySeen = (listener: Listener) =>
    listener.received
      .filter((e) => e.type === 'menu.availability_changed')
      .map((e) => e.envelope.data.menu_id as string);

  it("reaches every tablet of the store through the relay, and no other store's", async () => {
    const menus = (await call('GET', '/api/customer/menus', demo.tablet1)).body.categories[0].menus;
    const dish = menus[1].id as string;
    const [table1, table2, neighbour] = await Promise.all([
      stream('/api/customer/orders/stream', demo.tablet1!),
      stream('/api/customer/orders/stream', demo.tablet2!),
      stream('/api/customer/orders/stream', other.tablet!),
    ]);

    expect(await setAvailable(demo.admin!, dish, false)).toMatchObject({
      id: dish,
      is_available: false,
    });
    for (const tablet of [table1, table2]) {
      const [soldOut] = await tablet.waitFor('menu.availability_changed');
      expect(soldOut!.envelope).toMatchObject({
        type: 'menu.availability_changed',
        store_id: DEMO_STORE_ID,
        table_id: null,
        table_session_id: null,
        data: { menu_id: dish, option_id: null, is_available: false },
        actor: { role: 'store_admin', id: demo.adminId },
      });
    }
    const guests = await call('GET', '/api/customer/menus', demo.tablet2);
    expect(guests.body.categories[0].menus[1]).toMatchObject({ id: dish, is_available: false });

    // The neighbour's own switch, made after this store's reached its tablets: had this store's
    // event gone to the neighbour's tablet, it would have arrived before.
    await setAvailable(other.admin!, other.menu!, false);
    await neighbour.waitFor('menu.availability_changed');
    expect(availabilitySeen(neighbour)).toEqual([other.menu]);

    await setAvailable(other.admin!, other.menu!, true);
    await setAvailable(demo.admin!, dish, true);
    const [, back] = await table1.waitFor('menu.availability_changed', 2);
    expect(back!.envelope.data).toEqual({ menu_id: dish, option_id: null, is_available: true });
    expect(availabilitySeen(table1)).toEqual([dish, dish]);
  });
});

describe('a dashboard that lost its connection', () => {
  it('gets exactly the events it missed, in order, when it comes back with Last-Event-ID', async () => {
    // Stays connected throughout: it shows when the missed orders have reached the hub.
    const witness = await stream('/api/admin/orders/stream', demo.admin!);
    const first = await stream('/api/admin/orders/stream', demo.admin!);
    const seen = await order(demo.tablet1!, demo.menu!);
    const [last] = await first.waitFor('order.created');
    expect(last!.envelope.data.id).toBe(seen.id);
    first.close();

    const missed = [];
    for (let i = 0; i < 3; i += 1) missed.push((await order(demo.tablet1!, demo.menu!)).id);
    await witness.waitFor('order.created', 4);
    expect(ordersSeen(witness)).toEqual([seen.id, ...missed]);

    const back = await stream('/api/admin/orders/stream', demo.admin!, last!.lastEventId);
    await back.waitFor('order.created', 3);
    // A live order after the replay: nothing else was replayed before it.
    const live = await order(demo.tablet1!, demo.menu!);
    await back.waitFor('order.created', 4);
    expect(ordersSeen(back)).toEqual([...missed, live.id]);
  });
});

describe('when parts of the pipeline fail mid-flow', () => {
  async function placeMany(count: number) {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push((await order(demo.tablet1!, demo.menu!)).id);
    return ids;
  }

  it('the relay killed with SIGKILL and restarted: every order arrives, none twice', async () => {
    const dashboard = await stream('/api/admin/orders/stream', demo.admin!);
    const before = await placeMany(10);
    relay!.kill('SIGKILL');
    await once(relay!, 'exit');
    const during = await placeMany(10);
    startRelay();
    const after = await placeMany(5);
    const expected = [...before, ...during, ...after];
    await dashboard.waitFor('order.created', expected.length, 20_000);
    // One more after all have arrived: a repeat still queued ahead of it would arrive first.
    const last = await placeMany(1);
    await dashboard.waitFor('order.created', expected.length + 1);
    const seen = ordersSeen(dashboard);
    expect(new Set(seen)).toEqual(new Set([...expected, ...last]));
    expect(seen).toHaveLength(expected.length + 1);
    expect(seen.at(-1)).toBe(last[0]);
  });

  it('the broker closes the relay’s connection: the relay reconnects and nothing is lost', async () => {
    const dashboard = await stream('/api/admin/orders/stream', demo.admin!);
    const before = await placeMany(5);
    await dashboard.waitFor('order.created', 5);
    // Only this stack's relay: its connection is named after its namespace.
    expect(await closeBrokerConnections(stack.relayEnv.RELAY_NAMESPACE!)).toBeGreaterThan(0);
    const after = await placeMany(5);
    await dashboard.waitFor('order.created', 10, 20_000);
    expect(ordersSeen(dashboard)).toEqual([...before, ...after]);
  });
});
