import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { auditOf } from './support/audit.ts';
import { api, newStore, newSuperAdmin, newTable, withDb } from './support/fixtures.ts';

const root = await newSuperAdmin();

async function storeRow(id: string) {
  return withDb(async (db) => {
    const [row] = await db.select().from(schema.stores).where(eq(schema.stores.id, id));
    return row!;
  });
}

const readSettings = (token: string) => api('GET', '/api/admin/store', { token });
const changeSettings = (token: string, body: unknown) =>
  api('PATCH', '/api/admin/store', { token, body });
const changeStore = (storeId: string, body: unknown, token = root.token) =>
  api('PATCH', `/api/superadmin/stores/${storeId}`, { token, body });

/** Bodies a store's acknowledgement time is refused with (400 VALIDATION_ERROR). */
const REFUSED: Array<[string, unknown]> = [
  ['under 5 seconds', { order_ack_seconds: 4 }],
  ['over an hour', { order_ack_seconds: 3601 }],
  ['part of a second', { order_ack_seconds: 30.5 }],
  ['as text', { order_ack_seconds: '30' }],
  ['null', { order_ack_seconds: null }],
  ['missing', {}],
  ['with another field', { order_ack_seconds: 30, name: '딴 이름' }],
];

describe("the store's settings, as its admin sees them", () => {
  it('shows the store, with 60 seconds to acknowledge an order unless told otherwise', async () => {
    const store = await newStore();
    const res = await readSettings(store.admin.token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      id: store.id,
      name: store.name,
      timezone: 'Asia/Seoul',
      default_language: 'ko',
      order_ack_seconds: 60,
    });
  });

  it('changes the time an order may wait unacknowledged, and keeps who changed it from what', async () => {
    const store = await newStore();
    const res = await changeSettings(store.admin.token, { order_ack_seconds: 30 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      id: store.id,
      name: store.name,
      timezone: 'Asia/Seoul',
      default_language: 'ko',
      order_ack_seconds: 30,
    });
    expect((await storeRow(store.id)).orderAckSeconds).toBe(30);
    expect((await readSettings(store.admin.token)).body.order_ack_seconds).toBe(30);
    expect(await auditOf(store.id)).toMatchObject([
      {
        actorRole: 'store_admin',
        actorId: store.admin.id,
        action: 'store.updated',
        targetType: 'store',
        targetId: store.id,
        details: { from: { order_ack_seconds: 60 }, to: { order_ack_seconds: 30 } },
      },
    ]);
  });

  it('takes 5 seconds to an hour', async () => {
    const store = await newStore();
    for (const seconds of [5, 3600]) {
      const res = await changeSettings(store.admin.token, { order_ack_seconds: seconds });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((await storeRow(store.id)).orderAckSeconds).toBe(seconds);
    }
  });

  it.each(REFUSED)('refuses a time %s (400) and keeps the old one', async (_case, body) => {
    const store = await newStore();
    const res = await changeSettings(store.admin.token, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect((await storeRow(store.id)).orderAckSeconds).toBe(60);
    expect(await auditOf(store.id)).toEqual([]);
  });

  it("is the caller's own store, for store admins only", async () => {
    const store = await newStore();
    const other = await newStore();
    const table = await newTable(store.id);
    await changeSettings(other.admin.token, { order_ack_seconds: 10 });
    expect((await storeRow(store.id)).orderAckSeconds).toBe(60);
    expect((await readSettings(other.admin.token)).body.id).toBe(other.id);

    for (const token of [table.token, root.token]) {
      expect((await readSettings(token)).status).toBe(403);
      expect((await changeSettings(token, { order_ack_seconds: 10 })).status).toBe(403);
    }
    expect((await api('GET', '/api/admin/store')).status).toBe(401);
    expect((await storeRow(store.id)).orderAckSeconds).toBe(60);
  });
});

describe("the operator sets a store's acknowledgement time", () => {
  it('changes it, answers the store and keeps it in that store’s audit trail', async () => {
    const store = await newStore();
    const res = await changeStore(store.id, { order_ack_seconds: 120 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      id: store.id,
      name: store.name,
      timezone: 'Asia/Seoul',
      default_language: 'ko',
      history_retention_days: 365,
      order_ack_seconds: 120,
    });
    expect((await storeRow(store.id)).orderAckSeconds).toBe(120);
    const listed = await api('GET', '/api/superadmin/stores', { token: root.token });
    expect(listed.body.stores).toContainEqual(res.body);
    expect(await auditOf(store.id)).toMatchObject([
      {
        actorRole: 'super_admin',
        actorId: root.id,
        action: 'store.updated',
        targetId: store.id,
        details: { from: { order_ack_seconds: 60 }, to: { order_ack_seconds: 120 } },
      },
    ]);
  });

  it.each(REFUSED)('refuses a time %s (400)', async (_case, body) => {
    const store = await newStore();
    const res = await changeStore(store.id, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect((await storeRow(store.id)).orderAckSeconds).toBe(60);
  });

  it('answers 404 for a store that does not exist, and 403 to a store admin', async () => {
    const missing = await changeStore(crypto.randomUUID(), { order_ack_seconds: 30 });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const store = await newStore();
    const admin = await changeStore(store.id, { order_ack_seconds: 30 }, store.admin.token);
    expect(admin.status).toBe(403);
    expect((await storeRow(store.id)).orderAckSeconds).toBe(60);
  });
});
