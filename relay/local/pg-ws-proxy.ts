/**
 * PostgreSQL WebSocket proxy — DEV ONLY.
 *
 * The Worker talks to Postgres through `@neondatabase/serverless`, which speaks the Postgres wire
 * protocol over a WebSocket. Neon's cloud terminates that WebSocket for us; on a laptop nothing
 * does, so this file plays the part of Neon's `wsproxy` (github.com/neondatabase/wsproxy): each
 * WebSocket connection is piped, binary frame by binary frame, to one fresh TCP connection to the
 * local PostgreSQL.
 *
 * Unlike `wsproxy` it is not a relay to whatever the client names: the TCP target is fixed at
 * start-up. The `address` query parameter the driver sends is only checked against that target,
 * and a mismatch is refused with HTTP 403 before any TCP connection is opened. There is no TLS and
 * no authentication of its own, so it listens on loopback by default and must never face a
 * network.
 *
 * Run directly (`npx node relay/local/pg-ws-proxy.ts`) it reads PG_WS_PROXY_PORT (default 8791),
 * PGHOST (default 127.0.0.1) and PGPORT (default 5432).
 */
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

/** Paths the driver may use: `/v1` is `wsproxy`'s, `/v2` is the driver's default (`host + '/v2'`). */
const PROXY_PATHS = new Set(['/v1', '/v2']);
/** Names that all mean "this machine"; any of them matches a loopback target. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
/** Above this many unsent bytes towards the client, stop reading from Postgres until it drains. */
const WS_HIGH_WATER_MARK = 1024 * 1024;

export type PgWsProxyOptions = {
  /** Interface to listen on. Default `127.0.0.1`; keep it on loopback. */
  host?: string;
  /** Port to listen on; `0` picks a free one. Default `8791`. */
  port?: number;
  /** The one PostgreSQL server every connection is piped to. */
  target: { host: string; port: number };
  /** Receives one line per refused request and per connection failure. Default: silent. */
  log?: (line: string) => void;
};

export type PgWsProxy = {
  /** WebSocket URL of the proxy endpoint, e.g. `ws://127.0.0.1:8791/v1`. */
  url: string;
  /** The port actually listened on (useful with `port: 0`). */
  port: number;
  /** Terminates every live connection (both sides) and stops listening. */
  close(): Promise<void>;
};

/**
 * Starts a WebSocket→TCP proxy in front of one PostgreSQL server, for `@neondatabase/serverless`.
 *
 * Accepts upgrades on `/v1` and `/v2` only (others get 404). If the request carries
 * `?address=host:port` it must name the target: same port, and the same host — where for a
 * loopback target `localhost`, `127.0.0.1` and `::1` are interchangeable. Otherwise the upgrade is
 * answered with 403 and nothing is dialled. Without `address` the connection goes to the target.
 * Requests carrying an `Origin` header (i.e. from a browser page) are refused too, so that a web
 * page cannot reach the trust-authenticated dev database through it.
 *
 * Clients point the driver at it with
 * `neonConfig.wsProxy = (host, port) => \`127.0.0.1:${proxy.port}/v1?address=${host}:${port}\``,
 * `useSecureWebSocket = false`, `pipelineTLS = false` and `pipelineConnect = false`.
 */
