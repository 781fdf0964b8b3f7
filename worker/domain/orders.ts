import { and, eq, isNull, sql } from 'drizzle-orm';
import { orderItems, orderNumberCounters, orders, stores, tableSessions } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import type { Database, Transaction } from '../domain/database.ts';
import { recordEvent } from './events.ts';
import { claimIdempotencyKey, rememberResponse, requestHash } from './idempotency.ts';
import { priceLines, type OrderLine, type PricedLine } from './order-lines.ts';
import {
  countsTowardTotals,
  loadOrders,
  toLineView,
  toOrderView,
  totalOf,
  type OrderView,
} from './order-view.ts';

/**
 * The most one order may come to, in won. Ten of the dearest dish a menu may have (10,000,000)
 * — far beyond any table's round of orders, so only a mistake or abuse reaches it — and it keeps
 * an order's total well inside its `integer` column.
 */
export const MAX_ORDER_TOTAL = 100_000_000;
/**
 * The most one party's stay (a table session) may come to, in won: ten orders at the order limit.
 * Below 2^31, so a session's total also fits an `integer` wherever a client stores it.
 */
export const MAX_SESSION_TOTAL = 1_000_000_000;
/** Tries at joining the table's session while "이용 완료" keeps ending it under us. */
const SESSION_TRIES = 5;

/** A guest's order from a table, as the tablet sent it (validated at the edge, ids lower case). */
export type PlaceOrder = {
  storeId: string;
  tableId: string;
  items: OrderLine[];
  /** The guest's request for the whole order (요청사항; trimmed, null when there is none). */
  request?: string | null;
  /** What the tablet showed the guest as the order's total; the order is refused if it differs. */
  expectedTotal?: number;
  /** The tablet's `Idempotency-Key`, if it sent one. */
  idempotencyKey?: string;
};

/**
 * Takes a guest's order, in one transaction: the same `Idempotency-Key` with the same body answers
 * the first order again (`replayed`); the lines are priced against the store's menu as it is now
 * (menus, options and their rules: see {@link priceLines}), names, prices, options and notes
 * snapshotted; the order comes to at most {@link MAX_ORDER_TOTAL} (400) and, when the tablet sent
 * `expected_total`, to exactly that (`409 PRICE_CHANGED`, checked before anything is written); the
 * table's active session is joined, or opened by this first order, and may not pass
 * {@link MAX_SESSION_TOTAL} with it (`409 SESSION_TOTAL_LIMIT_REACHED`); the store's next order
 * number for its local business day is taken; the `order.created` event is recorded.
 */
export async function createOrder(
  db: Database,
  input: PlaceOrder,
): Promise<{ order: OrderView; replayed: boolean }> {
  const key = input.idempotencyKey;
  const hash = key === undefined ? null : await fingerprint(input);
  return db.transaction(async (tx) => {
    if (key !== undefined && hash !== null) {
      // First, so that a concurrent retry waits here for this order instead of placing its own.
      const claim = { storeId: input.storeId, tableId: input.tableId, key, requestHash: hash };
      const earlier = await claimIdempotencyKey(tx, claim);
      if (earlier) return { order: earlier.response as OrderView, replayed: true };
    }
    const lines = await priceLines(tx, input.storeId, input.items);
    const total = lines.reduce((sum, line) => sum + line.subtotal, 0);
    assertWithinOrderLimit(total);
    if (input.expectedTotal !== undefined) assertExpectedTotal(input.expectedTotal, total, lines);
    const sessionId = await joinOrOpenSession(tx, input.storeId, input.tableId);
    // Last before the event: the counter row stays locked until commit and serialises the
    // store's orders, so it is held as briefly as possible.
    const { order, items, spentBefore, ackSeconds } = await insertOrder(tx, {
      ...input,
      sessionId,
      lines,
      total,
    });
    // After the write (the throw rolls it back): the sum comes from the same statement.
    assertWithinSessionLimit(spentBefore, order.totalAmount);
    const view = toOrderView(order, items);
    await recordEvent(tx, {
      type: 'order.created',
      storeId: input.storeId,
      tableId: input.tableId,
      tableSessionId: sessionId,
      // The store's acknowledgement time as it was now: the hub alerts the floor by it.
      data: { ...view, ack_seconds: ackSeconds },
    });
    if (key !== undefined) {
      const answer = { tableId: input.tableId, key, orderId: view.id, statusCode: 201 };
      await rememberResponse(tx, { ...answer, response: view });
    }
    return { order: view, replayed: false };
  });
}

