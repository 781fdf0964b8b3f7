/**
 * The database schema of Table Order (its rules: docs/domain.md), read by the Worker, the relay
 * and drizzle-kit.
 *
 * Every rule the database can carry lives here as a constraint, so that a bug in a domain function
 * cannot write a row the restaurant would call impossible. Tenant safety comes from composite
 * foreign keys: a child row names its `store_id` and the parent is looked up by `(store_id, id)`,
 * so an order can never point at another store's table or session.
 *
 * Deleting a store cascades to everything it owns (the store *is* the tenant). Inside a store,
 * foreign keys keep PostgreSQL's default NO ACTION (for keys that are not deferrable it acts like
 * RESTRICT): deleting a category that still has menus, or a table that still has orders, fails
 * with 23503, while a store-wide cascade removes all of them together.
 *
 * Column names are explicit snake_case, so a `drizzle()` handle needs no `casing` option.
 * Worker-safe: no Node-only imports.
 */
import { sql, type SQL } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** The kitchen states, in the only order an order may move through them. */
export const KITCHEN_STATUSES = ['pending', 'preparing', 'cooked', 'delivered'] as const;
export type KitchenStatus = (typeof KITCHEN_STATUSES)[number];
/**
 * Every state an order can be in: a kitchen state, or `cancelled` (voided by an admin from any
 * state, kept with who, when and why, and outside every total).
 */