export async function startPgWsProxy(options: PgWsProxyOptions): Promise<PgWsProxy> {
  const { target, host = '127.0.0.1', port = 8791, log = () => {} } = options;
  const wss = new WebSocketServer({ noServer: true });
  const live = new Set<() => void>();

  const server = createServer((request, response) => {
    const known = PROXY_PATHS.has(pathOf(request));
    response.writeHead(known ? 426 : 404, { 'content-type': 'text/plain' });
    response.end(known ? 'Upgrade Required: this endpoint speaks WebSocket\n' : 'Not Found\n');
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refusal = refusalFor(request, target);
    if (refusal) {
      log(`pg-ws-proxy: refused ${request.url ?? ''}: ${refusal.reason}`);
      rejectUpgrade(socket, refusal.status, refusal.reason);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const endPipe = pipeToPostgres(ws, target, log, () => live.delete(endPipe));
      live.add(endPipe);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('pg-ws-proxy: no TCP address');
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `ws://${urlHost}:${address.port}/v1`,
    port: address.port,
    async close() {
      for (const end of live) end();
      live.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

type Refusal = { status: 403 | 404; reason: string };

/** Why an upgrade request must not be proxied, or undefined when it may. */
function refusalFor(
  request: IncomingMessage,
  target: PgWsProxyOptions['target'],
): Refusal | undefined {
  if (!PROXY_PATHS.has(pathOf(request))) return { status: 404, reason: 'unknown path' };
  if (request.headers.origin !== undefined)
    return { status: 403, reason: 'browser origins are not allowed' };
  const addresses = new URL(request.url ?? '/', 'http://proxy').searchParams.getAll('address');
  if (addresses.length > 1) return { status: 403, reason: 'more than one address' };
  if (addresses.length === 1 && !namesTarget(addresses[0]!, target)) {
    return { status: 403, reason: `address ${addresses[0]} is not this proxy's database` };
  }
  return undefined;
}

/** Whether `host:port` (IPv6 hosts bracketed or not) names the target. */
function namesTarget(address: string, target: PgWsProxyOptions['target']): boolean {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return false;
  const port = address.slice(colon + 1);
  const wanted = normaliseHost(address.slice(0, colon));
  const configured = normaliseHost(target.host);
  if (!/^\d+$/.test(port) || Number(port) !== target.port) return false;
  if (wanted === configured) return true;
  return LOOPBACK_NAMES.has(wanted) && LOOPBACK_NAMES.has(configured);
}

function normaliseHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://proxy').pathname;
}

function rejectUpgrade(socket: Duplex, status: 403 | 404, reason: string): void {
  const body = `${reason}\n`;
  const statusText = status === 403 ? 'Forbidden' : 'Not Found';
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Pipes one accepted WebSocket to a new TCP connection to the target, both ways, with
 * backpressure; when either side ends or fails the other is closed. Returns a function that
 * tears both down at once; `onEnded` runs once when the pipe is gone.
 */
function pipeToPostgres(
  ws: WebSocket,
  target: PgWsProxyOptions['target'],
  log: (line: string) => void,
  onEnded: () => void,
): () => void {
  const tcp = connect({ host: target.host, port: target.port, noDelay: true });
  let tcpError: Error | undefined;

  tcp.on('data', (chunk: Buffer) => {
    ws.send(chunk, { binary: true }, () => {
      if (tcp.isPaused() && ws.bufferedAmount <= WS_HIGH_WATER_MARK) tcp.resume();
    });
    if (ws.bufferedAmount > WS_HIGH_WATER_MARK) tcp.pause();
  });
  tcp.on('drain', () => ws.resume());
  tcp.on('error', (error) => {
    tcpError = error;
    log(`pg-ws-proxy: database connection failed: ${error.message}`);
  });
  tcp.on('close', () => {
    // 1011 tells the client the server side failed; 1000 is Postgres hanging up normally.
    if (ws.readyState === ws.OPEN) {
      ws.close(tcpError ? 1011 : 1000, tcpError ? 'database connection failed' : 'database closed');
    }
    onEnded();
  });

  ws.binaryType = 'nodebuffer';
  ws.on('message', (data) => {
    if (!tcp.write(data as Buffer)) ws.pause();
  });
  // `end` rather than `destroy` so a final Terminate message still reaches Postgres.
  ws.on('close', () => tcp.end());
  ws.on('error', () => tcp.destroy());

  return () => {
    ws.terminate();
    tcp.destroy();
  };
}

if (import.meta.main) {
  const proxy = await startPgWsProxy({
    port: Number(process.env.PG_WS_PROXY_PORT ?? 8791),
    target: { host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432) },
    log: (line) => console.log(line),
  });
  console.log(
    `pg-ws-proxy: ${proxy.url} → ${process.env.PGHOST ?? '127.0.0.1'}:${process.env.PGPORT ?? 5432}`,
  );
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
