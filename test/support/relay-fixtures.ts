/**
 * Fixtures for the relay's tests against the real broker and database: random namespaces and
 * their cleanup, a tap on the events exchange, a stand-in for the Worker's internal endpoint, a
 * stand-in for its image endpoints (an object store in memory), a broker proxy that can be cut
 * or stalled, `rabbitmqctl` helpers, outbox rows, a spawned relay process and metric samples.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { AMQPClient, type AMQPChannel, type AMQPMessage } from '@cloudamqp/amqp-client';
import type pg from 'pg';
import { pino, type Logger } from 'pino';
import { topologyNames } from '../../relay/src/bus.ts';
import { MAX_PARTITIONS } from '../../relay/src/config.ts';
import { INTERNAL_IMAGE_PATH_PREFIX } from '../../worker/contracts/image-keys.ts';
import {
  RELAY_SIGNATURE_HEADER,
  RELAY_SIGNATURE_WINDOW_MS,
  RELAY_TIMESTAMP_HEADER,
} from '../../worker/contracts/relay-signature.ts';
import { isolatedEnv } from './child-env.ts';
import { testServices } from './services.ts';

const run = promisify(execFile);

/** A namespace of its own for one test: `table_order_t_<random>`. */
export function randomNamespace(): string {
  return `table_order_t_${randomBytes(5).toString('hex')}`;
}

/** A throwaway delivery secret. */
export function randomSecret(): string {
  return `relay-test-secret-${randomBytes(8).toString('hex')}`;
}

/** A test's own connection to the broker, for tapping, counting and cleaning up. */
export async function connectBroker(): Promise<{ channel: AMQPChannel; close(): Promise<void> }> {
  const client = new AMQPClient(testServices().amqpUrl);
  const connection = await client.connect();
  const channel = await connection.channel();
  return { channel, close: () => connection.close().catch(() => {}) };
}

/**
 * Deletes the exchanges and queues of the given namespaces, whatever their partition count
 * (missing ones are fine).
 */
export async function deleteTopology(namespaces: string[]): Promise<void> {
  const broker = await connectBroker();
  try {
    for (const namespace of namespaces) {
      const names = topologyNames(namespace);
      for (let partition = 0; partition < MAX_PARTITIONS; partition += 1) {
        await broker.channel.queueDelete(names.hubPartition(partition));
      }
      await broker.channel.exchangeDelete(names.hubDelivery);
      await broker.channel.queueDelete(names.hubDeliveryDead);
      await broker.channel.queueDelete(names.imageJobs);
      await broker.channel.queueDelete(names.imageJobsDead);
      await broker.channel.exchangeDelete(names.events);
      await broker.channel.exchangeDelete(names.deadEvents);
    }
  } finally {
    await broker.close();
  }
}

/** Messages in a queue, ready to be delivered (unacked ones are not counted). */
export async function readyMessages(channel: AMQPChannel, queue: string): Promise<number> {
  const { messageCount } = await channel.queueDeclare(queue, { passive: true });
  return messageCount;
}

/** Ready messages in a namespace's delivery partition queues together. */
export async function readyInPartitions(
  channel: AMQPChannel,
  namespace: string,
  partitions: number,
): Promise<number> {
  let ready = 0;
  for (let partition = 0; partition < partitions; partition += 1) {
    ready += await readyMessages(channel, topologyNames(namespace).hubPartition(partition));
  }
  return ready;
}

export interface TappedMessage {
  routingKey: string;
  messageId: string | undefined;
  contentType: string | undefined;
  deliveryMode: number | undefined;
  body: string;
  envelope: { id: number; store_id: string } & Record<string, unknown>;
}

/** A private queue bound to `<ns>.events` with `#`: every event the relay publishes lands here. */
export async function tapEvents(channel: AMQPChannel, namespace: string) {
  const { events } = topologyNames(namespace);
  await channel.exchangeDeclare(events, 'topic', { durable: true });
  const queue = await channel.queueDeclare('', { exclusive: true, autoDelete: true });
  await channel.queueBind(queue.name, events, '#');
  const messages: TappedMessage[] = [];
  await channel.basicConsume(queue.name, { noAck: true }, (message: AMQPMessage) => {
    const body = message.bodyString() ?? '';
    messages.push({
      routingKey: message.routingKey,
      messageId: message.properties.messageId,
      contentType: message.properties.contentType,
      deliveryMode: message.properties.deliveryMode,
      body,
      envelope: JSON.parse(body),
    });
  });
  return {
    messages,
    /** Tapped events of one store, in arrival order. */
    of: (storeId: string) => messages.filter((m) => m.envelope.store_id === storeId),
  };
}