export const ORDER_STATUSES = [...KITCHEN_STATUSES, 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Why a guest calls the staff (직원 호출). */
export const CALL_REASONS = ['water', 'cutlery', 'bill', 'help', 'other'] as const;
export type CallReason = (typeof CALL_REASONS)[number];
/** A call is open until an admin acknowledges it, or until 이용 완료 closes it. */
export const CALL_STATUSES = ['open', 'acknowledged', 'closed'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
/** How long a guest's note on a staff call may be, in characters. */
export const CALL_NOTE_MAX_LENGTH = 100;
/** How long an admin's reason for cancelling an order may be, in characters. */
export const CANCEL_REASON_MAX_LENGTH = 200;

/**
 * How long an order may wait unacknowledged before the store's screens are alerted
 * (`stores.order_ack_seconds`): the default and the range a store may choose.
 */
export const ORDER_ACK_SECONDS_DEFAULT = 60;
export const ORDER_ACK_SECONDS_MIN = 5;
export const ORDER_ACK_SECONDS_MAX = 3600;

/** What a client's `X-Request-Id` may be to travel with its events as their `correlation_id`. */
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The event types (docs/events.md); the outbox accepts no other. */
export const EVENT_TYPES = [
  'order.created',
  'order.status_changed',
  'order.cancelled',
  'order.acknowledged',
  'table.session_completed',
  'table.session_moved',
  'table.session_merged',
  'table.call_requested',
  'table.call_acknowledged',
  'menu.updated',
  'menu.image_uploaded',
  'menu.image_ready',
  'menu.availability_changed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const ADMIN_ROLES = ['store_admin', 'super_admin'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export const IMAGE_STATUSES = ['processing', 'ready', 'failed'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/**
 * The languages a menu speaks. A store writes its base names in its `default_language`; the
 * others come from each row's `translations` (`{"en": {"name": …, "description": …}}`).
 */
export const MENU_LANGUAGES = ['ko', 'en', 'ja', 'zh'] as const;
export type MenuLanguage = (typeof MENU_LANGUAGES)[number];

/** How long a table's label may be (`"7"`, `"A-1"`, `"테라스 3"`), in characters. */
export const TABLE_LABEL_MAX_LENGTH = 20;
/** How long a guest's note on one order line may be, in characters. */
export const LINE_NOTE_MAX_LENGTH = 100;
/** How long a guest's request (요청사항) on a whole order may be, in characters. */
export const ORDER_REQUEST_MAX_LENGTH = 200;
/** How far one option moves a dish's price, either way, in won (a menu costs at most 10,000,000). */
export const MAX_PRICE_DELTA = 10_000_000;

/** The channel an insert into `outbox` notifies on commit (trigger in migration 0001). */
export const OUTBOX_NOTIFY_CHANNEL = 'table_order_outbox';

/**
 * Names of the constraints a domain function turns into a 409, so that the mapping from a
 * PostgreSQL error (`code` 23505/23503, `constraint`) to an API error code has one source.
 */
export const CONSTRAINTS = {
  tableNumberTaken: 'dining_tables_store_table_number_unique',
  oneActiveSessionPerTable: 'table_sessions_one_active_per_table',
  categoryNameTaken: 'menu_categories_store_name_unique',
  menuCategory: 'menus_category_fk',
  optionGroupMenu: 'menu_option_groups_menu_fk',
  storeAdminUsernameTaken: 'admins_store_username_unique',
  superAdminUsernameTaken: 'admins_super_admin_username_unique',
  orderNumberTaken: 'orders_store_day_number_unique',
  orderSession: 'orders_session_fk',
  oneOpenCallPerReason: 'staff_calls_one_open_per_reason',
  idempotencyKey: 'idempotency_keys_pkey',
} as const;

/** `'a', 'b'` for a CHECK … IN (…); the values are our own constants, never user input. */
function sqlList(values: readonly string[]): SQL {
  return sql.raw(values.map((value) => `'${value}'`).join(', '));
}

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());
const storeId = () =>
  uuid('store_id')
    .notNull()
    .references(() => stores.id, { onDelete: 'cascade' });

/**
 * Names in the store's other languages, `{"en": {"name": "…", "description": "…"}}`; the API
 * checks the shape, the database that it is an object.
 */
const translations = () =>
  jsonb('translations')
    .$type<Partial<Record<MenuLanguage, { name: string; description?: string | null }>>>()
    .notNull()
    .default({});
const translationsAreObject = (table: string, column: AnyPgColumn) =>
  check(`${table}_translations_object`, sql`jsonb_typeof(${column}) = 'object'`);

/** How long a store keeps its order history when nobody chose otherwise: a year. */
export const DEFAULT_HISTORY_RETENTION_DAYS = 365;

/**
 * A restaurant: the tenant. `timezone` (IANA) decides the business day for order numbers;
 * `default_language` is the language of its menu's base names (the kitchen's);
 * `order_ack_seconds` how long an order may wait unacknowledged before the screens are alerted;
 * `history_retention_days` how long completed orders stay in `order_history` before the
 * retention job removes them (worker/domain/retention.ts).
 */
export const stores = pgTable(
  'stores',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    timezone: text('timezone').notNull().default('Asia/Seoul'),
    historyRetentionDays: integer('history_retention_days')
      .notNull()
      .default(DEFAULT_HISTORY_RETENTION_DAYS),
    defaultLanguage: text('default_language', { enum: MENU_LANGUAGES }).notNull().default('ko'),
    orderAckSeconds: integer('order_ack_seconds').notNull().default(ORDER_ACK_SECONDS_DEFAULT),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('stores_history_retention_days_range', sql`${t.historyRetentionDays} between 1 and 3650`),
    check(
      'stores_order_ack_seconds_range',
      sql`${t.orderAckSeconds} between ${sql.raw(String(ORDER_ACK_SECONDS_MIN))} and ${sql.raw(String(ORDER_ACK_SECONDS_MAX))}`,
    ),
    check(
      'stores_default_language_valid',
      sql`${t.defaultLanguage} in (${sqlList(MENU_LANGUAGES)})`,
    ),
  ],
);

/**
 * Admin accounts. A store admin belongs to exactly one store and logs in with
 * `{store_id, username}`; a super admin belongs to none and logs in with `{username}`. Usernames
 * are unique per store, and unique among super admins. `is_active = false` and a bumped
 * `token_version` both reject tokens already issued.
 */
export const admins = pgTable(
  'admins',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: uuid('store_id').references(() => stores.id, { onDelete: 'cascade' }),
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ADMIN_ROLES }).notNull(),
    isActive: boolean('is_active').notNull().default(true),
    tokenVersion: integer('token_version').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('admins_role_valid', sql`${t.role} in (${sqlList(ADMIN_ROLES)})`),
    check(
      'admins_role_matches_store',
      sql`(${t.role} = 'store_admin' and ${t.storeId} is not null) or (${t.role} = 'super_admin' and ${t.storeId} is null)`,
    ),
    check('admins_username_not_blank', sql`length(btrim(${t.username})) > 0`),
    unique(CONSTRAINTS.storeAdminUsernameTaken).on(t.storeId, t.username),
    uniqueIndex(CONSTRAINTS.superAdminUsernameTaken)
      .on(t.username)
      .where(sql`${t.role} = 'super_admin'`),
  ],
);

