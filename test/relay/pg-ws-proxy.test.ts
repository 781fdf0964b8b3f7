import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { Pool, neonConfig } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startPgWsProxy } from '../../relay/local/pg-ws-proxy.ts';
import type { PgWsProxy } from '../../relay/local/pg-ws-proxy.ts';

// The same settings the Worker uses inside workerd, except that Node needs `ws` as constructor.
// neonConfig is global to the driver, so every pool in this file goes through `proxy`.
const DATABASE_URL = 'postgresql://root@127.0.0.1:5432/test';
let proxy: PgWsProxy;
let proxyPath = '/v1';
neonConfig.webSocketConstructor = WebSocket;
neonConfig.useSecureWebSocket = false;
neonConfig.pipelineTLS = false;
neonConfig.pipelineConnect = false;
neonConfig.wsProxy = (host, port) => `127.0.0.1:${proxy.port}${proxyPath}?address=${host}:${port}`;

const pools: Pool[] = [];
function openPool(connectionString = DATABASE_URL): Pool {
  const pool = new Pool({ connectionString, max: 10 });
  pool.on('error', () => {}); // idle clients killed by a test must not crash the run
  pools.push(pool);
  return pool;
}

/** A plain TCP server standing in for "some other service"; it counts who knocks. */
type Decoy = { server: Server; port: number; connections: Socket[] };
async function startDecoy(): Promise<Decoy> {
  const connections: Socket[] = [];
  const server = createServer((socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('decoy has no port');
  return { server, port: address.port, connections };
}

/** Opens a raw WebSocket to the proxy: resolves with 101 and the open socket, or the refusal status. */
function knock(
  url: string,
  options?: WebSocket.ClientOptions,
): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('unexpected-response', (_request, response) => {
      response.resume();
      socket.terminate();
      resolve({ status: response.statusCode ?? 0 });
    });
    socket.once('error', reject);
  });
}

/**
 * How the driver fails a query whose WebSocket the proxy refused: it rejects with the socket's
 * error event (not an Error), naming the HTTP status — not a timeout or a database error.
 */
function refusedWith(status: number) {
  return { type: 'error', message: `Unexpected server response: ${status}` };
}

function closed(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)));
}

let decoy: Decoy;
let decoyProxy: PgWsProxy;

beforeAll(async () => {
  proxy = await startPgWsProxy({ port: 0, target: { host: '127.0.0.1', port: 5432 } });
  decoy = await startDecoy();
  decoyProxy = await startPgWsProxy({ port: 0, target: { host: '127.0.0.1', port: decoy.port } });
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end().catch(() => {})));
  await proxy?.close();
  await decoyProxy?.close();
  for (const socket of decoy?.connections ?? []) socket.destroy();
  await new Promise((resolve) => decoy?.server.close(resolve));
});