/** One request the stand-in received (POSTs to `/internal/events` and the image endpoints). */
export interface ReceivedPost {
  method: string;
  headers: IncomingHttpHeaders;
  path: string;
  /** The body as text (events, JSON reports). */
  body: string;
  /** The body byte for byte (stored variants). */
  bytes: Buffer;
  /** When the stand-in had read it (`Date.now()`). */
  at: number;
}

/**
 * How the stand-in answers one request: a status, optionally after a delay. A 2xx lets the route
 * answer as the Worker would (an image GET serves the stored object or 404s); anything else
 * answers that status with an error envelope.
 */
export type Answer = number | { status: number; delayMs: number };

/**
 * A stand-in for the Worker's internal endpoints: `POST /internal/events` (200 `{"stored":true}`),
 * `GET`/`PUT /internal/images/<key>` over an in-memory object store (`objects`) and
 * `POST /internal/menus/<id>/image-ready|image-failed` (200 `{"updated":true}`). It records every
 * request and answers what the test tells it (`answer`).
 */
export async function startWorkerStandIn() {
  const received: ReceivedPost[] = [];
  const objects = new Map<string, { bytes: Buffer; contentType: string }>();
  let answer: (post: ReceivedPost, index: number) => Answer = () => 200;
  const respond = (post: ReceivedPost): { status: number; type: string; body: Buffer | string } => {
    const json = 'application/json';
    if (post.path.startsWith(INTERNAL_IMAGE_PATH_PREFIX)) {
      const key = decodeURIComponent(post.path.slice(INTERNAL_IMAGE_PATH_PREFIX.length));
      if (post.method === 'PUT') {
        objects.set(key, { bytes: post.bytes, contentType: String(post.headers['content-type']) });
        return { status: 201, type: json, body: JSON.stringify({ key }) };
      }
      const object = objects.get(key);
      if (object === undefined) {
        return {
          status: 404,
          type: json,
          body: '{"error":{"code":"NOT_FOUND","message":"no such object"}}',
        };
      }
      return { status: 200, type: object.contentType, body: object.bytes };
    }
    if (/^\/internal\/menus\/[^/]+\/image-(ready|failed)$/.test(post.path)) {
      return { status: 200, type: json, body: '{"updated":true}' };
    }
    return { status: 200, type: json, body: '{"stored":true}' };
  };
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const post = {
        method: req.method ?? 'GET',
        headers: req.headers,
        path: req.url ?? '',
        body: bytes.toString(),
        bytes,
        at: Date.now(),
      };
      received.push(post);
      const decided = answer(post, received.length - 1);
      const { status, delayMs } =
        typeof decided === 'number' ? { status: decided, delayMs: 0 } : decided;
      setTimeout(() => {
        if (status < 300) {
          const natural = respond(post);
          res.writeHead(natural.status, { 'content-type': natural.type }).end(natural.body);
          return;
        }
        const body = '{"error":{"code":"INTERNAL","message":"stand-in"}}';
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      }, delayMs);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    /** The image store: originals the test put there, variants the relay stored. */
    objects,
    /** POSTs carrying the event with this id. */
    postsOf: (id: number) => received.filter((post) => JSON.parse(post.body).id === id),
    /** Requests with this method whose path ends with `suffix`. */
    requests: (method: string, suffix = '') =>
      received.filter((post) => post.method === method && post.path.endsWith(suffix)),
    answer(decide: (post: ReceivedPost, index: number) => Answer) {
      answer = decide;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** The relay's signature headers of a received request, if its timestamp is in the window. */
function signatureOf(request: ReceivedPost): { timestamp: string; signature: string } | undefined {
  const timestamp = String(request.headers[RELAY_TIMESTAMP_HEADER] ?? '');
  const signature = String(request.headers[RELAY_SIGNATURE_HEADER] ?? '');
  const fresh = Math.abs(Date.now() - Number(timestamp)) <= RELAY_SIGNATURE_WINDOW_MS;
  return /^\d+$/.test(timestamp) && fresh ? { timestamp, signature } : undefined;
}

/** Whether `given` is `expected`, compared in constant time. */
function sameSignature(given: string, expected: string): boolean {
  const [a, b] = [Buffer.from(given), Buffer.from(expected)];
  return a.length === b.length && timingSafeEqual(a, b);
}

/*
 * The two checks below are an independent copy of the relay-signature contract, written with
 * node:crypto rather than with the contract's WebCrypto helpers, so a mistake there cannot hide.
 */

/**
 * Checks the signature of a call to an image endpoint the way the Worker does: HMAC-SHA256 of
 * `${timestamp}.${METHOD} ${path}.${sha256 hex of the body}`.
 */
export function requestSignatureIsValid(secret: string, request: ReceivedPost): boolean {
  const signed = signatureOf(request);
  if (signed === undefined) return false;
  const { timestamp, signature } = signed;
  const digest = createHash('sha256').update(request.bytes).digest('hex');
  const message = `${timestamp}.${request.method} ${request.path}.${digest}`;
  return sameSignature(
    signature,
    `v1=${createHmac('sha256', secret).update(message).digest('hex')}`,
  );
}

/** Checks the signature of an event delivery the way the Worker does: `${timestamp}.${body}`. */
export function signatureIsValid(secret: string, post: ReceivedPost): boolean {
  const signed = signatureOf(post);
  if (signed === undefined) return false;
  const message = `${signed.timestamp}.${post.body}`;
  return sameSignature(
    signed.signature,
    `v1=${createHmac('sha256', secret).update(message).digest('hex')}`,
  );
}

/** Inserts `count` events of one store in one statement; returns their ids in order. */
export async function insertEvents(
  pool: pg.Pool,
  storeId: string,
  count: number,
  type = 'menu.updated',
): Promise<number[]> {
  const { rows } = await pool.query<{ id: string }>(
    `insert into outbox (store_id, type, payload)
     select $1, $2, jsonb_build_object('sequence', n, 'menu_id', gen_random_uuid())
     from generate_series(1, $3::int) as n
     returning id`,
    [storeId, type, count],
  );
  return rows.map((row) => Number(row.id)).sort((a, b) => a - b);
}

/** The outbox rows of one store, by id. */
export async function outboxOf(pool: pg.Pool, storeId: string) {
  const { rows } = await pool.query<{
    id: string;
    published_at: Date | null;
    attempts: number;
    last_error: string | null;
    created_at: Date;
  }>(
    'select id, published_at, attempts, last_error, created_at from outbox where store_id = $1 order by id',
    [storeId],
  );
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

/** A pino logger whose JSON lines the test can read. */
export function capturedLogger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines: () => lines };
}

/**
 * A TCP proxy in front of the broker. `cut()` drops every connection and refuses new ones (the
 * broker is unreachable); `restore()` listens again on the same port. `stall()` is the silent
 * kind of failure: every connection stays open but nothing crosses it any more, not even a close,
 * and new connections are accepted into the same silence; `resume()` lets new connections through
 * again (the stalled ones stay silent, as after a dropped route).
 */
export async function startBrokerProxy() {
  const target = new URL(testServices().amqpUrl);
  const sockets = new Set<Socket>();
  /** Each open, forwarding connection's way to fall silent. */
  const silencers = new Set<() => void>();
  let stalled = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const server = createTcpServer((client) => {
    track(client);
    if (stalled) return; // accepted, and then nothing
    const upstream = connect(Number(target.port || 5672), target.hostname);
    track(upstream);
    client.pipe(upstream).pipe(client);
    const closeUpstream = () => upstream.destroy();
    const closeClient = () => client.destroy();
    client.on('close', closeUpstream);
    upstream.on('close', closeClient);
    const silence = () => {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.off('close', closeUpstream);
      upstream.off('close', closeClient);
    };
    silencers.add(silence);
    client.on('close', () => silencers.delete(silence));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = new URL(target);
  url.port = String(port);
  return {
    url: url.toString(),
    async cut() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) {
        server.close();
        await once(server, 'close');
      }
    },
    async restore() {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    stall() {
      stalled = true;
      for (const silence of silencers) silence();
      silencers.clear();
    },
    resume() {
      stalled = false;
    },
    close() {
      return this.cut();
    },
  };
}

/**
 * One column of `rabbitmqctl list_connections` for every connection whose client-provided name
 * contains `nameContains`.
 */
async function brokerConnectionsColumn(nameContains: string, column: string): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', [
    ...['list_connections', column, 'client_properties', '-q', '--no-table-headers'],
  ]);
  return stdout
    .split('\n')
    .filter((line) => line.includes(nameContains))
    .map((line) => line.split('\t')[0]!);
}

