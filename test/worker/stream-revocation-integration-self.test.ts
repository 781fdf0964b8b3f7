import { afterEach, describe, expect, it } from 'vitest';
import { api, newStore, newStoreAdmin, newSuperAdmin, newTable } from './support/fixtures.ts';
import { deliverAll, envelope } from './support/relay.ts';
import { closeAllStreams, openStream, refusal, type SseReader } from './support/sse.ts';

const ADMIN_STREAM = '/api/admin/orders/stream';
const TABLE_STREAM = '/api/customer/orders/stream';

afterEach(closeAllStreams);

/** The id in the path as stored, and in upper case (the same account, spelled otherwise). */
const SPELLINGS: Array<[string, (id: string) => string]> = [
  ['as stored', (id) => id],
  ['written in upper case', (id) => id.toUpperCase()],
];

/** A stream the hub has answered: its first frame, `retry:`, has arrived. */
async function listening(path: string, token: string): Promise<SseReader> {
  const reader = await openStream(path, { token });
  expect(await reader.next()).toEqual({ kind: 'retry', ms: 3000 });
  return reader;
}

/** Expects the server to have ended the stream without sending anything more (no resync). */
async function expectEndedQuietly(reader: SseReader): Promise<void> {
  await expect(reader.next()).rejects.toThrow('the stream ended');
}

/** Expects `reader` to receive `event` next: the positive control of a stream left open. */
async function expectReceives(reader: SseReader, event: { id: number }): Promise<void> {
  expect(JSON.parse((await reader.nextEvent()).data).id).toBe(event.id);
}

describe("a store admin's stream", () => {
  it.each(SPELLINGS)(
    'ends the moment the admin is deactivated (id %s); reconnecting is refused, a colleague keeps receiving',
    async (_spelling, spell) => {
      const store = await newStore();
      const [colleague, root] = await Promise.all([newStoreAdmin(store.id), newSuperAdmin()]);
      const [dashboard, colleagues] = await Promise.all([
        listening(ADMIN_STREAM, store.admin.token),
        listening(ADMIN_STREAM, colleague.token),
      ]);

      const off = await api('PATCH', `/api/superadmin/admins/${spell(store.admin.id)}/deactivate`, {
        token: root.token,
      });
      expect(off.status, JSON.stringify(off.body)).toBe(200);

      await expectEndedQuietly(dashboard);
      expect(await refusal(ADMIN_STREAM, { token: store.admin.token })).toEqual({
        status: 403,
        code: 'ACCOUNT_DISABLED',
      });
      const order = envelope(store.id, { tableId: crypto.randomUUID() });
      await deliverAll(order);
      await expectReceives(colleagues, order);
    },
  );
});

describe("a table's stream", () => {
  /** A store with two tables, each tablet listening to its stream. */
  async function twoTablets() {
    const store = await newStore();
    const [table, neighbour] = [await newTable(store.id), await newTable(store.id)];
    const [tablet, neighbours] = await Promise.all([
      listening(TABLE_STREAM, table.token),
      listening(TABLE_STREAM, neighbour.token),
    ]);
    return { store, table, neighbour, tablet, neighbours };
  }

  /** What takes a tablet's access away, and the answer the admin gets for it. */
  const REVOCATIONS = [
    {
      change: 'gets a new password',
      method: 'PATCH',
      action: '',
      body: { password: 'new-pass' },
      status: 200,
    },
    { change: 'is removed', method: 'DELETE', action: '', body: undefined, status: 204 },
    {
      change: 'is released from its tablet',
      method: 'POST',
      action: '/release-device',
      body: undefined,
      status: 200,
    },
  ] as const;
  const CASES = REVOCATIONS.flatMap((revocation) =>
    SPELLINGS.map(([spelling, spell]) => ({ ...revocation, spelling, spell })),
  );

  it.each(CASES)(
    'ends the moment the table $change (id $spelling); its token is refused, other tables keep receiving',
    async ({ method, action, body, status, spell }) => {
      const { store, table, neighbour, tablet, neighbours } = await twoTablets();

      const changed = await api(method, `/api/admin/tables/${spell(table.id)}${action}`, {
        token: store.admin.token,
        body,
      });
      expect(changed.status, JSON.stringify(changed.body)).toBe(status);

      await expectEndedQuietly(tablet);
      expect(await refusal(TABLE_STREAM, { token: table.token })).toEqual({
        status: 401,
        code: 'TOKEN_INVALID',
      });
      const theirs = envelope(store.id, { tableId: neighbour.id });
      await deliverAll(theirs);
      await expectReceives(neighbours, theirs);
    },
  );

  it('stays open when the table is only renumbered', async () => {
    const { store, table, tablet } = await twoTablets();
    const renumbered = await api('PATCH', `/api/admin/tables/${table.id}`, {
      token: store.admin.token,
      body: { table_number: 1_000_001 },
    });
    expect(renumbered.status, JSON.stringify(renumbered.body)).toBe(200);

    const mine = envelope(store.id, { tableId: table.id });
    await deliverAll(mine);
    await expectReceives(tablet, mine);
  });
});