/**
 * The tables of a store (named `dining_tables`: TABLE is an SQL keyword). `table_number` is the
 * table's label (`"7"`, `"A-1"`, `"테라스 3"`): trimmed, 1..20 characters, unique per store
 * ignoring case (`"a-1"` is taken once `"A-1"` is). Table tokens embed `password_version`; changing the password bumps it, which
 * revokes every token the tablet held.
 */
export const diningTables = pgTable(
  'dining_tables',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: storeId(),
    tableNumber: text('table_number').notNull(),
    passwordHash: text('password_hash').notNull(),
    passwordVersion: integer('password_version').notNull().default(1),
    /** The tablet that holds the table (its self-made UUID), or null when none does. */
    deviceId: uuid('device_id'),
    /** When the holding tablet was last heard from (refreshed at most once a minute). */
    deviceSeenAt: timestamp('device_seen_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check(
      'dining_tables_table_number_label',
      sql`char_length(${t.tableNumber}) between 1 and ${sql.raw(String(TABLE_LABEL_MAX_LENGTH))} and ${t.tableNumber} = btrim(${t.tableNumber})`,
    ),
    check('dining_tables_password_version_positive', sql`${t.passwordVersion} > 0`),
    check('dining_tables_device_seen', sql`(${t.deviceId} is null) = (${t.deviceSeenAt} is null)`),
    uniqueIndex(CONSTRAINTS.tableNumberTaken).on(t.storeId, sql`lower(${t.tableNumber})`),
    unique('dining_tables_store_id_id_unique').on(t.storeId, t.id),
  ],
);

/**
 * A party's stay at a table: opened by the first order, ended by "이용 완료". At most one active
 * (`ended_at is null`) session per table; concurrent first orders can both
 * `insert … on conflict (table_id) where ended_at is null do nothing` and read the one winner.
 * Ended sessions go with their table; a table with current orders cannot be deleted (orders_session_fk).
 */
export const tableSessions = pgTable(
  'table_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: storeId(),
    tableId: uuid('table_id').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    foreignKey({
      name: 'table_sessions_table_fk',
      columns: [t.storeId, t.tableId],
      foreignColumns: [diningTables.storeId, diningTables.id],
    }).onDelete('cascade'),
    check('table_sessions_ends_after_start', sql`${t.endedAt} >= ${t.startedAt}`),
    uniqueIndex(CONSTRAINTS.oneActiveSessionPerTable)
      .on(t.tableId)
      .where(sql`${t.endedAt} is null`),
    unique('table_sessions_store_table_id_unique').on(t.storeId, t.tableId, t.id),
  ],
);

/** Menu sections shown to guests in `display_order`; names are unique within a store. */
export const menuCategories = pgTable(
  'menu_categories',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: storeId(),
    name: text('name').notNull(),
    translations: translations(),
    displayOrder: integer('display_order').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('menu_categories_name_not_blank', sql`length(btrim(${t.name})) > 0`),
    translationsAreObject('menu_categories', t.translations),
    unique(CONSTRAINTS.categoryNameTaken).on(t.storeId, t.name),
    unique('menu_categories_store_id_id_unique').on(t.storeId, t.id),
  ],
);

