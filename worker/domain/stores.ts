import { z } from '@hono/zod-openapi';
import { asc, eq, sql } from 'drizzle-orm';
import {
  DEFAULT_HISTORY_RETENTION_DAYS,
  MENU_LANGUAGES,
  ORDER_ACK_SECONDS_DEFAULT,
  ORDER_ACK_SECONDS_MAX,
  ORDER_ACK_SECONDS_MIN,
  stores,
  type MenuLanguage,
} from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database } from '../domain/database.ts';
import { recordAudit, type Actor } from './audit.ts';

/**
 * How long an order may wait unacknowledged before the store's screens are alerted, in whole
 * seconds: 5 to 3,600 (the database's check says the same).
 */
export const OrderAckSeconds = z
  .int()
  .min(ORDER_ACK_SECONDS_MIN)
  .max(ORDER_ACK_SECONDS_MAX)
  .openapi({
    example: ORDER_ACK_SECONDS_DEFAULT,
    description:
      `seconds an order may wait unacknowledged before the admins' screens are alerted ` +
      `(${ORDER_ACK_SECONDS_MIN}–${ORDER_ACK_SECONDS_MAX}, default ${ORDER_ACK_SECONDS_DEFAULT})`,
  });

/** A change of a store's settings, by its admin or the super admin: the time, and nothing else. */
export const StoreSettingsChange = z
  .strictObject({ order_ack_seconds: OrderAckSeconds })
  .openapi('StoreSettingsChange');

/** A store's settings as its own admin sees them. */
export const StoreSettingsSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    timezone: z.string().openapi({ example: 'Asia/Seoul', description: 'IANA time zone' }),
    default_language: z.enum(MENU_LANGUAGES).openapi({
      description: "the language of its menu's base names: guests asking for no other read it",
    }),
    order_ack_seconds: OrderAckSeconds,
  })
  .openapi('StoreSettings');
export type StoreSettings = z.infer<typeof StoreSettingsSchema>;

/** A store as the super admin sees it: its settings and how long it keeps its history. */
export const StoreSchema = StoreSettingsSchema.extend({
  history_retention_days: z.int().openapi({
    example: DEFAULT_HISTORY_RETENTION_DAYS,
    description: 'days a completed order stays in the history before it is removed',
  }),
}).openapi('Store');
export type StoreView = z.infer<typeof StoreSchema>;

/** A store's columns as {@link StoreSchema} names them. */
const storeView = {
  id: stores.id,
  name: stores.name,
  timezone: stores.timezone,
  default_language: stores.defaultLanguage,
  history_retention_days: stores.historyRetentionDays,
  order_ack_seconds: stores.orderAckSeconds,
};

const storeNotFound = () => new ApiError(404, 'NOT_FOUND', '매장을 찾을 수 없습니다.');

/** What a store's own admin sees of it (the settings of {@link StoreSettingsSchema}). */
export function toStoreSettings(store: StoreView): StoreSettings {
  return {
    id: store.id,
    name: store.name,
    timezone: store.timezone,
    default_language: store.default_language,
    order_ack_seconds: store.order_ack_seconds,
  };
}

/** The store as it is now; unknown → 404. */
export async function storeOfId(db: Database, storeId: string): Promise<StoreView> {
  const [store] = await db.select(storeView).from(stores).where(eq(stores.id, storeId));
  if (!store) throw storeNotFound();
  return store;
}

/**
 * Sets how long the store's orders may wait unacknowledged (`order_ack_seconds`, validated at
 * the edge): orders taken from then on are alerted by it, those already taken keep theirs. The
 * store row is locked while the old value is read, so the audit row's `from` is the value this
 * change replaced, even when two admins change it at once. Unknown store → 404.
 */
export async function changeOrderAckSeconds(
  db: Database,
  actor: Actor,
  storeId: string,
  seconds: number,
): Promise<StoreView> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ seconds: stores.orderAckSeconds })
      .from(stores)
      .where(eq(stores.id, storeId))
      .for('update');
    if (!before) throw storeNotFound();
    const [store] = await tx
      .update(stores)
      .set({ orderAckSeconds: seconds })
      .where(eq(stores.id, storeId))
      .returning(storeView);
    await recordAudit(tx, {
      storeId,
      actor,
      action: 'store.updated',
      targetType: 'store',
      targetId: storeId,
      details: { from: { order_ack_seconds: before.seconds }, to: { order_ack_seconds: seconds } },
    });
    return store!;
  });
}

/** Where a store is when nobody says otherwise. */
export const DEFAULT_TIMEZONE = 'Asia/Seoul';

/**
 * The IANA spelling of `name` (`asia/seoul` → `Asia/Seoul`, `US/Pacific` → `America/Los_Angeles`),
 * or undefined when it is not a time zone. Names must start with a letter: Intl also accepts
 * offsets such as `+09:00`, which PostgreSQL's `at time zone` reads as POSIX zones, sign inverted.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

const SQLSTATE_INVALID_PARAMETER = '22023';

/**
 * Opens a new store. The time zone decides its business day, and the database computes that day
 * (`now() at time zone stores.timezone`) on every order: so PostgreSQL must know the zone as well
 * as the Worker's Intl does (their tz databases can differ by a release). The check runs first, so
 * a zone PostgreSQL refuses leaves no store behind. The store and its audit row (the super admin
 * who opened it) are written together.
 */
export async function openStore(
  db: Database,
  actor: Actor,
  input: {
    name: string;
    timezone: string;
    default_language: MenuLanguage;
    history_retention_days: number;
  },
): Promise<StoreView> {
  try {
    await db.execute(sql`select now() at time zone ${input.timezone}`);
  } catch (error) {
    if (sqlState(error) !== SQLSTATE_INVALID_PARAMETER) throw error;
    throw new ApiError(400, 'VALIDATION_ERROR', '지원하지 않는 시간대입니다.', {
      details: { issues: [{ path: 'timezone', message: 'unknown time zone' }] },
    });
  }
  return db.transaction(async (tx) => {
    const [store] = await tx
      .insert(stores)
      .values({
        name: input.name,
        timezone: input.timezone,
        defaultLanguage: input.default_language,
        historyRetentionDays: input.history_retention_days,
      })
      .returning(storeView);
    await recordAudit(tx, {
      storeId: store!.id,
      actor,
      action: 'store.created',
      targetType: 'store',
      targetId: store!.id,
      details: { name: store!.name, timezone: store!.timezone },
    });
    return store!;
  });
}

/** Every store, by name (then oldest first among equal names): the operator looks them up by name. */
export async function listStores(db: Database): Promise<StoreView[]> {
  return db
    .select(storeView)
    .from(stores)
    .orderBy(asc(stores.name), asc(stores.createdAt), asc(stores.id));
}

function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ('code' in e && typeof e.code === 'string') return e.code;
  }
  return undefined;
}
