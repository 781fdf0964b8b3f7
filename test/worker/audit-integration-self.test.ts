/**
 * The audit trail (who changed what): every menu, image and account write of an admin or the
 * super admin leaves exactly one row, in its own transaction, and a refused write none; the
 * store admin reads the store's trail a page at a time by store-local days; and the events an
 * admin causes carry who caused it (`actor`) all the way to the admin's stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../worker/contracts/events.ts';
import {
  auditByActor,
  auditOf,
  auditRowAt,
  readAudit,
  type ExpectedAudit,
} from './support/audit.ts';
import {
  api,
  newMenu,
  newStore,
  newStoreAdmin,
  newSuperAdmin,
  newTable,
  outboxOf,
  PASSWORD,
  unique,
  type StoreFixture,
} from './support/fixtures.ts';
import { PNG_1X1, uploadImage } from './support/images.ts';
import { STEW_CHOICES, putOptionGroups } from './support/option-groups.ts';
import { placeOrder } from './support/ordering.ts';
import { deliverAll, envelope, postEvent, relayOutbox, signature } from './support/relay.ts';
import { closeAllStreams, openStream } from './support/sse.ts';

afterEach(closeAllStreams);

/** The store's trail as a test compares it: who, what, which, and the details. */
async function trailOf(storeId: string): Promise<ExpectedAudit[]> {
  return (await auditOf(storeId)).map((row) => ({
    actorRole: row.actorRole,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    details: row.details,
  }));
}

/** A row of the store admin's. */
const byAdmin = (
  store: StoreFixture,
  action: string,
  targetType: string,
  targetId: string,
  details: Record<string, unknown>,
): ExpectedAudit => ({
  actorRole: 'store_admin',
  actorId: store.admin.id,
  action,
  targetType,
  targetId,
  details,
});

/** Calls the API as the store's admin. */
function asAdmin(store: StoreFixture, method: string, path: string, body?: unknown) {
  return api(method, path, { token: store.admin.token, body });
}

function expectStatus(res: { status: number; body: unknown }, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
}