/**
 * A dish. Price in whole won, never negative. It belongs to a category of the same store, and a
 * category that still has menus cannot be deleted (menus_category_fk). Image columns track the
 * asynchronous variants: `ready` requires the thumbnail and display keys.
 */
export const menus = pgTable(
  'menus',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: storeId(),
    categoryId: uuid('category_id').notNull(),
    name: text('name').notNull(),
    price: integer('price').notNull(),
    description: text('description'),
    translations: translations(),
    isAvailable: boolean('is_available').notNull().default(true),
    displayOrder: integer('display_order').notNull().default(0),
    imageStatus: text('image_status', { enum: IMAGE_STATUSES }),
    imageOriginalKey: text('image_original_key'),
    imageThumbnailKey: text('image_thumbnail_key'),
    imageDisplayKey: text('image_display_key'),
    imageError: text('image_error'),
    imageUpdatedAt: timestamp('image_updated_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({
      name: CONSTRAINTS.menuCategory,
      columns: [t.storeId, t.categoryId],
      foreignColumns: [menuCategories.storeId, menuCategories.id],
    }),
    check('menus_price_not_negative', sql`${t.price} >= 0`),
    check('menus_name_not_blank', sql`length(btrim(${t.name})) > 0`),
    translationsAreObject('menus', t.translations),
    unique('menus_store_id_id_unique').on(t.storeId, t.id),
    check('menus_image_status_valid', sql`${t.imageStatus} in (${sqlList(IMAGE_STATUSES)})`),
    check(
      'menus_image_has_original',
      sql`${t.imageStatus} is null or ${t.imageOriginalKey} is not null`,
    ),
    check(
      'menus_image_ready_has_variants',
      sql`${t.imageStatus} <> 'ready' or (${t.imageThumbnailKey} is not null and ${t.imageDisplayKey} is not null)`,
    ),
    index('menus_store_category_order_idx').on(t.storeId, t.categoryId, t.displayOrder),
  ],
);

/**
 * A menu's choices (맵기, 사이즈, 추가): a guest picks between `min_select` and `max_select` of its
 * options per ordered line (min 1 = required; max 1 = pick one). Deleted with its menu.
 */
export const menuOptionGroups = pgTable(
  'menu_option_groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: storeId(),
    menuId: uuid('menu_id').notNull(),
    name: text('name').notNull(),
    translations: translations(),
    minSelect: integer('min_select').notNull().default(0),
    maxSelect: integer('max_select').notNull().default(1),
    displayOrder: integer('display_order').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({
      name: CONSTRAINTS.optionGroupMenu,
      columns: [t.storeId, t.menuId],
      foreignColumns: [menus.storeId, menus.id],
    }).onDelete('cascade'),
    check('menu_option_groups_name_not_blank', sql`length(btrim(${t.name})) > 0`),
    translationsAreObject('menu_option_groups', t.translations),
    check('menu_option_groups_min_not_negative', sql`${t.minSelect} >= 0`),
    check('menu_option_groups_max_positive', sql`${t.maxSelect} >= 1`),
    check('menu_option_groups_min_le_max', sql`${t.minSelect} <= ${t.maxSelect}`),
    unique('menu_option_groups_store_menu_id_unique').on(t.storeId, t.menuId, t.id),
    index('menu_option_groups_menu_order_idx').on(t.menuId, t.displayOrder),
  ],
);

/**
 * One choice of a group, with what it adds to (or takes off) the dish's price. It names its
 * menu as well as its group, through the group's `(store_id, menu_id, id)`, so an order checks
 * "this option is of this menu" on the option row alone.
 */