/**
 * The order as the idempotency key remembers it: options as a set per line, notes, request and
 * expected total. Absent, empty and null fields are left out, so an order without them has the
 * fingerprint it had before they existed (a key claimed then still replays).
 */
function fingerprint(input: PlaceOrder): Promise<string> {
  return requestHash({
    items: input.items.map((line) => ({
      menu_id: line.menuId,
      quantity: line.quantity,
      option_ids: line.optionIds?.length ? line.optionIds.toSorted() : undefined,
      note: line.note ?? undefined,
    })),
    request: input.request ?? undefined,
    expected_total: input.expectedTotal,
  });
}

/** Refuses an order above {@link MAX_ORDER_TOTAL}. */
function assertWithinOrderLimit(total: number): void {
  if (total <= MAX_ORDER_TOTAL) return;
  throw new ApiError(400, 'VALIDATION_ERROR', '한 번에 주문할 수 있는 금액을 넘었습니다.', {
    details: { total_amount: total, max_total_amount: MAX_ORDER_TOTAL },
  });
}

/**
 * No silent price change: the guest confirmed `expected` on the tablet; if a price, a delta or the
 * menu changed since, the order is refused with the lines as they cost now, before anything is
 * written.
 */
function assertExpectedTotal(expected: number, total: number, lines: PricedLine[]): void {
  if (expected === total) return;
  throw new ApiError(
    409,
    'PRICE_CHANGED',
    '주문하신 메뉴의 가격이 바뀌었습니다. 바뀐 금액을 확인하고 다시 주문해 주세요.',
    { details: { expected_total: expected, total, lines: lines.map(toLineView) } },
  );
}

/** Refuses an order that would take the party's stay past {@link MAX_SESSION_TOTAL}. */
function assertWithinSessionLimit(spentBefore: number, orderTotal: number): void {
  if (spentBefore + orderTotal <= MAX_SESSION_TOTAL) return;
  throw new ApiError(
    409,
    'SESSION_TOTAL_LIMIT_REACHED',
    '이 테이블에서 주문할 수 있는 금액을 넘었습니다. 직원에게 문의해 주세요.',
    {
      details: {
        session_total: spentBefore,
        total_amount: orderTotal,
        max_session_total: MAX_SESSION_TOTAL,
      },
    },
  );
}

/**
 * The table's active session, locked `for no key update` for the rest of the order's transaction:
 * the table's orders take turns from here to their commit (so each one sums every earlier order
 * of the session, see `insertOrder`), and "이용 완료", which takes it `for update`, waits for
 * them (the lock protocol of `completeSession`). Most orders join a session that
 * is already open: one locked read. The first order opens it: concurrent first orders all try
 * the insert, the partial unique index makes them wait for the one that wins, and they then read
 * and join its session. If "이용 완료" ends the session between our read and our insert, the
 * next round opens a new one.
 */
async function joinOrOpenSession(tx: Transaction, storeId: string, tableId: string) {
  for (let attempt = 0; attempt < SESSION_TRIES; attempt += 1) {
    const [active] = await tx
      .select({ id: tableSessions.id })
      .from(tableSessions)
      .where(
        and(
          eq(tableSessions.storeId, storeId),
          eq(tableSessions.tableId, tableId),
          isNull(tableSessions.endedAt),
        ),
      )
      .for('no key update');
    if (active) return active.id;
    const [opened] = await tx
      .insert(tableSessions)
      .values({ storeId, tableId })
      .onConflictDoNothing({ target: tableSessions.tableId, where: sql`ended_at is null` })
      .returning({ id: tableSessions.id });
    // Our own uncommitted session: nobody else can see it, let alone end it.
    if (opened) return opened.id;
  }
  throw new Error(`table ${tableId}: no active session after ${SESSION_TRIES} tries`);
}

