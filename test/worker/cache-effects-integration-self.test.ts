/**
 * Every write route of the API document, held against the cached answers: a write that changes
 * what a cached read answers must show in that read at once, and a route that changes no cached
 * answer says why. A route that is neither fails the first test, so a new write path cannot
 * forget its cache effect unnoticed.
 */
import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as schema from '../../db/schema.ts';
import { sha256Hex } from '../../worker/contracts/encoding.ts';
import { menuImagePrefix } from '../../worker/contracts/image-keys.ts';
import { cacheKeys } from '../../worker/platform/cache.ts';
import { createRedis } from '../../worker/platform/redis.ts';
import { apiWithoutRedis, cachedValue } from './support/cache.ts';
import {
  completeStay,
  finishImage,
  menuRow,
  newCategory,
  seatParty,
  startImage,
} from './support/catalog.ts';
import {
  api,
  newMenu,
  newStore,
  newSuperAdmin,
  newTable,
  PASSWORD,
  unique,
  withDb,
  type ApiResponse,
} from './support/fixtures.ts';
import { archiveOrder } from './support/floor.ts';
import { anotherPng, finishJob, uploadImage } from './support/images.ts';
import { addOptionRow } from './support/menu-options.ts';
import { placeOrder } from './support/ordering.ts';
import { randomIp } from './support/tokens.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * A store in service: a table seated with one order of 김치찌개 and a stay in its history, a
 * category of two menus and an empty one. Written straight to the database, so no write has
 * touched the cache before the test warms it.
 */
async function restaurant() {
  const store = await newStore();
  const table = await newTable(store.id);
  const { categoryId, menus } = await newMenu(store.id, [
    ['김치찌개', 9000],
    ['공기밥', 1000],
  ]);
  const [stew, rice] = menus as [Menu, Menu];
  const drinks = await newCategory(store.id, unique('음료'));
  const party = await seatParty(store.id, table.id, stew);
  await archiveOrder(
    { storeId: store.id, id: table.id, tableNumber: table.tableNumber },
    { completedAt: new Date(Date.now() - 86_400_000) },
  );
  return { store, table, categoryId, emptyCategoryId: drinks.id, stew, rice, ...party };
}
type Menu = { id: string; name: string; price: number };
type Restaurant = Awaited<ReturnType<typeof restaurant>>;

/** What the cache keeps for a restaurant. */
type Cached = "guests' menu" | 'floor' | 'history' | "tablet's account" | "admin's account";

/** Where a cached answer is kept, and a read (GET `[path, token]`) that shows it. */
type CachedAnswer = {
  key: (r: Restaurant) => Promise<string>;
  read: (r: Restaurant) => [path: string, token: string];
};

const CACHED: Record<Cached, CachedAnswer> = {
  "guests' menu": {
    key: async (r) => cacheKeys.guestMenu(r.store.id),
    read: (r) => ['/api/customer/menus', r.table.token],
  },
  floor: {
    key: async (r) => cacheKeys.dashboard(r.store.id),
    read: (r) => ['/api/admin/dashboard', r.store.admin.token],
  },
  history: {
    key: async (r) => {
      const version = await cachedValue<number>(cacheKeys.historyVersion(r.table.id));
      const page = { page: 1, pageSize: 20 };
      return cacheKeys.historyPage(r.store.id, r.table.id, Number(version ?? 0), page);
    },
    read: (r) => [`/api/admin/tables/${r.table.id}/order-history`, r.store.admin.token],
  },
  // An account's cached state shows in every request of it; these two reads cache nothing else.
  "tablet's account": {
    key: async (r) => cacheKeys.account(r.table.id),
    read: (r) => ['/api/customer/orders', r.table.token],
  },
  "admin's account": {
    key: async (r) => cacheKeys.account(r.store.admin.id),
    read: (r) => ['/api/admin/tables', r.store.admin.token],
  },
};
const EVERY_CACHED = Object.keys(CACHED) as Cached[];

type Answer = { status: number; body: unknown };

/** What a client can compare of two answers: the status and the body, but not the request id. */
function answerOf(res: ApiResponse): Answer {
  const error = res.body?.error;
  return {
    status: res.status,
    body: error ? { error: { ...error, request_id: 'any' } } : res.body,
  };
}