describe('the audit trail of the menu book', () => {
  it('records who added, changed and removed a category, one row each', async () => {
    const store = await newStore();
    const added = await asAdmin(store, 'POST', '/api/admin/categories', { name: '찌개' });
    expectStatus(added, 201);
    const id = added.body.id as string;
    expectStatus(
      await asAdmin(store, 'PATCH', `/api/admin/categories/${id}`, {
        display_order: 5,
        name: '찌개류',
      }),
      200,
    );
    expectStatus(await asAdmin(store, 'DELETE', `/api/admin/categories/${id}`), 204);

    expect(await trailOf(store.id)).toEqual([
      byAdmin(store, 'category.created', 'category', id, { name: '찌개' }),
      byAdmin(store, 'category.updated', 'category', id, {
        name: '찌개류',
        changed: ['name', 'display_order'],
      }),
      byAdmin(store, 'category.deleted', 'category', id, { name: '찌개류' }),
    ]);
  });

  it('records who added, changed, reordered and removed a menu', async () => {
    const store = await newStore();
    const { categoryId, menus } = await newMenu(store.id, [['공기밥', 1000]]);
    const rice = menus[0]!.id;
    const added = await asAdmin(store, 'POST', '/api/admin/menus', {
      category_id: categoryId,
      name: '김치찌개',
      price: 9000,
    });
    expectStatus(added, 201);
    const stew = added.body.id as string;
    expectStatus(
      await asAdmin(store, 'PATCH', `/api/admin/menus/${stew}`, {
        price: 9500,
        is_available: false,
      }),
      200,
    );
    expectStatus(
      await asAdmin(store, 'PUT', '/api/admin/menus/order', {
        category_id: categoryId,
        menu_ids: [stew, rice],
      }),
      200,
    );
    expectStatus(await asAdmin(store, 'DELETE', `/api/admin/menus/${stew}`), 204);

    expect(await trailOf(store.id)).toEqual([
      byAdmin(store, 'menu.created', 'menu', stew, {
        name: '김치찌개',
        category_id: categoryId,
        price: 9000,
      }),
      byAdmin(store, 'menu.updated', 'menu', stew, {
        name: '김치찌개',
        changed: ['price', 'is_available'],
      }),
      byAdmin(store, 'menu.reordered', 'category', categoryId, { menu_ids: [stew, rice] }),
      byAdmin(store, 'menu.deleted', 'menu', stew, { name: '김치찌개', category_id: categoryId }),
    ]);
  });

  it("records a menu's new choices and its image upload", async () => {
    const store = await newStore();
    const { menus } = await newMenu(store.id);
    const stew = menus[0]!.id;
    expectStatus(await putOptionGroups(store.admin.token, stew, STEW_CHOICES), 200);
    const upload = await uploadImage(store.admin.token, stew, PNG_1X1);
    expectStatus(upload, 202);

    expect(await trailOf(store.id)).toEqual([
      byAdmin(store, 'menu.options_replaced', 'menu', stew, {
        group_names: ['맵기', '추가'],
        option_count: 5,
      }),
      byAdmin(store, 'menu.image_uploaded', 'menu', stew, {
        original_key: upload.body.original_key,
        content_type: 'image/png',
      }),
    ]);
  });

  it('records every 품절 switch of a dish or an option, saying whether it changed anything', async () => {
    const store = await newStore();
    const { menus } = await newMenu(store.id);
    const stew = menus[0]!.id;
    const choices = await putOptionGroups(store.admin.token, stew, STEW_CHOICES);
    const cheese = choices.body.option_groups[1].options[1].id as string;
    const switchMenu = (is_available: boolean) =>
      asAdmin(store, 'PATCH', `/api/admin/menus/${stew}/availability`, { is_available });
    expectStatus(await switchMenu(false), 200);
    expectStatus(await switchMenu(false), 200);
    expectStatus(
      await asAdmin(store, 'PATCH', `/api/admin/options/${cheese}/availability`, {
        is_available: false,
      }),
      200,
    );

    // After the choices' own row (menu.options_replaced):
    expect((await trailOf(store.id)).slice(1)).toEqual([
      byAdmin(store, 'menu.availability_changed', 'menu', stew, {
        is_available: false,
        changed: true,
      }),
      byAdmin(store, 'menu.availability_changed', 'menu', stew, {
        is_available: false,
        changed: false,
      }),
      byAdmin(store, 'option.availability_changed', 'option', cheese, {
        menu_id: stew,
        is_available: false,
        changed: true,
      }),
    ]);
  });

  it('records nothing for a write that was refused', async () => {
    const store = await newStore();
    const { categoryId, menus } = await newMenu(store.id);
    const stew = menus[0]!.id;
    const other = await newStore();
    const theirs = (await newMenu(other.id)).menus[0]!.id;
    expectStatus(await asAdmin(store, 'POST', '/api/admin/categories', { name: '음료' }), 201);
    const before = await auditOf(store.id);

    const refused = [
      [await asAdmin(store, 'POST', '/api/admin/categories', { name: '음료' }), 409],
      [await asAdmin(store, 'PATCH', `/api/admin/categories/${categoryId}`, { name: '음료' }), 409],
      [await asAdmin(store, 'DELETE', `/api/admin/categories/${categoryId}`), 409],
      [await asAdmin(store, 'PATCH', `/api/admin/menus/${theirs}`, { price: 1 }), 404],
      [await asAdmin(store, 'DELETE', `/api/admin/menus/${crypto.randomUUID()}`), 404],
      [
        await asAdmin(store, 'POST', '/api/admin/menus', {
          category_id: crypto.randomUUID(),
          name: '라면',
          price: 4000,
        }),
        404,
      ],
      [
        await asAdmin(store, 'PUT', '/api/admin/menus/order', {
          category_id: categoryId,
          menu_ids: [stew, theirs],
        }),
        404,
      ],
      [await putOptionGroups(store.admin.token, theirs, STEW_CHOICES), 404],
      [
        await asAdmin(store, 'PATCH', `/api/admin/menus/${theirs}/availability`, {
          is_available: false,
        }),
        404,
      ],
      [
        await asAdmin(store, 'PATCH', `/api/admin/options/${crypto.randomUUID()}/availability`, {
          is_available: false,
        }),
        404,
      ],
      [await uploadImage(store.admin.token, theirs, PNG_1X1), 404],
    ] as const;

    for (const [res, status] of refused) expectStatus(res, status);
    expect(await auditOf(store.id)).toEqual(before);
    expect(await auditOf(other.id)).toEqual([]);
  });
});