/** Closes every broker connection whose client-provided name contains `nameContains`. */
export async function closeBrokerConnections(nameContains: string): Promise<number> {
  const pids = await brokerConnectionsColumn(nameContains, 'pid');
  for (const pid of pids) await run('rabbitmqctl', ['close_connection', pid, 'closed by a test']);
  return pids.length;
}

/** The heartbeat (seconds, 0 = none) the broker negotiated with each matching connection. */
export async function brokerHeartbeats(nameContains: string): Promise<number[]> {
  return (await brokerConnectionsColumn(nameContains, 'timeout')).map(Number);
}

/**
 * The consumers of each of a namespace's delivery partition queues, as `rabbitmqctl
 * list_consumers` shows them: `active` delivers (a single active consumer: at most 1), `waiting`
 * stand by to take over.
 */
export async function partitionConsumers(
  namespace: string,
  partitions: number,
): Promise<{ active: number; waiting: number }[]> {
  const { stdout } = await run('rabbitmqctl', [
    ...['list_consumers', 'queue_name', 'active', '-q', '--no-table-headers'],
  ]);
  const names = topologyNames(namespace);
  const consumers = stdout.split('\n').map((line) => line.split('\t'));
  return Array.from({ length: partitions }, (_, partition) => {
    const of = consumers.filter(([queue]) => queue === names.hubPartition(partition));
    const active = of.filter(([, isActive]) => isActive === 'true').length;
    return { active, waiting: of.length - active };
  });
}