export const menuOptions = pgTable(
  'menu_options',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: storeId(),
    menuId: uuid('menu_id').notNull(),
    groupId: uuid('group_id').notNull(),
    name: text('name').notNull(),
    translations: translations(),
    priceDelta: integer('price_delta').notNull().default(0),
    isAvailable: boolean('is_available').notNull().default(true),
    displayOrder: integer('display_order').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({
      name: 'menu_options_group_fk',
      columns: [t.storeId, t.menuId, t.groupId],
      foreignColumns: [menuOptionGroups.storeId, menuOptionGroups.menuId, menuOptionGroups.id],
    }).onDelete('cascade'),
    check('menu_options_name_not_blank', sql`length(btrim(${t.name})) > 0`),
    translationsAreObject('menu_options', t.translations),
    check(
      'menu_options_price_delta_range',
      sql`${t.priceDelta} between ${sql.raw(String(-MAX_PRICE_DELTA))} and ${sql.raw(String(MAX_PRICE_DELTA))}`,
    ),
    index('menu_options_group_order_idx').on(t.storeId, t.menuId, t.groupId, t.displayOrder),
  ],
);

/**
 * A voided order's record (orders and history alike): when, by which admin, and why. An order is
 * `cancelled` exactly when it has `cancelled_at`.
 */
const cancelColumns = () => ({
  cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
  cancelledBy: uuid('cancelled_by'),
  cancelReason: text('cancel_reason'),
});
function cancelChecks(
  prefix: string,
  t: Record<'status' | 'cancelledAt' | 'cancelReason', AnyPgColumn>,
) {
  return [
    check(
      `${prefix}_cancelled_has_record`,
      sql`(${t.status} = 'cancelled') = (${t.cancelledAt} is not null)`,
    ),
    check(
      `${prefix}_cancel_reason_length`,
      sql`char_length(${t.cancelReason}) <= ${sql.raw(String(CANCEL_REASON_MAX_LENGTH))}`,
    ),
  ];
}

/**
 * Per store and business day, the last order number handed out. The API takes the next one with
 * `insert … values (store, day, 1) on conflict (store_id, business_date) do update set
 * last_number = order_number_counters.last_number + 1 returning last_number`: sequential, no gaps
 * from concurrent orders, restarting each day.
 */
export const orderNumberCounters = pgTable(
  'order_number_counters',
  {
    storeId: storeId(),
    businessDate: date('business_date', { mode: 'string' }).notNull(),
    lastNumber: integer('last_number').notNull().default(1),
  },
  (t) => [
    primaryKey({ name: 'order_number_counters_pkey', columns: [t.storeId, t.businessDate] }),
    check('order_number_counters_positive', sql`${t.lastNumber} > 0`),
  ],
);

/**
 * Orders of active sessions only (completing a session moves them to `order_history`). The
 * session must be of this table and this store (orders_session_fk); `order_number` is unique per
 * store and `business_date`, the store-local day it was taken on.
 */
export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: storeId(),
    tableId: uuid('table_id').notNull(),
    tableSessionId: uuid('table_session_id').notNull(),
    orderNumber: integer('order_number').notNull(),
    status: text('status', { enum: ORDER_STATUSES }).notNull().default('pending'),
    totalAmount: integer('total_amount').notNull(),
    /** The guest's request for the whole order (요청사항), or null. */
    request: text('request'),
    ...cancelColumns(),
    /** When an admin first saw to the order (acknowledged it, or started preparing it), and who. */
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    acknowledgedBy: uuid('acknowledged_by'),
    businessDate: date('business_date', { mode: 'string' }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // ON UPDATE CASCADE: a party that moves to another table (its session's table_id changes)
    // takes its orders along in the same statement.
    foreignKey({
      name: CONSTRAINTS.orderSession,
      columns: [t.storeId, t.tableId, t.tableSessionId],
      foreignColumns: [tableSessions.storeId, tableSessions.tableId, tableSessions.id],
    }).onUpdate('cascade'),
    ...cancelChecks('orders', t),
    check(
      'orders_acknowledged_record',
      sql`(${t.acknowledgedAt} is null) = (${t.acknowledgedBy} is null)`,
    ),
    check('orders_status_valid', sql`${t.status} in (${sqlList(ORDER_STATUSES)})`),
    check('orders_order_number_positive', sql`${t.orderNumber} > 0`),
    check('orders_total_not_negative', sql`${t.totalAmount} >= 0`),
    requestFits('orders', t.request),
    unique(CONSTRAINTS.orderNumberTaken).on(t.storeId, t.businessDate, t.orderNumber),
    index('orders_session_created_idx').on(t.tableSessionId, t.createdAt.desc()),
    index('orders_store_status_idx').on(t.storeId, t.status),
  ],
);

