/**
 * The relay's own HTTP endpoints as a client meets them: every error answers the same envelope
 * as the Worker's (`{"error":{"code","message","details","request_id"}}`, the request id echoed in
 * `X-Request-Id`), and what works keeps its plain answers.
 */
import type { Server } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttp, type HttpEndpoints } from '../../relay/src/http.ts';
import type { ErrorEnvelope } from '../../worker/contracts/error-envelope.ts';
import { capturedLogger } from '../support/relay-fixtures.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** The relay's HTTP server on a free loopback port, answering from `endpoints`. */
async function relayHttp(endpoints: Partial<HttpEndpoints> = {}): Promise<string> {
  const { server, port } = await startHttp('127.0.0.1', 0, {
    registry: new Registry(),
    readiness: async () => ({ database: 'ok' }),
    log: capturedLogger().log,
    ...endpoints,
  });
  servers.push(server);
  return `http://127.0.0.1:${port}`;
}

/** Reads an error answer and checks it is the Worker's envelope, exactly: no field more or less. */
async function envelopeOf(response: Response): Promise<ErrorEnvelope['error']> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as ErrorEnvelope;
  expect(body).toEqual({
    error: {
      code: expect.stringMatching(/^[A-Z_]+$/),
      message: expect.any(String),
      details: {},
      request_id: response.headers.get('x-request-id'),
    },
  });
  return body.error;
}

describe("the relay's HTTP errors", () => {
  it('answer an unknown path 404 NOT_FOUND in the envelope, with a request id of their own', async () => {
    const response = await fetch(`${await relayHttp()}/no/such/path`);
    expect(response.status).toBe(404);
    const error = await envelopeOf(response);
    expect(error).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String), details: {} });
    expect(error.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("carry the caller's X-Request-Id", async () => {
    const response = await fetch(`${await relayHttp()}/nope`, {
      headers: { 'x-request-id': 'probe-123' },
    });
    expect((await envelopeOf(response)).request_id).toBe('probe-123');
  });

  it.each([
    ['an "="', 'a=b'],
    ['65 characters', 'a'.repeat(65)],
  ])(
    'replace an X-Request-Id with %s (one the Worker would not take) by a fresh one',
    async (_why, sent) => {
      const response = await fetch(`${await relayHttp()}/nope`, {
        headers: { 'x-request-id': sent },
      });
      expect((await envelopeOf(response)).request_id).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('answer another method on a known path 405 METHOD_NOT_ALLOWED, naming the one allowed', async () => {
    const response = await fetch(`${await relayHttp()}/healthz`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect((await envelopeOf(response)).code).toBe('METHOD_NOT_ALLOWED');
  });

  it('answer 500 INTERNAL_ERROR when the metrics cannot be collected', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'broken_gauge',
      help: 'a collector that fails',
      registers: [registry],
      collect() {
        throw new Error('collector failed');
      },
    });
    const response = await fetch(`${await relayHttp({ registry })}/metrics`);
    expect(response.status).toBe(500);
    expect((await envelopeOf(response)).code).toBe('INTERNAL_ERROR');
  });

  it('answer 500 INTERNAL_ERROR, not silence, when the readiness checks themselves fail', async () => {
    const readiness = () => Promise.reject(new Error('pool destroyed'));
    const { log, lines } = capturedLogger();
    const response = await fetch(`${await relayHttp({ readiness, log })}/readyz`);
    expect(response.status).toBe(500);
    const error = await envelopeOf(response);
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(lines()).toContainEqual(
      expect.objectContaining({
        msg: 'http request failed',
        path: '/readyz',
        request_id: error.request_id,
        err: expect.objectContaining({ message: 'pool destroyed' }),
      }),
    );
  });
});

describe("the relay's HTTP answers", () => {
  it('keep /healthz, /readyz and /metrics as they were (a query string does not change the path)', async () => {
    const base = await relayHttp();
    const health = await fetch(`${base}/healthz?probe=1`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  });
});