/** A relay started as its own process: `node relay/src/index.ts`. */
export interface SpawnedRelay {
  process: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** Spawns the relay with only the variables given (and PATH, HOME). */
export function spawnRelay(env: Record<string, string>): SpawnedRelay {
  const child = spawn(process.execPath, ['relay/src/index.ts'], {
    env: isolatedEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { process: child, output: () => output, exited };
}

/** Ends a spawned relay that is still running (SIGKILL) and waits for it; after a test. */
export async function killRelay(relay: SpawnedRelay): Promise<void> {
  if (relay.process.exitCode !== null || relay.process.signalCode !== null) return;
  relay.process.kill('SIGKILL');
  await relay.exited;
}

/** The port a spawned relay listens on (`RELAY_HTTP_PORT=0`), from its "relay started" line. */
export function relayPortOf(relay: SpawnedRelay): Promise<number> {
  const stdout = relay.process.stdout!;
  return new Promise((resolve, reject) => {
    const check = () => {
      // Whole lines only: the last one may still be on its way.
      const started = relay
        .output()
        .split('\n')
        .slice(0, -1)
        .find((line) => line.includes('"msg":"relay started"'));
      if (started === undefined) return;
      settle();
      resolve((JSON.parse(started) as { port: number }).port);
    };
    const exited = () => {
      settle();
      reject(new Error(`the relay exited before it started:\n${relay.output()}`));
    };
    const settle = () => {
      stdout.off('data', check);
      relay.process.off('exit', exited);
    };
    stdout.on('data', check);
    relay.process.once('exit', exited);
    check();
  });
}

/** A metric's sample as the relay exposes it; `suffix` picks a histogram's `_count` or `_sum`. */
export async function sampleOf(
  metric: { get(): Promise<{ name: string; values: { value: number; metricName?: string }[] }> },
  suffix: '' | '_count' | '_sum' = '',
): Promise<number> {
  const { name, values } = await metric.get();
  const sample = values.find((value) => (value.metricName ?? name) === `${name}${suffix}`);
  if (sample === undefined) throw new Error(`${name} has no sample ${name}${suffix}`);
  return sample.value;
}