/** An order's request fits {@link ORDER_REQUEST_MAX_LENGTH} (orders and history alike). */
function requestFits(prefix: string, request: AnyPgColumn) {
  return check(
    `${prefix}_request_length`,
    sql`char_length(${request}) <= ${sql.raw(String(ORDER_REQUEST_MAX_LENGTH))}`,
  );
}

/** An option chosen on an order line, as it was when ordered (names in the default language). */
export type LineOptionSnapshot = {
  option_id: string;
  group_name: string;
  name: string;
  price_delta: number;
};

/**
 * Shared shape of an ordered line: a snapshot of the menu's name, its unit price (the menu's
 * price plus the chosen options' deltas) and the chosen options at order time, and the guest's
 * note on the line.
 */
const lineColumns = () => ({
  /** The line's place in the order as the guest entered it (0-based). */
  position: integer('position').notNull(),
  menuName: text('menu_name').notNull(),
  unitPrice: integer('unit_price').notNull(),
  quantity: integer('quantity').notNull(),
  subtotal: integer('subtotal').notNull(),
  options: jsonb('options').$type<LineOptionSnapshot[]>().notNull().default([]),
  note: text('note'),
});
function lineChecks(
  prefix: string,
  t: Record<'position' | 'unitPrice' | 'quantity' | 'subtotal' | 'options' | 'note', AnyPgColumn>,
) {
  return [
    check(`${prefix}_position_not_negative`, sql`${t.position} >= 0`),
    check(`${prefix}_unit_price_not_negative`, sql`${t.unitPrice} >= 0`),
    check(`${prefix}_quantity_range`, sql`${t.quantity} between 1 and 99`),
    check(`${prefix}_subtotal_matches`, sql`${t.subtotal} = ${t.unitPrice} * ${t.quantity}`),
    check(`${prefix}_options_array`, sql`jsonb_typeof(${t.options}) = 'array'`),
    check(
      `${prefix}_note_length`,
      sql`char_length(${t.note}) <= ${sql.raw(String(LINE_NOTE_MAX_LENGTH))}`,
    ),
  ];
}

/**
 * The lines of an order. Quantity 1..99; name and price are snapshotted, so `menu_id` may become
 * null when the menu is deleted later without changing what the guest ordered.
 */
export const orderItems = pgTable(
  'order_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    menuId: uuid('menu_id').references(() => menus.id, { onDelete: 'set null' }),
    ...lineColumns(),
  },
  (t) => [
    ...lineChecks('order_items', t),
    unique('order_items_order_position_unique').on(t.orderId, t.position),
    index('order_items_menu_idx').on(t.menuId),
  ],
);

/**
 * Orders of completed sessions, kept for the store's `history_retention_days`. History outlives
 * its table: `table_id` becomes null when the table is deleted and `table_number` keeps what the
 * guest saw; `table_session_id` and `original_order_id` are plain snapshots (the rows they named
 * are gone by design).
 */
