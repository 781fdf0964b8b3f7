import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listener } from '../support/event-stream.ts';
import { apiClient } from '../support/http.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { tabletDevice } from '../support/tablets.ts';

/**
 * An order nobody acknowledges, through `npm run dev` and the real relay: a store that wants its
 * orders seen to within 5 seconds gets `order.unacknowledged` on its admin's stream, from the
 * store's hub, until an admin acknowledges the order — and not on the tablet's.
 */
let stack: Stack;
let call: ReturnType<typeof apiClient>;
const listeners: Listener[] = [];
const ctx: Record<string, string> = {};

/** An alert as a stream received it. */
type Alert = { order_id: string; table_id: string; age_seconds: number; escalation: number };

/** Opens a stream and collects the `order.unacknowledged` frames it receives. */
async function alertsOn(path: string, token: string) {
  const listener = listen(`${stack.workerUrl}${path}`, { token });
  listeners.push(listener);
  const alerts: Alert[] = [];
  listener.source.addEventListener('order.unacknowledged', (event) => {
    alerts.push(JSON.parse(event.data) as Alert);
  });
  await listener.opened();
  return { listener, alerts };
}

/** Waits (up to `timeoutMs`) until `alerts` holds one that `matches`. */
async function alertArrives(
  alerts: Alert[],
  matches: (alert: Alert) => boolean,
  timeoutMs: number,
) {
  await expect.poll(() => alerts.some(matches), { timeout: timeoutMs, interval: 50 }).toBe(true);
  return alerts.find(matches)!;
}

async function order(tablet: string): Promise<{ id: string; created_at: string }> {
  const res = await call('POST', '/api/customer/orders', tablet, {
    items: [{ menu_id: ctx.menu, quantity: 1 }],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function login(path: string, body: object): Promise<string> {
  const res = await call('POST', path, undefined, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token;
}

beforeAll(async () => {
  stack = await startStack();
  call = apiClient(stack.workerUrl);
  const root = await login('/api/superadmin/auth/login', {
    username: 'superadmin',
    password: 'superadmin1234',
  });
  const store = await call('POST', '/api/superadmin/stores', root, { name: '빠른 식당' });
  ctx.storeId = store.body.id;
  const quick = await call('PATCH', `/api/superadmin/stores/${ctx.storeId}`, root, {
    order_ack_seconds: 5,
  });
  expect(quick.body.order_ack_seconds).toBe(5);
  await call('POST', '/api/superadmin/admins', root, {
    store_id: ctx.storeId,
    username: 'quick-owner',
    password: 'owner-pass-1',
  });
  ctx.admin = await login('/api/admin/auth/login', {
    store_id: ctx.storeId,
    username: 'quick-owner',
    password: 'owner-pass-1',
  });
  const category = await call('POST', '/api/admin/categories', ctx.admin, { name: '면' });
  const menu = await call('POST', '/api/admin/menus', ctx.admin, {
    category_id: category.body.id,
    name: '잔치국수',
    price: 7000,
  });
  ctx.menu = menu.body.id;
  const table = await call('POST', '/api/admin/tables', ctx.admin, {
    table_number: 1,
    password: '4321',
  });
  ctx.table = table.body.id;
  ctx.tablet = await login('/api/customer/auth/login', {
    store_id: ctx.storeId,
    table_number: 1,
    password: '4321',
    device_id: tabletDevice(`quick-${ctx.storeId}`),
  });
}, 120_000);

afterAll(async () => {
  for (const listener of listeners) listener.close();
  await stack?.stop();
});

describe('an order nobody acknowledges', () => {
  it("alerts the admin's screen after the store's 5 seconds, and stops once it is acknowledged", async () => {
    const dashboard = await alertsOn('/api/admin/orders/stream', ctx.admin!);
    const tablet = await alertsOn('/api/customer/orders/stream', ctx.tablet!);

    const first = await order(ctx.tablet!);
    const alert = await alertArrives(dashboard.alerts, (a) => a.order_id === first.id, 15_000);
    expect(alert).toEqual({
      order_id: first.id,
      table_id: ctx.table,
      age_seconds: expect.any(Number),
      escalation: 1,
    });
    expect(alert.age_seconds).toBeGreaterThanOrEqual(5);

    const seen = await call('POST', `/api/admin/orders/${first.id}/acknowledge`, ctx.admin);
    expect(seen.status).toBe(200);
    // The positive control: an order left waiting is alerted again and again on the same stream,
    // its second alert 15 s after it was taken — past the acknowledged order's second (10 s after
    // its first).
    const second = await order(ctx.tablet!);
    await alertArrives(
      dashboard.alerts,
      (a) => a.order_id === second.id && a.escalation === 2,
      25_000,
    );

    expect(dashboard.alerts.filter((a) => a.order_id === first.id)).toHaveLength(1);
    expect(
      dashboard.alerts.filter((a) => a.order_id === second.id).map((a) => a.escalation),
    ).toEqual([1, 2]);
    // The tablet saw the acknowledgement, never an alert.
    await tablet.listener.waitFor('order.acknowledged');
    expect(tablet.alerts).toEqual([]);
    // One log line per alert.
    await expect.poll(() => stack.output().match(/"msg":"order escalated"/g)?.length ?? 0).toBe(3);
  }, 60_000);
});