/**
 * Writes the order and its lines, numbered, in one statement: the store's next order number on
 * its business day (the date in the store's own timezone; the upsert locks the day's counter row
 * until commit, so numbers are sequential and gap-free), the order with that number, its lines.
 * It also answers what the session's orders that are not cancelled came to before this one
 * (`spentBefore`): exact, since the statement starts after we locked the session, when every
 * other order of the session has either committed (and is in the statement's snapshot) or waits
 * for our commit. (A cancel racing it only lowers the sum: the limit still holds.) And how long
 * the store lets an order wait unacknowledged (`ackSeconds`), for its event.
 */
async function insertOrder(
  tx: Transaction,
  input: PlaceOrder & { sessionId: string; lines: PricedLine[]; total: number },
) {
  const orderId = crypto.randomUUID();
  const counter = tx.$with('counter').as(
    tx
      .insert(orderNumberCounters)
      .values({
        storeId: input.storeId,
        businessDate: sql`(select (now() at time zone ${stores.timezone})::date
          from ${stores} where ${stores.id} = ${input.storeId})`,
        lastNumber: 1,
      })
      .onConflictDoUpdate({
        target: [orderNumberCounters.storeId, orderNumberCounters.businessDate],
        set: { lastNumber: sql`${orderNumberCounters.lastNumber} + 1` },
      })
      .returning({
        businessDate: orderNumberCounters.businessDate,
        lastNumber: orderNumberCounters.lastNumber,
      }),
  );
  const placed = tx.$with('placed').as(
    tx
      .insert(orders)
      .values({
        id: orderId,
        storeId: input.storeId,
        tableId: input.tableId,
        tableSessionId: input.sessionId,
        orderNumber: sql`(select ${counter.lastNumber} from ${counter})`,
        businessDate: sql`(select ${counter.businessDate} from ${counter})`,
        totalAmount: input.total,
        request: input.request ?? null,
        // The time the number was taken (not the transaction's start), so that "newest first"
        // and the order numbers of a day agree even for orders that raced.
        createdAt: sql`clock_timestamp()`,
      })
      .returning(),
  );
  const items = input.lines.map((line, position) => ({ ...line, orderId, position }));
  // Checked against the order at the end of the statement, once `placed` has written it.
  const lines = tx.$with('lines').as(tx.insert(orderItems).values(items));
  // The statement's snapshot: the session's orders without this one.
  const spent = tx.$with('spent').as(
    tx
      .select({ total: sql<string>`coalesce(sum(${orders.totalAmount}), 0)::bigint`.as('total') })
      .from(orders)
      .where(and(eq(orders.tableSessionId, input.sessionId), countsTowardTotals())),
  );
  const store = tx
    .$with('store')
    .as(
      tx
        .select({ ackSeconds: stores.orderAckSeconds })
        .from(stores)
        .where(eq(stores.id, input.storeId)),
    );
  const [row] = await tx
    .with(counter, placed, lines, spent, store)
    .select()
    .from(placed)
    .crossJoin(spent)
    .crossJoin(store);
  if (!row) throw new Error(`order ${orderId} was not written`);
  return {
    order: row.placed,
    items,
    spentBefore: Number(row.spent.total),
    ackSeconds: row.store.ackSeconds,
  };
}

/**
 * What the table has ordered in its current session, newest first (cancelled ones included), with
 * the session's total (cancelled ones excluded).
 * No active session (nothing ordered yet, or the last party's session was completed) → empty.
 */
export async function tableOrders(db: Database, table: { storeId: string; tableId: string }) {
  const [session] = await db
    .select({ id: tableSessions.id })
    .from(tableSessions)
    .where(
      and(
        eq(tableSessions.storeId, table.storeId),
        eq(tableSessions.tableId, table.tableId),
        isNull(tableSessions.endedAt),
      ),
    );
  if (!session) return { table_session_id: null, total_amount: 0, orders: [] };
  const list = await loadOrders(
    db,
    and(eq(orders.storeId, table.storeId), eq(orders.tableSessionId, session.id)),
  );
  return {
    table_session_id: session.id,
    total_amount: totalOf(list),
    orders: list,
  };
}
