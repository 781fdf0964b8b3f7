import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { Registry } from 'prom-client';

/** The outcome of each readiness check: `ok`, or why not. */
export type ReadinessChecks = Record<string, 'ok' | string>;

/** What the relay's HTTP endpoints answer from. */
export interface HttpEndpoints {
  /** `GET /metrics`. */
  registry: Registry;
  /** `GET /readyz`: every check must be `ok`. */
  readiness: () => Promise<ReadinessChecks>;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * The relay's own HTTP endpoints (loopback by default): `/healthz` (the process answers),
 * `/readyz` (200, or 503 with `{checks}` naming what is down) and `/metrics` (Prometheus text).
 */
export async function startHttp(
  host: string,
  port: number,
  endpoints: HttpEndpoints,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /healthz') {
      res.writeHead(200, JSON_TYPE).end('{"status":"ok"}');
    } else if (route === 'GET /readyz') {
      void endpoints.readiness().then((checks) => {
        const ready = Object.values(checks).every((check) => check === 'ok');
        res
          .writeHead(ready ? 200 : 503, JSON_TYPE)
          .end(JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }));
      });
    } else if (route === 'GET /metrics') {
      const { registry } = endpoints;
      void registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500, JSON_TYPE).end('{"error":"metrics unavailable"}'),
      );
    } else {
      res.writeHead(404, JSON_TYPE).end('{"error":"not found"}');
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
