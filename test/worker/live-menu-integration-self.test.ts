/**
 * The live menu on the tablet: store-wide events (the menu's) reach every stream of their store,
 * tablets included, live and on replay, and never another store's; and the 품절 switches that
 * make them (`PATCH …/availability` for a dish or one of its options).
 */
import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheKeys } from '../../worker/platform/cache.ts';
import { createRedis } from '../../worker/platform/redis.ts';
import { cachedValue } from './support/cache.ts';
import { menuRow, nobody } from './support/catalog.ts';
import { api, newMenu, newStore, newTable, outboxOf } from './support/fixtures.ts';
import { optionRowsOf, withStewChoices } from './support/option-groups.ts';
import { deliverAll, envelope, relayOutbox } from './support/relay.ts';
import { closeAllStreams, openStream, type SseEvent } from './support/sse.ts';

const ADMIN_STREAM = '/api/admin/orders/stream';
const TABLE_STREAM = '/api/customer/orders/stream';
const RETRY = { kind: 'retry', ms: 3000 };

afterEach(closeAllStreams);

/** The outbox ids carried by received events, in arrival order. */
const outboxIds = (events: SseEvent[]) => events.map((e) => JSON.parse(e.data).id as number);

/** A store-wide event of the store (a dish sold out, a menu changed): no table, no party. */
const storeWide = (storeId: string, type: 'menu.availability_changed' | 'menu.updated') =>
  envelope(storeId, {
    type,
    data:
      type === 'menu.updated'
        ? { action: 'updated', menu_id: crypto.randomUUID(), category_id: crypto.randomUUID() }
        : { menu_id: crypto.randomUUID(), option_id: null, is_available: false },
  });

describe("a tablet's stream and the store's menu", () => {
  it("carries its own store's menu events live, with the table's own events, in arrival order", async () => {
    const store = await newStore();
    const [table, neighbour] = [await newTable(store.id), await newTable(store.id)];
    const tablet = await openStream(TABLE_STREAM, { token: table.token });
    expect(await tablet.next()).toEqual(RETRY);

    const soldOut = storeWide(store.id, 'menu.availability_changed');
    const renamed = storeWide(store.id, 'menu.updated');
    const mine = envelope(store.id, { tableId: table.id });
    await deliverAll(soldOut, envelope(store.id, { tableId: neighbour.id }), mine, renamed);

    const events = await tablet.events(3);
    expect(outboxIds(events)).toEqual([soldOut.id, mine.id, renamed.id]);
    expect(events.map((e) => e.event)).toEqual([
      'menu.availability_changed',
      'order.created',
      'menu.updated',
    ]);
    expect(JSON.parse(events[0]!.data)).toEqual(soldOut);
    expect(events[0]!.id).toBe(String(soldOut.id));
  });

  it("never carries another store's menu events", async () => {
    const [store, neighbour] = await Promise.all([newStore(), newStore()]);
    const table = await newTable(store.id);
    const tablet = await openStream(TABLE_STREAM, { token: table.token });
    expect(await tablet.next()).toEqual(RETRY);

    const theirs = storeWide(neighbour.id, 'menu.availability_changed');
    // Delivered after theirs, to the same stream: had theirs come through, it would come first.
    const ours = storeWide(store.id, 'menu.availability_changed');
    await deliverAll(theirs, storeWide(neighbour.id, 'menu.updated'), ours);

    expect(outboxIds([await tablet.nextEvent()])).toEqual([ours.id]);
  });

  it('still gives the admin stream every event: store-wide ones and every table’s', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const dashboard = await openStream(ADMIN_STREAM, { token: store.admin.token });
    const events = [
      storeWide(store.id, 'menu.availability_changed'),
      envelope(store.id, { tableId: table.id }),
      storeWide(store.id, 'menu.updated'),
    ];
    await deliverAll(...events);
    expect(outboxIds(await dashboard.events(3))).toEqual(events.map((e) => e.id));
  });
});