/** The answer through the cache, as every client gets it. */
async function cachedRead(r: Restaurant, cached: Cached) {
  const [path, token] = CACHED[cached].read(r);
  return answerOf(await api('GET', path, { token }));
}

/** The answer the database gives now: the same read with Redis out of reach. */
async function databaseRead(r: Restaurant, cached: Cached) {
  const [path, token] = CACHED[cached].read(r);
  return answerOf(await apiWithoutRedis('GET', path, { token }));
}

const asAdmin = (r: Restaurant) => ({ token: r.store.admin.token });

/** The id of the store's table that is not the restaurant's own (one a case's `prepare` added). */
async function otherTableOf(r: Restaurant): Promise<string> {
  const tables = await withDb((db) =>
    db
      .select({ id: schema.diningTables.id })
      .from(schema.diningTables)
      .where(eq(schema.diningTables.storeId, r.store.id)),
  );
  return tables.find((table) => table.id !== r.table.id)!.id;
}

/** A fresh folder for one image of a menu (`startImage` and `finishImage` name its objects). */
async function imageFolder(storeId: string, menuId: string): Promise<string> {
  return menuImagePrefix(storeId, menuId) + (await sha256Hex(unique()));
}

/** Sets a store admin's `is_active` behind the API's back. */
function setAdminActive(adminId: string, isActive: boolean) {
  return withDb((db) =>
    db.update(schema.admins).set({ isActive }).where(eq(schema.admins.id, adminId)),
  );
}

/** A write route as the document names it (`METHOD path`), one use of it, and what it changes. */
type Case = {
  route: string;
  does: string;
  changes: Cached[];
  /** State set straight in the database before the reads are warmed. */
  prepare?: (r: Restaurant) => Promise<unknown>;
  write: (r: Restaurant) => Promise<{ status: number; body: unknown }>;
  status: number;
};

