import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { CORRELATION_ID_PATTERN } from '../../db/schema.ts';
import { ERROR_FOR_STATUS, errorEnvelope } from '../../worker/contracts/error-envelope.ts';

/** The outcome of each readiness check: `ok`, or why not. */
export type ReadinessChecks = Record<string, 'ok' | string>;

/** What the relay's HTTP endpoints answer from. */
export interface HttpEndpoints {
  /** `GET /metrics`. */
  registry: Registry;
  /** `GET /readyz`: every check must be `ok`. */
  readiness: () => Promise<ReadinessChecks>;
  /** Where an endpoint that failed (500) says why. */
  log: Logger;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Each path the relay answers, all with GET. */
const PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The request's id: the caller's `X-Request-Id` when it is one the Worker would also take (up to
 * 64 letters, digits, `-` and `_`), otherwise a new uuid.
 */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && CORRELATION_ID_PATTERN.test(given) ? given : randomUUID();
}

/** Answers an error in the envelope the Worker uses, with the standard code of its status. */
function sendError(
  res: ServerResponse,
  requestId: string,
  status: number,
  headers: Record<string, string> = {},
): void {
  const [code, message] = ERROR_FOR_STATUS[status]!;
  res
    .writeHead(status, { ...JSON_TYPE, ...headers })
    .end(JSON.stringify(errorEnvelope(code, message, {}, requestId)));
}

/**
 * The relay's own HTTP endpoints (loopback by default): `/healthz` (the process answers),
 * `/readyz` (200, or 503 with `{checks}` naming what is down) and `/metrics` (Prometheus text).
 * Every answer carries `X-Request-Id`; every error is the Worker's error envelope.
 */
export async function startHttp(
  host: string,
  port: number,
  endpoints: HttpEndpoints,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    const failed = (error: unknown) => {
      endpoints.log.error({ err: error, path, request_id: requestId }, 'http request failed');
      sendError(res, requestId, 500);
    };
    if (!PATHS.has(path)) {
      sendError(res, requestId, 404);
    } else if (req.method !== 'GET') {
      sendError(res, requestId, 405, { allow: 'GET' });
    } else if (path === '/healthz') {
      res.writeHead(200, JSON_TYPE).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      endpoints.readiness().then((checks) => {
        const ready = Object.values(checks).every((check) => check === 'ok');
        res
          .writeHead(ready ? 200 : 503, JSON_TYPE)
          .end(JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }));
      }, failed);
    } else {
      const { registry } = endpoints;
      registry
        .metrics()
        .then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          failed,
        );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * The relay's readiness: PostgreSQL answers `select 1`, the broker is connected, and the Worker
 * answers `GET /healthz` with a 2xx — each within `timeoutMs`.
 */
export function readinessOf(options: {
  pool: pg.Pool;
  brokerConnected: () => boolean;
  workerUrl: string;
  timeoutMs: number;
}): () => Promise<ReadinessChecks> {
  const { pool, workerUrl, timeoutMs } = options;
  const healthz = `${workerUrl.replace(/\/+$/, '')}/healthz`;
  // A pool waiting for a free connection has no limit of its own, hence the race.
  const database = () =>
    within(
      pool.query('select 1').then(() => {}),
      timeoutMs,
    );
  const worker = async () => {
    const response = await fetch(healthz, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`answered ${response.status}`);
  };
  return async () => {
    const [db, hub] = await Promise.all([outcome(database()), outcome(worker())]);
    return {
      database: db,
      broker: options.brokerConnected() ? 'ok' : 'not connected',
      worker: hub,
    };
  };
}

function within(work: Promise<void>, ms: number): Promise<void> {
  work.catch(() => {}); // one that loses the race must not go unhandled
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

async function outcome(check: Promise<void>): Promise<string> {
  try {
    await check;
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  }
}
