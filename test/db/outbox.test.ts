/**
 * The outbox as the relay sees it: increasing ids, known event types only, and a notification
 * on every commit that wrote events.
 */
import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import { OUTBOX_NOTIFY_CHANNEL } from '../../db/schema.ts';
import {
  createScratchDatabase,
  createStore,
  rejectionOf,
  type ScratchDatabase,
  type TestDatabase,
} from '../support/db-fixtures.ts';

let scratch: ScratchDatabase;
let db: TestDatabase;

beforeAll(async () => {
  scratch = await createScratchDatabase();
  db = scratch.db;
});

afterAll(async () => {
  await scratch?.drop();
});

function event(storeId: string, type: schema.EventType = 'menu.updated') {
  return { storeId, type, payload: { menu_id: crypto.randomUUID() } };
}

describe('outbox', () => {
  it('numbers events in increasing order', async () => {
    const store = await createStore(db);
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const [row] = await db.insert(schema.outbox).values(event(store.id)).returning();
      ids.push(row!.id);
    }
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(5);
  });

  it('refuses an event type that is not part of the contract', async () => {
    const store = await createStore(db);
    const statement = db
      .insert(schema.outbox)
      .values(event(store.id, 'order.eaten' as schema.EventType));
    expect(await rejectionOf(statement)).toEqual({
      code: '23514',
      constraint: 'outbox_type_valid',
    });
  });

  it('wakes the relay when a transaction with events commits', async () => {
    const store = await createStore(db);
    const listener = new pg.Client({ connectionString: scratch.url });
    await listener.connect();
    try {
      await listener.query(`listen ${OUTBOX_NOTIFY_CHANNEL}`);
      const notified = once(listener, 'notification');
      await db.transaction(async (tx) => {
        await tx.insert(schema.outbox).values([event(store.id), event(store.id)]);
      });
      const [notification] = (await notified) as [pg.Notification];
      expect(notification.channel).toBe(OUTBOX_NOTIFY_CHANNEL);
    } finally {
      await listener.end();
    }
  });
});