const CASES: Case[] = [
  {
    route: 'POST /api/customer/orders',
    does: 'a table orders',
    changes: ['floor'],
    write: (r) => placeOrder(r.table.token, [[r.stew.id, 2]]),
    status: 201,
  },
  {
    route: 'PATCH /api/admin/orders/{id}/status',
    does: 'the kitchen starts an order',
    changes: ['floor'],
    write: (r) =>
      api('PATCH', `/api/admin/orders/${r.orderId}/status`, {
        ...asAdmin(r),
        body: { status: 'preparing' },
      }),
    status: 200,
  },
  {
    route: 'POST /api/admin/orders/{id}/acknowledge',
    does: 'the admin acknowledges a new order',
    changes: ['floor'],
    write: (r) => api('POST', `/api/admin/orders/${r.orderId}/acknowledge`, asAdmin(r)),
    status: 200,
  },
  {
    route: 'DELETE /api/admin/orders/{id}',
    does: 'the admin cancels an order without a reason',
    changes: ['floor'],
    write: (r) => api('DELETE', `/api/admin/orders/${r.orderId}`, asAdmin(r)),
    status: 204,
  },
  {
    route: 'POST /api/admin/orders/{id}/cancel',
    does: 'the admin cancels an order',
    changes: ['floor'],
    write: (r) =>
      api('POST', `/api/admin/orders/${r.orderId}/cancel`, {
        ...asAdmin(r),
        body: { reason: '손님 요청' },
      }),
    status: 200,
  },
  {
    route: 'POST /api/customer/calls',
    does: 'a guest calls the staff',
    changes: ['floor'],
    write: (r) =>
      api('POST', '/api/customer/calls', { token: r.table.token, body: { reason: 'water' } }),
    status: 201,
  },
  {
    route: 'POST /api/admin/calls/{id}/acknowledge',
    does: "the admin sees to a guest's call",
    changes: ['floor'],
    prepare: (r) =>
      withDb((db) =>
        db
          .insert(schema.staffCalls)
          .values({ storeId: r.store.id, tableId: r.table.id, reason: 'bill' }),
      ),
    write: async (r) => {
      const [call] = await withDb((db) =>
        db.select().from(schema.staffCalls).where(eq(schema.staffCalls.tableId, r.table.id)),
      );
      return api('POST', `/api/admin/calls/${call!.id}/acknowledge`, asAdmin(r));
    },
    status: 200,
  },
  {
    route: 'POST /api/admin/tables/{id}/complete-session',
    does: '이용 완료',
    changes: ['floor', 'history'],
    write: (r) => api('POST', `/api/admin/tables/${r.table.id}/complete-session`, asAdmin(r)),
    status: 200,
  },
  {
    route: 'POST /api/admin/tables',
    does: 'the admin sets up a table',
    changes: ['floor'],
    write: (r) =>
      api('POST', '/api/admin/tables', {
        ...asAdmin(r),
        body: { table_number: `${r.table.tableNumber}-B`, password: '5678' },
      }),
    status: 201,
  },
  {
    route: 'PATCH /api/admin/tables/{id}',
    does: 'the admin relabels a table',
    changes: ['floor'],
    write: (r) =>
      api('PATCH', `/api/admin/tables/${r.table.id}`, {
        ...asAdmin(r),
        body: { table_number: `${r.table.tableNumber}-B` },
      }),
    status: 200,
  },
  {
    route: 'PATCH /api/admin/tables/{id}',
    does: "the admin changes a table's password",
    changes: ["tablet's account"],
    write: (r) =>
      api('PATCH', `/api/admin/tables/${r.table.id}`, {
        ...asAdmin(r),
        body: { password: 'new-pass' },
      }),
    status: 200,
  },
  {
    route: 'DELETE /api/admin/tables/{id}',
    does: 'the admin removes a table',
    changes: ['floor', 'history', "tablet's account"],
    prepare: (r) => completeStay(r.store.id, r.table.id, r.sessionId),
    write: (r) => api('DELETE', `/api/admin/tables/${r.table.id}`, asAdmin(r)),
    status: 204,
  },
  {
    route: 'POST /api/admin/tables/{id}/release-device',
    does: "the admin lets a table's tablet go",
    changes: ["tablet's account"],
    write: (r) => api('POST', `/api/admin/tables/${r.table.id}/release-device`, asAdmin(r)),
    status: 200,
  },
  {
    route: 'POST /api/customer/auth/login',
    does: 'a new tablet takes over a table its tablet left silent for 16 hours',
    changes: ["tablet's account"],
    prepare: async (r) => {
      await withDb((db) =>
        db
          .update(schema.diningTables)
          .set({ deviceSeenAt: new Date(Date.now() - 17 * 60 * 60 * 1000) })
          .where(eq(schema.diningTables.id, r.table.id)),
      );
      // The warming reads must not note the old tablet as heard from again.
      await createRedis(env).set(cacheKeys.deviceSeen(r.table.id), 1, { ex: 60 });
    },
    write: (r) =>
      api('POST', '/api/customer/auth/login', {
        body: {
          store_id: r.store.id,
          table_number: r.table.tableNumber,
          password: PASSWORD,
          device_id: crypto.randomUUID(),
        },
        headers: { 'cf-connecting-ip': randomIp() },
      }),
    status: 200,
  },
  {
    route: 'POST /api/admin/tables/{id}/move',
    does: 'the admin moves the party to a free table',
    changes: ['floor'],
    prepare: (r) => newTable(r.store.id),
    write: async (r) =>
      api('POST', `/api/admin/tables/${r.table.id}/move`, {
        ...asAdmin(r),
        body: { to_table_id: await otherTableOf(r) },
      }),
    status: 200,
  },
  {
    route: 'POST /api/admin/tables/{id}/merge',
    does: "the admin merges the party into another table's",
    changes: ['floor'],
    prepare: async (r) => seatParty(r.store.id, (await newTable(r.store.id)).id, r.rice),
    write: async (r) =>
      api('POST', `/api/admin/tables/${r.table.id}/merge`, {
        ...asAdmin(r),
        body: { into_table_id: await otherTableOf(r) },
      }),
    status: 200,
  },
  {
    route: 'POST /api/admin/categories',
    does: 'the admin adds a category',
    changes: ["guests' menu"],
    write: (r) => api('POST', '/api/admin/categories', { ...asAdmin(r), body: { name: '후식' } }),
    status: 201,
  },
  {
    route: 'PATCH /api/admin/categories/{id}',
    does: 'the admin renames a category',
    changes: ["guests' menu"],
    write: (r) =>
      api('PATCH', `/api/admin/categories/${r.categoryId}`, {
        ...asAdmin(r),
        body: { name: '찌개' },
      }),
    status: 200,
  },
  {
    route: 'DELETE /api/admin/categories/{id}',
    does: 'the admin removes an empty category',
    changes: ["guests' menu"],
    write: (r) => api('DELETE', `/api/admin/categories/${r.emptyCategoryId}`, asAdmin(r)),
    status: 204,
  },
  {
    route: 'POST /api/admin/menus',
    does: 'the admin adds a menu',
    changes: ["guests' menu"],
    write: (r) =>
      api('POST', '/api/admin/menus', {
        ...asAdmin(r),
        body: { category_id: r.categoryId, name: '계란찜', price: 3000 },
      }),
    status: 201,
  },
  {
    route: 'PUT /api/admin/menus/order',
    does: "the admin reorders a category's menus",
    changes: ["guests' menu"],
    write: (r) =>
      api('PUT', '/api/admin/menus/order', {
        ...asAdmin(r),
        body: { category_id: r.categoryId, menu_ids: [r.rice.id, r.stew.id] },
      }),
    status: 200,
  },
  {
    route: 'PATCH /api/admin/menus/{id}',
    does: 'the admin changes a price',
    changes: ["guests' menu"],
    write: (r) =>
      api('PATCH', `/api/admin/menus/${r.stew.id}`, { ...asAdmin(r), body: { price: 9500 } }),
    status: 200,
  },
  {
    route: 'PUT /api/admin/menus/{id}/option-groups',
    does: "the admin replaces a menu's choices",
    changes: ["guests' menu"],
    write: (r) =>
      api('PUT', `/api/admin/menus/${r.stew.id}/option-groups`, {
        ...asAdmin(r),
        body: {
          option_groups: [
            {
              name: '맵기',
              min_select: 1,
              max_select: 1,
              options: [
                { name: '순한맛', price_delta: 0 },
                { name: '매운맛', price_delta: 0 },
              ],
            },
          ],
        },
      }),
    status: 200,
  },
  {
    route: 'DELETE /api/admin/menus/{id}',
    does: 'the admin removes a menu',
    changes: ["guests' menu"],
    write: (r) => api('DELETE', `/api/admin/menus/${r.rice.id}`, asAdmin(r)),
    status: 204,
  },
  {
    route: 'PATCH /api/admin/menus/{id}/availability',
    does: 'the admin marks a dish sold out',
    changes: ["guests' menu"],
    write: (r) =>
      api('PATCH', `/api/admin/menus/${r.stew.id}/availability`, {
        ...asAdmin(r),
        body: { is_available: false },
      }),
    status: 200,
  },
  {
    route: 'PATCH /api/admin/options/{id}/availability',
    does: "the admin marks one of a dish's options sold out",
    changes: ["guests' menu"],
    prepare: (r) => addOptionRow(r.store.id, r.stew.id),
    write: async (r) => {
      const [option] = await withDb((db) =>
        db.select().from(schema.menuOptions).where(eq(schema.menuOptions.menuId, r.stew.id)),
      );
      return api('PATCH', `/api/admin/options/${option!.id}/availability`, {
        ...asAdmin(r),
        body: { is_available: false },
      });
    },
    status: 200,
  },
  {
    route: 'POST /api/admin/menus/{id}/image',
    does: 'the admin uploads a new picture (the old one is hidden meanwhile)',
    changes: ["guests' menu"],
    prepare: async (r) => finishImage(r.stew.id, await imageFolder(r.store.id, r.stew.id)),
    write: (r) => uploadImage(r.store.admin.token, r.stew.id, anotherPng()),
    status: 202,
  },
  {
    route: 'POST /internal/menus/{menu_id}/image-ready',
    does: "the relay reports a picture's variants ready",
    changes: ["guests' menu"],
    prepare: async (r) => startImage(r.stew.id, await imageFolder(r.store.id, r.stew.id)),
    write: async (r) => {
      const { imageOriginalKey } = (await menuRow(r.stew.id))!;
      return (await finishJob(r.store.id, r.stew.id, imageOriginalKey!)).ready;
    },
    status: 200,
  },
  {
    route: 'PATCH /api/superadmin/admins/{id}/deactivate',
    does: 'the operator deactivates a store admin',
    changes: ["admin's account"],
    write: async (r) =>
      api('PATCH', `/api/superadmin/admins/${r.store.admin.id}/deactivate`, {
        token: (await newSuperAdmin()).token,
      }),
    status: 200,
  },
  {
    route: 'PATCH /api/superadmin/admins/{id}/activate',
    does: 'the operator activates a store admin again',
    changes: ["admin's account"],
    prepare: (r) => setAdminActive(r.store.admin.id, false),
    write: async (r) =>
      api('PATCH', `/api/superadmin/admins/${r.store.admin.id}/activate`, {
        token: (await newSuperAdmin()).token,
      }),
    status: 200,
  },
];

