import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RELAY_SIGNATURE_HEADER,
  RELAY_TIMESTAMP_HEADER,
} from '../../worker/contracts/relay-signature.ts';
import { storeHub } from '../../worker/hub/store-hub.ts';
import { api, newStore } from './support/fixtures.ts';
import { deliver, envelope, postEvent, signature } from './support/relay.ts';
import { closeAllStreams, openStream } from './support/sse.ts';

const MINUTE = 60_000;

afterEach(closeAllStreams);

/** Expects the relay's request to be refused as not signed by the relay. */
function expectSignatureInvalid(res: { status: number; body: any }) {
  expect(res.status, JSON.stringify(res.body)).toBe(401);
  expect(res.body.error?.code).toBe('SIGNATURE_INVALID');
}

describe('the relay delivers an event to its store', () => {
  it('is accepted and stored when signed with the shared secret', async () => {
    const store = await newStore();
    const res = await deliver(envelope(store.id));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ stored: true });
    expect((await storeHub(env, store.id).status()).newest_seq).toBe(1);
  });

  it('is stored and sent once, however often the relay delivers it', async () => {
    const store = await newStore();
    const dashboard = await openStream('/api/admin/orders/stream', { token: store.admin.token });
    const event = envelope(store.id);
    expect((await deliver(event)).body).toEqual({ stored: true });

    const again = await deliver(event);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ stored: false });

    const next = envelope(store.id);
    await deliver(next);
    const received = await dashboard.events(2);
    expect(received.map((e) => JSON.parse(e.data).id)).toEqual([event.id, next.id]);
    expect(received.map((e) => e.id)).toEqual([String(event.id), String(next.id)]);
  });
});

describe('a delivery the relay did not sign is refused', () => {
  it('when signed with another secret', async () => {
    const store = await newStore();
    const body = JSON.stringify(envelope(store.id));
    expectSignatureInvalid(await postEvent(body, await signature(body, { secret: 'guessed' })));
  });

  it('when the body was changed after signing', async () => {
    const store = await newStore();
    const signed = envelope(store.id);
    const headers = await signature(JSON.stringify(signed));
    const altered = JSON.stringify({ ...signed, data: { order_number: 666 } });
    expectSignatureInvalid(await postEvent(altered, headers));
  });

  it('when the timestamp is more than five minutes away, either way', async () => {
    const store = await newStore();
    const body = JSON.stringify(envelope(store.id));
    for (const timestamp of [Date.now() - 6 * MINUTE, Date.now() + 6 * MINUTE]) {
      expectSignatureInvalid(await postEvent(body, await signature(body, { timestamp })));
    }
    const recent = await postEvent(
      body,
      await signature(body, { timestamp: Date.now() - 4 * MINUTE }),
    );
    expect(recent.status).toBe(200);
  });

  it('when the same signed request is sent again (a replay), and nothing is sent twice', async () => {
    const store = await newStore();
    const dashboard = await openStream('/api/admin/orders/stream', { token: store.admin.token });
    const event = envelope(store.id);
    const body = JSON.stringify(event);
    const headers = await signature(body);
    expect((await postEvent(body, headers)).status).toBe(200);

    expectSignatureInvalid(await postEvent(body, headers));

    const next = envelope(store.id);
    await deliver(next);
    const received = await dashboard.events(2);
    expect(received.map((e) => JSON.parse(e.data).id)).toEqual([event.id, next.id]);
  });

  it('when a header is missing or malformed', async () => {
    const store = await newStore();
    const body = JSON.stringify(envelope(store.id));
    const good = await signature(body);
    const [TIMESTAMP, SIGNATURE] = [RELAY_TIMESTAMP_HEADER, RELAY_SIGNATURE_HEADER] as const;
    const variants: Array<Record<string, string>> = [
      {},
      { [TIMESTAMP]: good[TIMESTAMP] },
      { [SIGNATURE]: good[SIGNATURE] },
      { ...good, [SIGNATURE]: good[SIGNATURE].replace('v1=', '') },
      { ...good, [SIGNATURE]: good[SIGNATURE].toUpperCase() },
      { ...good, [SIGNATURE]: 'v1=' },
      { ...good, [TIMESTAMP]: 'yesterday' },
      { ...good, [TIMESTAMP]: String(Number(good[TIMESTAMP]) + 1) },
    ];
    for (const headers of variants) {
      const res = await postEvent(body, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.body.error?.code).toBe('SIGNATURE_INVALID');
    }
    expect((await postEvent(body, good)).status).toBe(200);
  });
});

describe('a signed body that is not an event envelope', () => {
  it('is refused with 400 VALIDATION_ERROR', async () => {
    const store = await newStore();
    const valid = envelope(store.id);
    const bodies = [
      '{',
      '[]',
      '"text"',
      '{}',
      JSON.stringify({ ...valid, id: 'one' }),
      JSON.stringify({ ...valid, id: -1 }),
      JSON.stringify({ ...valid, type: 'order.eaten' }),
      JSON.stringify({ ...valid, store_id: 'store-1' }),
      JSON.stringify({ ...valid, table_id: 42 }),
      JSON.stringify({ ...valid, occurred_at: 'yesterday' }),
      JSON.stringify({ ...valid, data: null }),
      JSON.stringify({ ...valid, table_session_id: undefined }),
    ];
    for (const body of bodies) {
      const res = await postEvent(body, await signature(body));
      expect(res.status, body).toBe(400);
      expect(res.body.error?.code).toBe('VALIDATION_ERROR');
    }
    expect((await storeHub(env, store.id).status()).newest_seq).toBe(0);
  });

  it('is refused with 413 when far larger than any event', async () => {
    const store = await newStore();
    const body = JSON.stringify(envelope(store.id, { data: { note: 'x'.repeat(300_000) } }));
    const res = await postEvent(body, await signature(body));
    expect(res.status).toBe(413);
    expect(res.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('the relay endpoint in the API description', () => {
  it('stays out of the public OpenAPI document', async () => {
    const { body } = await api<{ paths: Record<string, unknown> }>('GET', '/openapi.json');
    expect(Object.keys(body.paths)).not.toContain('/internal/events');
  });
});