describe('a tablet coming back with Last-Event-ID', () => {
  it("replays the menu events it missed with its own, not another table's", async () => {
    const store = await newStore();
    const [table, neighbour] = [await newTable(store.id), await newTable(store.id)];
    const first = await openStream(TABLE_STREAM, { token: table.token });
    const seen = envelope(store.id, { tableId: table.id });
    await deliverAll(seen);
    const last = await first.nextEvent();
    await first.close();

    const soldOut = storeWide(store.id, 'menu.availability_changed');
    const mine = envelope(store.id, { tableId: table.id, tableSessionId: seen.table_session_id! });
    await deliverAll(soldOut, envelope(store.id, { tableId: neighbour.id }), mine);
    const back = await openStream(TABLE_STREAM, { token: table.token, lastEventId: last.id });
    expect(await back.next()).toEqual(RETRY);
    expect(outboxIds(await back.events(2))).toEqual([soldOut.id, mine.id]);

    const live = storeWide(store.id, 'menu.updated');
    await deliverAll(live);
    expect(outboxIds([await back.nextEvent()])).toEqual([live.id]);
  });

  it('resumes after a menu event it received, as after any other', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const first = await openStream(TABLE_STREAM, { token: table.token });
    await deliverAll(storeWide(store.id, 'menu.availability_changed'));
    const last = await first.nextEvent();
    await first.close();

    const missed = [storeWide(store.id, 'menu.availability_changed')];
    missed.push(envelope(store.id, { tableId: table.id }));
    await deliverAll(...missed);
    const back = await openStream(TABLE_STREAM, { token: table.token, lastEventId: last.id });
    expect(outboxIds(await back.events(2))).toEqual(missed.map((e) => e.id));
  });

  it("replays no other store's menu events", async () => {
    const [store, neighbour] = await Promise.all([newStore(), newStore()]);
    const table = await newTable(store.id);
    await deliverAll(storeWide(neighbour.id, 'menu.availability_changed'));
    const ours = storeWide(store.id, 'menu.availability_changed');
    await deliverAll(storeWide(neighbour.id, 'menu.updated'), ours);

    const back = await openStream(TABLE_STREAM, { token: table.token, lastEventId: '0' });
    expect(outboxIds([await back.nextEvent()])).toEqual([ours.id]);
    const live = storeWide(store.id, 'menu.updated');
    await deliverAll(storeWide(neighbour.id, 'menu.updated'), live);
    expect(outboxIds([await back.nextEvent()])).toEqual([live.id]);
  });

  it('still resyncs when a party left meanwhile, store-wide events or not', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const party = { tableId: table.id, tableSessionId: crypto.randomUUID() };
    const ordered = envelope(store.id, party);
    await deliverAll(ordered);
    const completion = envelope(store.id, { ...party, type: 'table.session_completed' });
    await deliverAll(storeWide(store.id, 'menu.availability_changed'), completion);

    const back = await openStream(TABLE_STREAM, {
      token: table.token,
      lastEventId: String(ordered.id),
    });
    expect(await back.nextEvent()).toEqual({
      kind: 'event',
      id: String(completion.id),
      event: 'resync',
      data: '{}',
    });
    const live = storeWide(store.id, 'menu.updated');
    await deliverAll(live);
    expect(outboxIds([await back.nextEvent()])).toEqual([live.id]);
  });
});

/** A store in service: one table, and 김치찌개 and 공기밥 on sale. */
async function restaurant() {
  const store = await newStore();
  const table = await newTable(store.id);
  const { menus } = await newMenu(store.id, [
    ['김치찌개', 9000],
    ['공기밥', 1000],
  ]);
  const [stew, rice] = menus as [Menu, Menu];
  return { store, table, stew, rice };
}
type Menu = { id: string; name: string; price: number };

/** PATCH /api/admin/menus/{id}/availability as the admin holding `token`. */
function switchMenu(token: string, menuId: string, body: unknown) {
  return api('PATCH', `/api/admin/menus/${menuId}/availability`, { token, body });
}