describe("the audit trail of the super admin's writes", () => {
  it('records a new store, its admin, and the admin switched off and on, as the super admin', async () => {
    const root = await newSuperAdmin();
    const asRoot = (method: string, path: string, body?: unknown) =>
      api(method, path, { token: root.token, body });
    const opened = await asRoot('POST', '/api/superadmin/stores', {
      name: '새 가게',
      timezone: 'America/New_York',
    });
    expectStatus(opened, 201);
    const storeId = opened.body.id as string;
    const username = unique('staff');
    const created = await asRoot('POST', '/api/superadmin/admins', {
      store_id: storeId,
      username,
      password: PASSWORD,
    });
    expectStatus(created, 201);
    const adminId = created.body.id as string;
    expectStatus(await asRoot('PATCH', `/api/superadmin/admins/${adminId}/deactivate`), 200);
    expectStatus(await asRoot('PATCH', `/api/superadmin/admins/${adminId}/activate`), 200);

    const byRoot = (action: string, targetType: string, targetId: string, details: object) => ({
      actorRole: 'super_admin',
      actorId: root.id,
      action,
      targetType,
      targetId,
      details,
    });
    const trail = await trailOf(storeId);
    expect(trail).toEqual([
      byRoot('store.created', 'store', storeId, { name: '새 가게', timezone: 'America/New_York' }),
      byRoot('admin.created', 'admin', adminId, { username }),
      byRoot('admin.deactivated', 'admin', adminId, { username }),
      byRoot('admin.activated', 'admin', adminId, { username }),
    ]);
    expect(JSON.stringify(await auditOf(storeId))).not.toContain(PASSWORD);
  });

  it('records nothing for a refused account write', async () => {
    const root = await newSuperAdmin();
    const store = await newStore();
    const asRoot = (method: string, path: string, body?: unknown) =>
      api(method, path, { token: root.token, body });
    const taken = await asRoot('POST', '/api/superadmin/admins', {
      store_id: store.id,
      username: store.admin.username,
      password: PASSWORD,
    });
    expectStatus(taken, 409);
    expect(taken.body.error.code).toBe('USERNAME_TAKEN');
    const missingStore = await asRoot('POST', '/api/superadmin/admins', {
      store_id: crypto.randomUUID(),
      username: unique('staff'),
      password: PASSWORD,
    });
    expectStatus(missingStore, 404);
    // A super admin is no store admin: not found, like an unknown id.
    for (const id of [root.id, crypto.randomUUID()]) {
      expectStatus(await asRoot('PATCH', `/api/superadmin/admins/${id}/deactivate`), 404);
      expectStatus(await asRoot('PATCH', `/api/superadmin/admins/${id}/activate`), 404);
    }

    expect(await auditOf(store.id)).toEqual([]);
    expect(await auditByActor(root.id)).toEqual([]);
  });
});

