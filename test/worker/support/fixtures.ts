/**
 * Fixtures for Worker tests (inside workerd): rows written straight to the real test database,
 * tokens signed with the test key, and a small HTTP helper that calls the Worker's own fetch.
 * Every fixture makes its own store with random names, so tests never see each other's rows.
 */
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import * as schema from '../../../db/schema.ts';
import { issueToken } from '../../../worker/auth/tokens.ts';
import { hashPassword } from '../../../worker/platform/passwords.ts';
import type { Database } from '../../../worker/domain/database.ts';
import { openDatabase } from '../../../worker/platform/database.ts';

/**
 * Runs `work` with a database pool of its own and closes the pool afterwards; on the test
 * database, or the one `bindings` name.
 */
export async function withDb<T>(
  work: (db: Database) => Promise<T>,
  bindings: Env = env,
): Promise<T> {
  const { db, pool } = openDatabase(bindings);
  try {
    return await work(db);
  } finally {
    await pool.end();
  }
}

/** A short random suffix for names that must be unique. */
export function unique(prefix = 'x'): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** The password every fixture account gets (hashed once per test file). */
export const PASSWORD = 'correct-horse-1';
let passwordHash: Promise<string> | undefined;
const hashed = () => (passwordHash ??= hashPassword(PASSWORD));

export type StoreFixture = {
  id: string;
  name: string;
  timezone: string;
  admin: { id: string; username: string; token: string };
};

/** A store with one active store admin (and that admin's token). */
export async function newStore(options: { timezone?: string } = {}): Promise<StoreFixture> {
  const store = await withDb(async (db) => {
    const [row] = await db
      .insert(schema.stores)
      .values({ name: unique('가게'), timezone: options.timezone ?? 'Asia/Seoul' })
      .returning();
    return row!;
  });
  return {
    id: store.id,
    name: store.name,
    timezone: store.timezone,
    admin: await newStoreAdmin(store.id),
  };
}

/** Another active admin of the store, and its token. */
export async function newStoreAdmin(storeId: string): Promise<StoreFixture['admin']> {
  return withDb(async (db) => {
    const [admin] = await db
      .insert(schema.admins)
      .values({
        storeId,
        username: unique('admin'),
        passwordHash: await hashed(),
        role: 'store_admin',
      })
      .returning();
    const token = await issueToken(env, {
      role: 'store_admin',
      sub: admin!.id,
      storeId,
      ver: admin!.tokenVersion,
    });
    return { id: admin!.id, username: admin!.username, token };
  });
}

/** A super admin account and its token. */
export async function newSuperAdmin(): Promise<{ id: string; username: string; token: string }> {
  return withDb(async (db) => {
    const [admin] = await db
      .insert(schema.admins)
      .values({ username: unique('super'), passwordHash: await hashed(), role: 'super_admin' })
      .returning();
    const token = await issueToken(env, {
      role: 'super_admin',
      sub: admin!.id,
      storeId: null,
      ver: admin!.tokenVersion,
    });
    return { id: admin!.id, username: admin!.username, token };
  });
}

/**
 * A table of the store (labelled `tableNumber`, or a random number), held by a tablet of its own
 * (`device`, as if it had logged in just now), and that tablet's token.
 */
export async function newTable(
  storeId: string,
  tableNumber?: string,
): Promise<{ id: string; tableNumber: string; token: string; device: string }> {
  const device = crypto.randomUUID();
  return withDb(async (db) => {
    const [table] = await db
      .insert(schema.diningTables)
      .values({
        storeId,
        tableNumber: tableNumber ?? String(1 + Math.floor(Math.random() * 1_000_000)),
        passwordHash: await hashed(),
        deviceId: device,
        deviceSeenAt: new Date(),
      })
      .returning();
    const token = await issueToken(env, {
      role: 'table',
      sub: table!.id,
      storeId,
      ver: table!.passwordVersion,
      device,
    });
    return { id: table!.id, tableNumber: table!.tableNumber, token, device };
  });
}

/** A category with menus (`[name, price]`, available unless listed in `soldOut`). */
export async function newMenu(
  storeId: string,
  items: Array<[name: string, price: number]> = [['김치찌개', 9000]],
  options: { soldOut?: string[] } = {},
): Promise<{ categoryId: string; menus: Array<{ id: string; name: string; price: number }> }> {
  return withDb(async (db) => {
    const [category] = await db
      .insert(schema.menuCategories)
      .values({ storeId, name: unique('분류') })
      .returning();
    const menus = await db
      .insert(schema.menus)
      .values(
        items.map(([name, price], displayOrder) => ({
          storeId,
          categoryId: category!.id,
          name,
          price,
          displayOrder,
          isAvailable: !options.soldOut?.includes(name),
        })),
      )
      .returning({ id: schema.menus.id, name: schema.menus.name, price: schema.menus.price });
    return { categoryId: category!.id, menus };
  });
}

/** The store's outbox rows, oldest first. */
export async function outboxOf(storeId: string) {
  return withDb((db) =>
    db
      .select()
      .from(schema.outbox)
      .where(eq(schema.outbox.storeId, storeId))
      .orderBy(schema.outbox.id),
  );
}

export type ApiResponse<T = any> = { status: number; body: T; headers: Headers };

/**
 * Calls the Worker through its fetch handler (as a client would, with JSON), reading the body
 * so no response is left open.
 */
export async function api<T = any>(
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  } else if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
  }
  const response = await exports.default.fetch(`http://table-order.test${path}`, {
    method,
    headers,
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as T) : (undefined as T),
    headers: response.headers,
  };
}