/** The `menu.availability_changed` rows of the store's outbox, as the tablets will receive them. */
async function availabilityEvents(storeId: string) {
  return (await outboxOf(storeId))
    .filter((row) => row.type === 'menu.availability_changed')
    .map(({ payload, tableId, tableSessionId }) => ({ payload, tableId, tableSessionId }));
}
const storeWideEvent = (payload: object) => ({ payload, tableId: null, tableSessionId: null });

type GuestOption = { id: string; is_available: boolean };
type GuestMenu = GuestOption & { option_groups: Array<{ options: GuestOption[] }> };

/**
 * The guests' menu as a tablet reads it (through the cache): `is_available` of each menu and each
 * option by id, and the answer's `menu_version`.
 */
async function guestMenu(token: string) {
  const res = await api('GET', '/api/customer/menus', { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const menus: GuestMenu[] = res.body.categories.flatMap((c: { menus: GuestMenu[] }) => c.menus);
  const options = menus.flatMap((m) => m.option_groups.flatMap((g) => g.options));
  const availability = (items: GuestOption[]) =>
    Object.fromEntries(items.map((item) => [item.id, item.is_available]));
  return {
    menus: availability(menus),
    options: availability(options),
    version: res.body.menu_version as string,
  };
}

/**
 * Reads the guests' menu once, so that the cache holds it; answers it. A setup write through the
 * API (the choices' PUT) left the invalidation marker, which refuses fills for a few seconds: it
 * is removed first.
 */
async function warmGuestMenu(storeId: string, token: string) {
  await createRedis(env).del(cacheKeys.guestMenu(storeId));
  const warmed = await guestMenu(token);
  expect(await cachedValue(cacheKeys.guestMenu(storeId)), 'cached before').toEqual(
    expect.any(Object),
  );
  return warmed;
}

describe('PATCH /api/admin/menus/{id}/availability (a dish sold out)', () => {
  it("answers the menu, tells every tablet once, and the guests' menu shows it at once", async () => {
    const { store, table, stew, rice } = await restaurant();
    const before = await warmGuestMenu(store.id, table.token);
    expect(before.menus).toEqual({ [stew.id]: true, [rice.id]: true });
    const tablet = await openStream(TABLE_STREAM, { token: table.token });
    expect(await tablet.next()).toEqual(RETRY);

    const res = await switchMenu(store.admin.token, stew.id, { is_available: false });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      id: stew.id,
      name: '김치찌개',
      price: 9000,
      is_available: false,
    });
    const admins = await api('GET', `/api/admin/menus/${stew.id}`, { token: store.admin.token });
    expect(res.body).toEqual(admins.body);
    const payload = { menu_id: stew.id, option_id: null, is_available: false };
    expect(await availabilityEvents(store.id)).toEqual([storeWideEvent(payload)]);
    const after = await guestMenu(table.token);
    expect(after.menus).toEqual({ [stew.id]: false, [rice.id]: true });
    expect(after.version).not.toBe(before.version);

    const [event] = await relayOutbox(store.id);
    const received = await tablet.nextEvent();
    expect(received.event).toBe('menu.availability_changed');
    expect(JSON.parse(received.data)).toEqual(event);
    expect(JSON.parse(received.data)).toMatchObject({ table_id: null, data: payload });
  });

  it('tells no one when the dish already is so, and tells everyone when it is back on sale', async () => {
    const { store, table, stew } = await restaurant();
    expect((await switchMenu(store.admin.token, stew.id, { is_available: false })).status).toBe(
      200,
    );
    const again = await switchMenu(store.admin.token, stew.id, { is_available: false });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ id: stew.id, is_available: false });
    const soldOut = { menu_id: stew.id, option_id: null, is_available: false };
    expect(await availabilityEvents(store.id)).toEqual([storeWideEvent(soldOut)]);

    const back = await switchMenu(store.admin.token, stew.id, { is_available: true });
    expect(back.body).toMatchObject({ id: stew.id, is_available: true });
    expect(await availabilityEvents(store.id)).toEqual([
      storeWideEvent(soldOut),
      storeWideEvent({ ...soldOut, is_available: true }),
    ]);
    expect((await guestMenu(table.token)).menus[stew.id]).toBe(true);
  });

  it('tells the tablets exactly once when two admins sell out the same dish at once', async () => {
    const { store, stew } = await restaurant();
    const both = await Promise.all(
      [1, 2].map(() => switchMenu(store.admin.token, stew.id, { is_available: false })),
    );
    expect(both.map((res) => [res.status, res.body.is_available])).toEqual([
      [200, false],
      [200, false],
    ]);
    expect(await availabilityEvents(store.id)).toHaveLength(1);
  });

  it("answers 404 for another store's dish and for an unknown one, changing nothing", async () => {
    const [{ store, stew }, neighbour] = await Promise.all([restaurant(), restaurant()]);
    for (const menuId of [neighbour.stew.id, nobody()]) {
      const res = await switchMenu(store.admin.token, menuId, { is_available: false });
      expect(res.status, menuId).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect((await menuRow(neighbour.stew.id))!.isAvailable).toBe(true);
    expect(await outboxOf(neighbour.store.id)).toEqual([]);
    expect(await outboxOf(store.id)).toEqual([]);
    // Its own dish, the same way: the 404s above were about the ids alone.
    expect((await switchMenu(store.admin.token, stew.id, { is_available: false })).status).toBe(
      200,
    );
  });

  it('refuses anything but {is_available: true|false}, changing nothing', async () => {
    const { store, stew } = await restaurant();
    for (const body of [
      {},
      { is_available: 'false' },
      { is_available: 0 },
      { is_available: null },
      { is_available: false, name: '김치찌개' },
      [false],
    ]) {
      const res = await switchMenu(store.admin.token, stew.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    const malformedId = await switchMenu(store.admin.token, 'not-a-uuid', { is_available: false });
    expect([malformedId.status, malformedId.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const notJson = await api('PATCH', `/api/admin/menus/${stew.id}/availability`, {
      token: store.admin.token,
      rawBody: '{"is_available": fals',
    });
    expect([notJson.status, notJson.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);

    expect((await menuRow(stew.id))!.isAvailable).toBe(true);
    expect(await outboxOf(store.id)).toEqual([]);
    // The same dish, switched properly: the refusals above were about the body alone.
    expect((await switchMenu(store.admin.token, stew.id, { is_available: false })).status).toBe(
      200,
    );
  });

  it('is the store admin’s alone: a tablet is refused, and so is a caller without a token', async () => {
    const { store, table, stew } = await restaurant();
    expect((await switchMenu(table.token, stew.id, { is_available: false })).status).toBe(403);
    expect((await switchMenu('', stew.id, { is_available: false })).status).toBe(401);
    expect((await menuRow(stew.id))!.isAvailable).toBe(true);
  });
});

/** PATCH /api/admin/options/{id}/availability as the admin holding `token`. */
function switchOption(token: string, optionId: string, body: unknown) {
  return api('PATCH', `/api/admin/options/${optionId}/availability`, { token, body });
}

/**
 * A restaurant whose 김치찌개 has its choices (맵기, 추가), set up through the API (its
 * `menu.updated` already relayed, so it comes before any stream a test opens): answers the 치즈
 * topping too.
 */
async function stewWithChoices() {
  const r = await restaurant();
  await withStewChoices(r.store.admin.token, r.stew.id);
  await relayOutbox(r.store.id);
  const { options } = await optionRowsOf(r.stew.id);
  const cheese = options.find((option) => option.name === '치즈')!;
  return { ...r, cheese };
}

/** The `is_available` of each option in an admin menu object, by option name. */
const optionsOf = (menu: {
  option_groups: Array<{ options: Array<{ name: string; is_available: boolean }> }>;
}) =>
  Object.fromEntries(
    menu.option_groups.flatMap((g) => g.options).map((o) => [o.name, o.is_available]),
  );

describe('PATCH /api/admin/options/{id}/availability (an option sold out)', () => {
  it("answers the option's menu, tells every tablet once, and the guests' menu shows it at once", async () => {
    const { store, table, stew, cheese } = await stewWithChoices();
    const before = await warmGuestMenu(store.id, table.token);
    expect(before.options[cheese.id]).toBe(true);
    const tablet = await openStream(TABLE_STREAM, { token: table.token });
    expect(await tablet.next()).toEqual(RETRY);

    const res = await switchOption(store.admin.token, cheese.id, { is_available: false });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: stew.id, is_available: true });
    expect(optionsOf(res.body)).toEqual({
      순한맛: true,
      보통: true,
      매운맛: true,
      라면사리: true,
      치즈: false,
    });
    const admins = await api('GET', `/api/admin/menus/${stew.id}`, { token: store.admin.token });
    expect(res.body).toEqual(admins.body);
    const payload = { menu_id: stew.id, option_id: cheese.id, is_available: false };
    expect(await availabilityEvents(store.id)).toEqual([storeWideEvent(payload)]);
    const after = await guestMenu(table.token);
    expect(after.options[cheese.id]).toBe(false);
    expect(after.menus[stew.id]).toBe(true);
    expect(after.version).not.toBe(before.version);

    const relayed = await relayOutbox(store.id);
    const received = await tablet.nextEvent();
    expect(received.event).toBe('menu.availability_changed');
    expect(JSON.parse(received.data)).toEqual(relayed.at(-1));
    expect(JSON.parse(received.data)).toMatchObject({ table_id: null, data: payload });
  });

  it('tells no one when the option already is so, and tells everyone when it is back', async () => {
    const { store, stew, cheese } = await stewWithChoices();
    const soldOut = { menu_id: stew.id, option_id: cheese.id, is_available: false };
    for (const _ of [1, 2]) {
      const res = await switchOption(store.admin.token, cheese.id, { is_available: false });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(optionsOf(res.body).치즈).toBe(false);
    }
    expect(await availabilityEvents(store.id)).toEqual([storeWideEvent(soldOut)]);

    const back = await switchOption(store.admin.token, cheese.id, { is_available: true });
    expect(optionsOf(back.body).치즈).toBe(true);
    expect(await availabilityEvents(store.id)).toEqual([
      storeWideEvent(soldOut),
      storeWideEvent({ ...soldOut, is_available: true }),
    ]);
  });

  it("answers 404 for another store's option and for an unknown one, changing nothing", async () => {
    const [{ store, cheese }, neighbour] = await Promise.all([
      stewWithChoices(),
      stewWithChoices(),
    ]);
    const neighbourEvents = (await outboxOf(neighbour.store.id)).length;
    for (const optionId of [neighbour.cheese.id, nobody(), neighbour.stew.id]) {
      const res = await switchOption(store.admin.token, optionId, { is_available: false });
      expect(res.status, optionId).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const { options } = await optionRowsOf(neighbour.stew.id);
    expect(options.every((option) => option.isAvailable)).toBe(true);
    expect(await outboxOf(neighbour.store.id)).toHaveLength(neighbourEvents);
    expect(await availabilityEvents(store.id)).toEqual([]);
    // Its own option, the same way: the 404s above were about the ids alone.
    expect((await switchOption(store.admin.token, cheese.id, { is_available: false })).status).toBe(
      200,
    );
  });

  it('refuses anything but {is_available: true|false}, changing nothing', async () => {
    const { store, cheese } = await stewWithChoices();
    for (const body of [{}, { is_available: 'no' }, { is_available: true, price_delta: 0 }]) {
      const res = await switchOption(store.admin.token, cheese.id, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect(await availabilityEvents(store.id)).toEqual([]);
    expect((await switchOption(store.admin.token, cheese.id, { is_available: false })).status).toBe(
      200,
    );
  });
});