/** Write routes that change no cached answer, each with the reason. */
const CHANGES_NOTHING_CACHED: Record<string, string> = {
  'POST /api/admin/auth/login': 'a login reads the account; its failures are counted apart',
  'POST /api/superadmin/auth/login': 'a login reads the account; its failures are counted apart',
  'POST /api/admin/stream-ticket': "a ticket lives in the store's hub",
  'POST /api/superadmin/stores': 'a new store has nothing cached yet',
  'POST /api/superadmin/admins': 'a new admin has no cached account, and no floor shows admins',
  'PATCH /api/admin/store': "no cached answer shows the store's settings",
  'PATCH /api/superadmin/stores/{id}': "no cached answer shows the store's settings",
};

const WRITE_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/** The relay's routes (`/internal/…`) are not in the document; one has a case all the same. */
const isRelayRoute = (route: string) => route.split(' ')[1]!.startsWith('/internal/');

describe('the cache effects of writes', () => {
  it('cover every write route of the API document, or say why it changes nothing cached', async () => {
    const { body } = await api('GET', '/openapi.json');
    const documented = Object.entries(body.paths as Record<string, object>).flatMap(
      ([path, operations]) =>
        Object.keys(operations)
          .filter((method) => WRITE_METHODS.has(method))
          .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const covered = new Set([...CASES.map((c) => c.route), ...Object.keys(CHANGES_NOTHING_CACHED)]);
    expect(
      documented.filter((route) => !covered.has(route)),
      'write routes with neither a case nor a reason',
    ).toEqual([]);
    expect(
      [...covered].filter((route) => !documented.includes(route) && !isRelayRoute(route)),
      'routes the document does not have',
    ).toEqual([]);
  });

  it.each(CASES)(
    '$route ($does) shows at once in every cached read',
    async ({ changes, prepare, write, status }) => {
      const r = await restaurant();
      await prepare?.(r);

      const warmed = new Map<Cached, Answer>();
      for (const cached of EVERY_CACHED) warmed.set(cached, await cachedRead(r, cached));
      for (const cached of changes) {
        // An answer (an object or a list), not a miss (null) nor an invalidation's marker.
        const held = await cachedValue(await CACHED[cached].key(r));
        expect(held, `${cached} is cached before the write`).not.toBeNull();
        expect(held, `${cached} is cached before the write`).toEqual(expect.any(Object));
      }

      const written = await write(r);
      expect(written.status, JSON.stringify(written.body)).toBe(status);

      const seen = new Map<Cached, Answer>();
      for (const cached of EVERY_CACHED) seen.set(cached, await cachedRead(r, cached));
      vi.spyOn(console, 'warn').mockImplementation(() => {});
      for (const cached of EVERY_CACHED) {
        const now = await databaseRead(r, cached);
        expect(
          seen.get(cached),
          `${cached}: the cached read answers what the database holds`,
        ).toEqual(now);
        if (changes.includes(cached)) {
          expect(now, `${cached}: the write changed it`).not.toEqual(warmed.get(cached));
        }
      }
    },
  );
});