describe("reading the store's audit trail", () => {
  it('pages through the trail newest first, the same instant by the later row first', async () => {
    const store = await newStore();
    const at = (hour: number) => new Date(Date.UTC(2026, 2, 2, hour));
    const rows = [];
    for (const hour of [1, 3, 2, 3])
      rows.push(await auditRowAt(store.id, store.admin.id, at(hour)));
    const [one, threeEarlier, two, threeLater] = rows;

    const first = await readAudit(store.admin.token, '?page_size=3');
    expectStatus(first, 200);
    expect(first.body.data.map((row: { id: number }) => row.id)).toEqual([
      threeLater!.id,
      threeEarlier!.id,
      two!.id,
    ]);
    expect(first.body.data[0]).toEqual({
      id: threeLater!.id,
      actor_role: 'store_admin',
      actor_id: store.admin.id,
      action: 'menu.updated',
      target_type: 'menu',
      target_id: expect.any(String),
      at: at(3).toISOString(),
      details: { changed: ['price'] },
    });
    expect(first.body.pagination).toEqual({
      page: 1,
      page_size: 3,
      total_count: 4,
      total_pages: 2,
    });
    const second = await readAudit(store.admin.token, '?page=2&page_size=3');
    expect(second.body.data.map((row: { id: number }) => row.id)).toEqual([one!.id]);
    const beyond = await readAudit(store.admin.token, '?page=3&page_size=3');
    expect(beyond.body).toEqual({
      data: [],
      pagination: { page: 3, page_size: 3, total_count: 4, total_pages: 2 },
    });
  });

  it("answers the changes made through the API, with the admin's own row", async () => {
    const store = await newStore();
    const added = await asAdmin(store, 'POST', '/api/admin/categories', { name: '면' });
    const res = await readAudit(store.admin.token);
    expectStatus(res, 200);
    expect(res.body.data).toEqual([
      {
        id: expect.any(Number),
        actor_role: 'store_admin',
        actor_id: store.admin.id,
        action: 'category.created',
        target_type: 'category',
        target_id: added.body.id,
        at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        details: { name: '면' },
      },
    ]);
  });

  it("filters by days of the store's own timezone, around midnight", async () => {
    for (const [timezone, lateNightAt, justAfterAt] of [
      // 2026-03-01 23:59 and 2026-03-02 00:01 in Seoul (UTC+9) and in New York (UTC-5).
      ['Asia/Seoul', '2026-03-01T14:59Z', '2026-03-01T15:01Z'],
      ['America/New_York', '2026-03-02T04:59Z', '2026-03-02T05:01Z'],
    ] as const) {
      const store = await newStore({ timezone });
      const lateNight = await auditRowAt(store.id, store.admin.id, new Date(lateNightAt));
      const justAfter = await auditRowAt(store.id, store.admin.id, new Date(justAfterAt));
      const ids = async (query: string) => {
        const res = await readAudit(store.admin.token, query);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res.body.data.map((row: { id: number }) => row.id);
      };

      expect(await ids('?from=2026-03-01&to=2026-03-01'), timezone).toEqual([lateNight.id]);
      expect(await ids('?from=2026-03-02&to=2026-03-02'), timezone).toEqual([justAfter.id]);
      expect(await ids('?from=2026-03-01&to=2026-03-02')).toEqual([justAfter.id, lateNight.id]);
      expect(await ids('?from=2026-03-02')).toEqual([justAfter.id]);
      expect(await ids('?to=2026-03-01')).toEqual([lateNight.id]);
      expect(await ids('?from=2026-03-03')).toEqual([]);
    }
  });

  it("never shows another store's rows", async () => {
    const [store, other] = await Promise.all([newStore(), newStore()]);
    await auditRowAt(other.id, other.admin.id, new Date());
    const ours = await auditRowAt(store.id, store.admin.id, new Date(Date.now() - 60_000));
    const colleague = await newStoreAdmin(store.id);

    for (const token of [store.admin.token, colleague.token]) {
      const res = await readAudit(token);
      expect(res.body.data.map((row: { id: number }) => row.id)).toEqual([ours.id]);
      expect(res.body.pagination.total_count).toBe(1);
    }
    const theirs = await readAudit(other.admin.token);
    expect(theirs.body.data.map((row: { id: number }) => row.id)).not.toContain(ours.id);
  });

  it('refuses impossible dates, from after to and bad paging (400)', async () => {
    const store = await newStore();
    for (const query of [
      '?from=2026-02-30',
      '?from=1999-12-31',
      '?to=10000-01-01',
      '?from=2026/03/01',
      '?to=yesterday',
      '?from=2026-03-02&to=2026-03-01',
      '?page=0',
      '?page_size=0',
      '?page_size=101',
      '?page=two',
    ]) {
      const res = await readAudit(store.admin.token, query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('is for store admins only', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const root = await newSuperAdmin();
    expect((await api('GET', '/api/admin/audit')).status).toBe(401);
    for (const token of [table.token, root.token]) {
      const res = await readAudit(token);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
  });

  it('is documented in /openapi.json', async () => {
    const { body } = await api('GET', '/openapi.json');
    const operation = body.paths['/api/admin/audit']?.get;
    expect(operation).toBeDefined();
    expect(Object.keys(operation.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403']),
    );
    expect(body.components.schemas.AuditEntry).toBeDefined();
  });
});

describe('who caused an event (actor)', () => {
  it("writes the admin into the outbox row of the admin's change", async () => {
    const store = await newStore();
    const { menus } = await newMenu(store.id);
    expectStatus(
      await asAdmin(store, 'PATCH', `/api/admin/menus/${menus[0]!.id}`, { price: 9900 }),
      200,
    );
    const [row] = await outboxOf(store.id);
    expect(row).toMatchObject({
      type: 'menu.updated',
      actorRole: 'store_admin',
      actorId: store.admin.id,
    });
  });

  it("carries the admin to the admin's stream, and null for a guest's order", async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const { menus } = await newMenu(store.id);
    const stew = menus[0]!.id;
    const dashboard = await openStream('/api/admin/orders/stream', { token: store.admin.token });
    await dashboard.next();

    expectStatus(await placeOrder(table.token, [[stew, 1]]), 201);
    expectStatus(
      await asAdmin(store, 'PATCH', `/api/admin/menus/${stew}/availability`, {
        is_available: false,
      }),
      200,
    );
    const relayed = await relayOutbox(store.id);

    const received = (await dashboard.events(2)).map((event) => JSON.parse(event.data));
    expect(received).toEqual(relayed);
    expect(received.map((event) => [event.type, event.actor])).toEqual([
      ['order.created', null],
      ['menu.availability_changed', { role: 'store_admin', id: store.admin.id }],
    ]);
  });

  it('still takes an event sent without actor (an older relay), as caused by no admin', async () => {
    const store = await newStore();
    const dashboard = await openStream('/api/admin/orders/stream', { token: store.admin.token });
    await dashboard.next();
    const sent = envelope(store.id);
    const older: Partial<Envelope> = { ...sent };
    delete older.actor;

    await deliverAll(older as Envelope);

    expect(JSON.parse((await dashboard.nextEvent()).data)).toEqual({ ...sent, actor: null });
  });

  it('refuses an event whose actor is not an admin (400), and stores nothing', async () => {
    const store = await newStore();
    const dashboard = await openStream('/api/admin/orders/stream', { token: store.admin.token });
    await dashboard.next();
    for (const actor of [
      { role: 'table', id: crypto.randomUUID() },
      { role: 'store_admin', id: 'admin-1' },
      { role: 'store_admin' },
      'store_admin',
    ]) {
      const body = JSON.stringify({ ...envelope(store.id), actor });
      const res = await postEvent(body, await signature(body));
      expect(res.status, body).toBe(400);
      expect(res.body.error?.code).toBe('VALIDATION_ERROR');
    }
    // Positive control: the next event the stream gets is a well-formed one sent after them.
    const admin = { role: 'super_admin' as const, id: crypto.randomUUID() };
    const good = envelope(store.id, { actor: admin });
    await deliverAll(good);
    expect(JSON.parse((await dashboard.nextEvent()).data)).toEqual(good);
  });
});