export const orderHistory = pgTable(
  'order_history',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: storeId(),
    tableId: uuid('table_id').references(() => diningTables.id, { onDelete: 'set null' }),
    tableNumber: text('table_number').notNull(),
    tableSessionId: uuid('table_session_id').notNull(),
    originalOrderId: uuid('original_order_id')
      .notNull()
      .unique('order_history_original_order_unique'),
    orderNumber: integer('order_number').notNull(),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    totalAmount: integer('total_amount').notNull(),
    request: text('request'),
    ...cancelColumns(),
    orderedAt: timestamp('ordered_at', { withTimezone: true }).notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    check('order_history_status_valid', sql`${t.status} in (${sqlList(ORDER_STATUSES)})`),
    check('order_history_total_not_negative', sql`${t.totalAmount} >= 0`),
    requestFits('order_history', t.request),
    ...cancelChecks('order_history', t),
    check('order_history_completed_after_ordered', sql`${t.completedAt} >= ${t.orderedAt}`),
    index('order_history_table_completed_idx').on(t.tableId, t.completedAt.desc()),
    index('order_history_store_completed_idx').on(t.storeId, t.completedAt.desc()),
  ],
);

/** Lines of a history order; `menu_id` is a snapshot, not a reference (menus come and go). */
export const orderHistoryItems = pgTable(
  'order_history_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderHistoryId: uuid('order_history_id')
      .notNull()
      .references(() => orderHistory.id, { onDelete: 'cascade' }),
    menuId: uuid('menu_id'),
    ...lineColumns(),
  },
  (t) => [
    ...lineChecks('order_history_items', t),
    unique('order_history_items_history_position_unique').on(t.orderHistoryId, t.position),
  ],
);

/**
 * A guest's call for the staff (직원 호출) from a table. One open call per table and reason: the
 * same reason while one is open answers that call. An admin acknowledges it; 이용 완료 closes
 * the table's calls that are still open.
 */
export const staffCalls = pgTable(
  'staff_calls',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: storeId(),
    tableId: uuid('table_id').notNull(),
    reason: text('reason', { enum: CALL_REASONS }).notNull(),
    note: text('note'),
    status: text('status', { enum: CALL_STATUSES }).notNull().default('open'),
    createdAt: createdAt(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    acknowledgedBy: uuid('acknowledged_by'),
    closedAt: timestamp('closed_at', { withTimezone: true }),
  },
  (t) => [
    foreignKey({
      name: 'staff_calls_table_fk',
      columns: [t.storeId, t.tableId],
      foreignColumns: [diningTables.storeId, diningTables.id],
    }).onDelete('cascade'),
    check('staff_calls_reason_valid', sql`${t.reason} in (${sqlList(CALL_REASONS)})`),
    check('staff_calls_status_valid', sql`${t.status} in (${sqlList(CALL_STATUSES)})`),
    check(
      'staff_calls_note_length',
      sql`char_length(${t.note}) <= ${sql.raw(String(CALL_NOTE_MAX_LENGTH))}`,
    ),
    check(
      'staff_calls_acknowledged_record',
      sql`${t.status} <> 'acknowledged' or (${t.acknowledgedAt} is not null and ${t.acknowledgedBy} is not null)`,
    ),
    check('staff_calls_closed_record', sql`${t.status} <> 'closed' or ${t.closedAt} is not null`),
    uniqueIndex(CONSTRAINTS.oneOpenCallPerReason)
      .on(t.tableId, t.reason)
      .where(sql`${t.status} = 'open'`),
    index('staff_calls_store_status_created_idx').on(t.storeId, t.status, t.createdAt),
  ],
);

