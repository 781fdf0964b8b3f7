import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN, DEMO_STORE_ID, DEMO_TABLE_PASSWORD } from '../../db/seed.ts';
import { launchChromium, startPageServer, type PageServer } from '../support/browser.ts';
import { plainDishOf } from '../support/demo-menu.ts';
import { listen } from '../support/event-stream.ts';
import { noisyJpeg } from '../support/photos.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { tabletDevice } from '../support/tablets.ts';
import { crashWorkerRuntime } from '../support/worker-runtime.ts';

/**
 * The API as the restaurant's screens use it: pages in Chromium, served from an origin the
 * stack's CORS allow-list names (the tablet and the admin dashboard), and one from an origin it
 * does not. Every assertion is on what the browser saw: what `fetch` returned or threw, and what
 * the page's `EventSource` received.
 */
const ADMIN_STREAM = '/api/admin/orders/stream';
/** `EventSource.readyState` of a stream that gave up for good (no more reconnects). */
const CLOSED = 2;

let stack: Stack;
let browser: Browser;
let allowed: PageServer;
let stranger: PageServer;
/** A tablet at table 1 and the admin dashboard, both from the allowed origin. */
let tablet: Page;
let dashboard: Page;
/** A page from an origin the allow-list does not name. */
let elsewhere: Page;
const demo: Record<string, string> = {};

/** What a page's `fetch` gave: the answer's status and JSON body, or the error it threw. */
type Answer = { status: number; body: any } | { failed: string };