describe('the Worker reaching the local database', () => {
  it('answers a simple query through the proxy', async () => {
    const { rows } = await openPool().query('select 1 as one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('passes parameters and Korean menu names through unchanged', async () => {
    const pool = openPool();
    const { rows } = await pool.query('select $1::text as name, $2::int * 2 as price', [
      '김치찌개 (매운맛)',
      4500,
    ]);
    expect(rows).toEqual([{ name: '김치찌개 (매운맛)', price: 9000 }]);
  });

  it('also accepts `localhost` as the name of the local database', async () => {
    const { rows } = await openPool('postgresql://root@localhost:5432/test').query(
      'select 2 as two',
    );
    expect(rows).toEqual([{ two: 2 }]);
  });

  it('carries a large order both ways without losing bytes', async () => {
    const note = '주문'.repeat(300_000);
    const { rows } = await openPool().query(
      'select length($1::text) as sent, repeat($2::text, 500000) as back',
      [note, '밥'],
    );
    expect(rows[0].sent).toBe(600_000);
    expect(rows[0].back).toBe('밥'.repeat(500_000));
  });

  it('keeps a transaction on one connection from BEGIN to COMMIT', async () => {
    const client = await openPool().connect();
    try {
      await client.query(
        'create temp table pending_orders (id serial primary key, dish text not null)',
      );
      await client.query('begin');
      await client.query('insert into pending_orders (dish) values ($1), ($2)', [
        '비빔밥',
        '불고기',
      ]);
      await client.query('commit');
      await client.query('begin');
      await client.query('insert into pending_orders (dish) values ($1)', ['취소된 주문']);
      await client.query('rollback');
      const { rows } = await client.query('select dish from pending_orders order by id');
      expect(rows.map((row) => row.dish)).toEqual(['비빔밥', '불고기']);
    } finally {
      client.release();
    }
  });

  it('serves several tables at once, each on its own connection', async () => {
    const pool = openPool();
    const clients = await Promise.all(Array.from({ length: 5 }, () => pool.connect()));
    try {
      const results = await Promise.all(
        clients.map((client, table) =>
          client.query('select pg_backend_pid() as pid, $1::int as table_no from pg_sleep(0.05)', [
            table,
          ]),
        ),
      );
      expect(results.map((result) => result.rows[0].table_no)).toEqual([0, 1, 2, 3, 4]);
      expect(new Set(results.map((result) => result.rows[0].pid)).size).toBe(5);
    } finally {
      for (const client of clients) client.release();
    }
  });
});

describe('refusing anything but the local database', () => {
  it('refuses a client asking for another service and never dials it', async () => {
    const elsewhere = `127.0.0.1:${decoy.port}`;
    await expect(
      openPool(`postgresql://root@${elsewhere}/test`).query('select 1'),
    ).rejects.toMatchObject(refusedWith(403));
    expect((await knock(`${proxy.url}?address=${elsewhere}`)).status).toBe(403);
    expect(decoy.connections).toHaveLength(0);
  });

  it('refuses a remote address before opening any connection', async () => {
    const before = decoy.connections.length;
    expect((await knock(`${decoyProxy.url}?address=10.0.0.1:${decoy.port}`)).status).toBe(403);
    expect((await knock(`${decoyProxy.url}?address=127.0.0.1:6379`)).status).toBe(403);
    expect(
      (await knock(`${decoyProxy.url}?address=127.0.0.1:${decoy.port}&address=10.0.0.1:5432`))
        .status,
    ).toBe(403);
    expect(decoy.connections).toHaveLength(before);
  });

  it('does dial its own target when the address matches (so the refusals above mean something)', async () => {
    const before = decoy.connections.length;
    const { status, socket } = await knock(`${decoyProxy.url}?address=127.0.0.1:${decoy.port}`);
    expect(status).toBe(101);
    await expect.poll(() => decoy.connections.length).toBe(before + 1);
    socket?.close();
  });

  it('refuses a connection string naming another database server', async () => {
    await expect(
      openPool('postgresql://root@10.0.0.1:5432/test').query('select 1'),
    ).rejects.toMatchObject(refusedWith(403));
  });

  it('answers 404 on any path but /v1 and /v2', async () => {
    const base = `ws://127.0.0.1:${proxy.port}`;
    expect((await knock(`${base}/v3?address=127.0.0.1:5432`)).status).toBe(404);
    expect((await knock(`${base}/`)).status).toBe(404);
    const response = await fetch(`http://127.0.0.1:${proxy.port}/anything`);
    expect(response.status).toBe(404);
    await response.body?.cancel();
  });

  it('fails a query sent to a wrong path', async () => {
    proxyPath = '/v3';
    try {
      await expect(openPool().query('select 1')).rejects.toMatchObject(refusedWith(404));
    } finally {
      proxyPath = '/v1';
    }
  });

  it('refuses requests coming from a browser page', async () => {
    const { status, socket } = await knock(`${proxy.url}?address=127.0.0.1:5432`, {
      origin: 'https://menu.example',
    });
    socket?.terminate();
    expect(status).toBe(403);
  });
});

describe('shutting down', () => {
  it('closes the client when the database hangs up', async () => {
    const before = decoy.connections.length;
    const { socket } = await knock(decoyProxy.url);
    await expect.poll(() => decoy.connections.length).toBe(before + 1);
    const code = closed(socket!);
    decoy.connections.at(-1)!.end();
    expect(await code).toBe(1000);
  });

  it('drops the database connection when the client goes away', async () => {
    const before = decoy.connections.length;
    const { socket } = await knock(decoyProxy.url);
    await expect.poll(() => decoy.connections.length).toBe(before + 1);
    const database = decoy.connections.at(-1)!;
    const ended = new Promise((resolve) => database.once('end', resolve));
    socket!.terminate();
    await ended;
  });

  it('terminates live connections and stops listening on close()', async () => {
    const own = await startPgWsProxy({ port: 0, target: { host: '127.0.0.1', port: decoy.port } });
    const before = decoy.connections.length;
    const { socket } = await knock(own.url);
    await expect.poll(() => decoy.connections.length).toBe(before + 1);
    const database = decoy.connections.at(-1)!;
    const databaseClosed = new Promise((resolve) => database.once('close', resolve));
    const code = closed(socket!);
    await own.close();
    expect(await code).toBe(1006);
    await databaseClosed;
    await expect(knock(own.url)).rejects.toThrow(/ECONNREFUSED/);
  });
});
