import { env, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import { storeHub } from '../../worker/hub/store-hub.ts';
import { newStore, newTable } from './support/fixtures.ts';
import { deliverAll, envelope } from './support/relay.ts';
import { closeAllStreams, openStream } from './support/sse.ts';

const TABLE_STREAM = '/api/customer/orders/stream';

afterEach(closeAllStreams);

/** Restarts a hub the way a deploy does: its instance and every stream it serves are cut. */
async function restartHub(storeId: string): Promise<void> {
  await runInDurableObject(storeHub(env, storeId), (_hub, state) => state.abort('deploy')).catch(
    (error: Error) => expect(error.message).toBe('deploy'),
  );
}

describe('a hub whose buffer was made before parties moved between tables', () => {
  it('learns which stored events ended a party, and passes on moves to the table left behind', async () => {
    const store = await newStore();
    const [left, joined] = [await newTable(store.id), await newTable(store.id)];
    const previousParty = { tableId: left.id, tableSessionId: crypto.randomUUID() };
    const stored = [
      envelope(store.id, previousParty),
      envelope(store.id, { ...previousParty, type: 'table.session_completed' }),
    ];
    await runInDurableObject(storeHub(env, store.id), (_hub, state) => {
      const sql = state.storage.sql;
      sql.exec(`
        DROP TABLE events;
        CREATE TABLE events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          event_id INTEGER NOT NULL UNIQUE,
          type TEXT NOT NULL,
          table_id TEXT,
          table_session_id TEXT,
          envelope TEXT NOT NULL,
          received_at INTEGER NOT NULL
        );
        CREATE INDEX events_completed_sessions ON events (table_session_id)
        WHERE type = 'table.session_completed';
      `);
      for (const event of stored) {
        sql.exec(
          `INSERT INTO events (event_id, type, table_id, table_session_id, envelope, received_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          event.id,
          event.type,
          event.table_id,
          event.table_session_id,
          JSON.stringify(event),
          Date.now(),
        );
      }
    });
    await restartHub(store.id);

    // The 이용 완료 stored before still ends its party: a tablet from before it resyncs.
    const fromStart = await openStream(TABLE_STREAM, { token: left.token, lastEventId: '0' });
    expect((await fromStart.nextEvent()).event).toBe('resync');

    // A move now reaches the table it leaves, live and on replay.
    const tablet = await openStream(TABLE_STREAM, { token: left.token });
    const party = crypto.randomUUID();
    const moved = envelope(store.id, {
      type: 'table.session_moved',
      tableId: joined.id,
      tableSessionId: party,
      data: { table_session_id: party, from_table_id: left.id, to_table_id: joined.id },
    });
    await deliverAll(moved);
    expect((await tablet.nextEvent()).id).toBe(String(moved.id));
    const back = await openStream(TABLE_STREAM, {
      token: left.token,
      lastEventId: String(stored[1]!.id),
    });
    expect((await back.nextEvent()).id).toBe(String(moved.id));
  });
});