/**
 * Who changed what (the audit trail): one row per admin or super-admin write, written in the
 * write's own transaction, so a write that rolls back leaves none. `store_id` is the store the
 * write concerns; `target_id` is text (most targets are UUIDs, not all).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    storeId: uuid('store_id').references(() => stores.id, { onDelete: 'cascade' }),
    actorRole: text('actor_role', { enum: ADMIN_ROLES }).notNull(),
    actorId: uuid('actor_id').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    check('audit_log_actor_role_valid', sql`${t.actorRole} in (${sqlList(ADMIN_ROLES)})`),
    check('audit_log_action_not_blank', sql`length(btrim(${t.action})) > 0`),
    check('audit_log_details_object', sql`jsonb_typeof(${t.details}) = 'object'`),
    index('audit_log_store_at_idx').on(t.storeId, t.at.desc(), t.id.desc()),
  ],
);

/**
 * Events written in the transaction that caused them (docs/events.md). `id` is the event id: an
 * identity column, so ids increase in insertion order — but transactions commit out of order, so
 * a reader must not treat "max id seen" as "everything before it is published". The relays drain
 * unpublished rows in id order, one batch at a time; an insert notifies `OUTBOX_NOTIFY_CHANNEL`.
 * Table and session ids are plain values: events outlive the rows they describe. Published rows
 * are removed a week after publication (worker/domain/retention.ts); unpublished ones never.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    storeId: storeId(),
    tableId: uuid('table_id'),
    tableSessionId: uuid('table_session_id'),
    type: text('type', { enum: EVENT_TYPES }).notNull(),
    payload: jsonb('payload').notNull(),
    /** Who caused the event: an admin or super admin (null: a guest, or the system). */
    actorRole: text('actor_role', { enum: ADMIN_ROLES }),
    actorId: uuid('actor_id'),
    /** The request that caused the event, as the client named it (`X-Request-Id`), or null. */
    correlationId: text('correlation_id'),
    createdAt: createdAt(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [
    check('outbox_type_valid', sql`${t.type} in (${sqlList(EVENT_TYPES)})`),
    check('outbox_actor_whole', sql`(${t.actorRole} is null) = (${t.actorId} is null)`),
    check('outbox_actor_role_valid', sql`${t.actorRole} in (${sqlList(ADMIN_ROLES)})`),
    check(
      'outbox_correlation_id_shape',
      sql`${t.correlationId} ~ ${sql.raw(`'${CORRELATION_ID_PATTERN.source}'`)}`,
    ),
    index('outbox_unpublished_idx')
      .on(t.id)
      .where(sql`${t.publishedAt} is null`),
    // The retention job finds published rows past their keep by this, not by a scan.
    index('outbox_published_at_idx')
      .on(t.publishedAt)
      .where(sql`${t.publishedAt} is not null`),
  ],
);

/**
 * `Idempotency-Key`s of `POST /api/customer/orders`, scoped to the calling table. Insert the key
 * in the order's transaction: a concurrent retry waits on the primary key and then replays
 * `response`. `order_id` is not a foreign key because the order later moves to history (where it
 * is `original_order_id`). Rows older than the replay window are pruned by `created_at`.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    storeId: storeId(),
    tableId: uuid('table_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    orderId: uuid('order_id'),
    statusCode: integer('status_code'),
    response: jsonb('response'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: CONSTRAINTS.idempotencyKey, columns: [t.tableId, t.key] }),
    foreignKey({
      name: 'idempotency_keys_table_fk',
      columns: [t.storeId, t.tableId],
      foreignColumns: [diningTables.storeId, diningTables.id],
    }).onDelete('cascade'),
    check('idempotency_keys_key_length', sql`length(${t.key}) between 1 and 255`),
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);

export type Store = typeof stores.$inferSelect;
export type Admin = typeof admins.$inferSelect;
export type DiningTable = typeof diningTables.$inferSelect;
export type TableSession = typeof tableSessions.$inferSelect;
export type MenuCategory = typeof menuCategories.$inferSelect;
export type Menu = typeof menus.$inferSelect;
export type MenuOptionGroup = typeof menuOptionGroups.$inferSelect;
export type MenuOption = typeof menuOptions.$inferSelect;
export type Order = typeof orders.$inferSelect;
export type OrderItem = typeof orderItems.$inferSelect;
export type OrderHistoryRow = typeof orderHistory.$inferSelect;
export type OrderHistoryItem = typeof orderHistoryItems.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type StaffCall = typeof staffCalls.$inferSelect;
export type AuditLogRow = typeof auditLog.$inferSelect;