/** In `page`: a JSON request to the API, as a web app makes it (bearer token in the header). */
function request(
  page: Page,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Answer> {
  return page.evaluate(
    async ({ url, method, token, body }) => {
      try {
        const response = await fetch(url, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      } catch (error) {
        return { failed: (error as Error).name };
      }
    },
    { url: `${stack.workerUrl}${path}`, method, token: options.token, body: options.body },
  );
}

/** The body of an answer that must have `status`; the whole answer otherwise, in the failure. */
function bodyOf(answer: Answer, status: number): any {
  expect(answer, JSON.stringify(answer)).toMatchObject({ status });
  return (answer as { body: unknown }).body;
}

/** The tablet orders one of the first menu; the order's id. */
async function order(): Promise<string> {
  const placed = await request(tablet, 'POST', '/api/customer/orders', {
    token: demo.tablet,
    body: { items: [{ menu_id: demo.menu, quantity: 1 }] },
  });
  return bodyOf(placed, 201).id;
}

/** What the dashboard page's stream has shown so far. */
type DashboardView = {
  orderIds: string[];
  /** `lastEventId` of the newest `order.created`: what the browser sends back on reconnect. */
  lastEventId: string;
  opens: number;
  errors: number;
  /** `EventSource.readyState`: 0 connecting, 1 open, {@link CLOSED}. */
  readyState: number;
};
type PageDashboard = { view: Omit<DashboardView, 'readyState'>; source: EventSource };

/**
 * The dashboard page gets a stream ticket and opens `EventSource` with it (closing the one it
 * had), collecting `order.created` ids; resolves once the stream is open — the hub adds a stream
 * to its live set before it answers, so every order placed afterwards reaches it.
 */
async function openDashboard(): Promise<void> {
  const { ticket } = bodyOf(
    await request(dashboard, 'POST', '/api/admin/stream-ticket', { token: demo.admin }),
    200,
  );
  await dashboard.evaluate(
    (url) => {
      const page = globalThis as unknown as { dashboard?: PageDashboard };
      page.dashboard?.source.close();
      const view = { orderIds: [] as string[], lastEventId: '', opens: 0, errors: 0 };
      const source = new EventSource(url);
      source.addEventListener('open', () => (view.opens += 1));
      source.addEventListener('error', () => (view.errors += 1));
      source.addEventListener('order.created', (event) => {
        const message = event as MessageEvent<string>;
        view.orderIds.push(JSON.parse(message.data).data.id);
        view.lastEventId = message.lastEventId;
      });
      page.dashboard = { view, source };
    },
    `${stack.workerUrl}${ADMIN_STREAM}?ticket=${encodeURIComponent(ticket)}`,
  );
  expect((await dashboardView((view) => view.opens > 0)).readyState).toBe(1);
}

/** What the dashboard page's stream has shown, once `until` holds or the stream gave up (closed). */
async function dashboardView(until: (view: DashboardView) => boolean): Promise<DashboardView> {
  const read = () =>
    dashboard.evaluate(() => {
      const { view, source } = (globalThis as unknown as { dashboard: PageDashboard }).dashboard;
      return { ...view, orderIds: [...view.orderIds], readyState: source.readyState };
    });
  await expect
    .poll(
      async () => {
        const view = await read();
        return view.readyState === CLOSED || until(view);
      },
      { timeout: 20_000, interval: 50 },
    )
    .toBe(true);
  return read();
}

/** `until` for {@link dashboardView}: the stream shows at least `count` orders. */
function showsOrders(count: number) {
  return (view: DashboardView) => view.orderIds.length >= count;
}

/**
 * Cuts the dashboard page's stream as a deploy does (the Worker's runtime restarts) and places
 * three orders while the page is cut off; answers their ids. The browser's reconnect is held
 * until those orders are in the hub, so they can reach the page only by replay — from
 * `resumeFrom`, the last event id the page had when it was cut.
 */
async function cutOffWhileOrdering(resumeFrom: string): Promise<string[]> {
  const reconnect = Promise.withResolvers<Route>();
  let held = false;
  const isStream = (url: URL) => url.pathname === ADMIN_STREAM;
  const hold = async (route: Route) => {
    if (held) return route.continue();
    held = true;
    reconnect.resolve(route);
  };
  await dashboard.route(isStream, hold);
  await crashWorkerRuntime(stack);
  expect((await dashboardView((view) => view.errors > 0)).errors).toBe(1);
  const during = [await order(), await order(), await order()];
  // Positive control: those orders reached the hub (a stream resuming from the same point
  // replays them) while the page was cut off.
  const witness = listen(`${stack.workerUrl}${ADMIN_STREAM}`, {
    token: demo.admin,
    lastEventId: resumeFrom,
  });
  try {
    await witness.waitFor('order.created', during.length, 20_000);
    expect(witness.received.map((event) => event.envelope.data.id)).toEqual(during);
  } finally {
    witness.close();
  }
  // The browser adds `Last-Event-ID` below the layer a route sees: the replay shows it was sent.
  await (await reconnect.promise).continue();
  await dashboard.unroute(isStream, hold);
  return during;
}

beforeAll(async () => {
  [allowed, stranger] = await Promise.all([startPageServer(), startPageServer()]);
  stack = await startStack({ vars: { CORS_ORIGINS: allowed.origin } });
  browser = await launchChromium();
  [tablet, dashboard, elsewhere] = await Promise.all([
    browser.newPage(),
    browser.newPage(),
    browser.newPage(),
  ]);
  await Promise.all([
    tablet.goto(`${allowed.origin}/tablet`),
    dashboard.goto(`${allowed.origin}/dashboard`),
    elsewhere.goto(`${stranger.origin}/`),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await Promise.all([allowed?.close(), stranger?.close()]);
});

describe('pages from an allowed origin', () => {
  it('a tablet logs in and orders, and the dashboard’s EventSource (ticket) shows the order', async () => {
    const tableLogin = await request(tablet, 'POST', '/api/customer/auth/login', {
      body: {
        store_id: DEMO_STORE_ID,
        table_number: 1,
        password: DEMO_TABLE_PASSWORD,
        device_id: tabletDevice(1),
      },
    });
    demo.tablet = bodyOf(tableLogin, 200).access_token;
    const menus = await request(tablet, 'GET', '/api/customer/menus', { token: demo.tablet });
    demo.menu = plainDishOf(bodyOf(menus, 200));
    const adminLogin = await request(dashboard, 'POST', '/api/admin/auth/login', {
      body: { store_id: DEMO_STORE_ID, ...DEMO_ADMIN },
    });
    demo.admin = bodyOf(adminLogin, 200).access_token;

    await openDashboard();
    const placed = await order();
    expect((await dashboardView(showsOrders(1))).orderIds).toEqual([placed]);
  });

  it('a stream the server cuts (the Worker restarts, as in a deploy) resumes by the browser’s own reconnect with Last-Event-ID: every order once, in order', async () => {
    await openDashboard();
    const before = [await order(), await order()];
    const seen = await dashboardView(showsOrders(2));
    expect(seen.orderIds).toEqual(before);

    const during = await cutOffWhileOrdering(seen.lastEventId);
    const after = [await order(), await order()];

    const all = [...before, ...during, ...after];
    const view = await dashboardView(showsOrders(all.length));
    expect({ orderIds: view.orderIds, readyState: view.readyState }).toEqual({
      orderIds: all,
      readyState: 1,
    });
    expect({ opens: view.opens, errors: view.errors }).toEqual({ opens: 2, errors: 1 });
  });

  it('a stream cut before it showed any order resumes with Last-Event-ID all the same (its first frame named the newest event): every order once, in order', async () => {
    // The newest event before the page opens its stream: an order a stream already open sees.
    const probe = listen(`${stack.workerUrl}${ADMIN_STREAM}`, { token: demo.admin });
    let newest: string;
    try {
      await probe.opened();
      const marker = await order();
      const [seen] = await probe.waitFor('order.created');
      expect(seen!.envelope.data.id).toBe(marker);
      newest = seen!.lastEventId;
    } finally {
      probe.close();
    }
    await openDashboard();

    const during = await cutOffWhileOrdering(newest);
    const after = [await order()];
    const view = await dashboardView(showsOrders(during.length + after.length));
    expect({ orderIds: view.orderIds, readyState: view.readyState }).toEqual({
      orderIds: [...during, ...after],
      readyState: 1,
    });
    expect({ opens: view.opens, errors: view.errors }).toEqual({ opens: 2, errors: 1 });
  });

  it('a menu photo uploads with FormData and is accepted (202)', async () => {
    const menus = await request(dashboard, 'GET', '/api/admin/menus', { token: demo.admin });
    const menuId = bodyOf(menus, 200).menus[0].id;
    const photo = await noisyJpeg(0.05);
    const answer = await dashboard.evaluate(
      async ({ url, token, bytes }) => {
        const form = new FormData();
        const image = new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' });
        form.append('image', image, 'photo.jpg');
        const response = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          body: form,
        });
        return { status: response.status, body: await response.json() };
      },
      {
        url: `${stack.workerUrl}/api/admin/menus/${menuId}/image`,
        token: demo.admin,
        bytes: [...photo],
      },
    );
    expect(answer).toMatchObject({
      status: 202,
      body: { menu_id: menuId, image_status: 'processing' },
    });
  });
});

describe('a page from an origin the allow-list does not name', () => {
  it('is refused by the browser’s CORS, where the allowed origin’s same calls succeed', async () => {
    const login = {
      store_id: DEMO_STORE_ID,
      table_number: 1,
      password: DEMO_TABLE_PASSWORD,
      device_id: tabletDevice(1),
    };
    // A JSON POST (preflighted) and a plain GET (not preflighted; its answer is withheld).
    const calls = (page: Page) =>
      Promise.all([
        request(page, 'POST', '/api/customer/auth/login', { body: login }),
        request(page, 'GET', '/healthz'),
      ]);
    const [refusedLogin, refusedHealth] = await calls(elsewhere);
    const [login200, health200] = await calls(tablet);
    expect(refusedLogin).toEqual({ failed: 'TypeError' });
    expect(refusedHealth).toEqual({ failed: 'TypeError' });
    expect(login200).toMatchObject({ status: 200 });
    expect(health200).toMatchObject({ status: 200 });
  });
});
