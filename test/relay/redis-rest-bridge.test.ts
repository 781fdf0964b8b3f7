import { createHash, randomUUID } from 'node:crypto';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisRestBridge } from '../../relay/local/redis-rest-bridge.ts';
import type { RedisRestBridge } from '../../relay/local/redis-rest-bridge.ts';
import { testServices } from '../support/services.ts';

const TOKEN = 'bridge-test-token';
const KOREAN = '김치찌개 2인분, 덜 맵게 🌶️';
const { redisUrl } = testServices();

let bridge: RedisRestBridge;
/** Talks to Redis directly, behind the bridge's back: seeding bytes, checking, cleaning up. */
let direct: IORedis;
/** Every key of a test starts with this, so parallel runs never share data. */
let prefix: string;

/** The real Upstash client, as the Worker builds it (base64 responses by default). */
function upstash(options: { responseEncoding?: false } = {}): UpstashRedis {
  return new UpstashRedis({ url: bridge.url, token: TOKEN, enableTelemetry: false, ...options });
}

/** A raw REST call, to see exactly what goes over the wire. */
async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${bridge.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

beforeAll(async () => {
  bridge = await startRedisRestBridge({ port: 0, redisUrl, token: TOKEN });
  direct = new IORedis(redisUrl);
});

afterAll(async () => {
  direct?.disconnect();
  await bridge?.close();
});

beforeEach(() => {
  prefix = `test:bridge:${randomUUID()}:`;
});

afterEach(async () => {
  const keys = await direct.keys(`${prefix}*`);
  if (keys.length > 0) await direct.del(...keys);
});

describe('storing and reading values through the Upstash client', () => {
  it('reads back Korean text exactly as it was written', async () => {
    const redis = upstash();
    expect(await redis.set(`${prefix}note`, KOREAN)).toBe('OK');
    expect(await redis.get(`${prefix}note`)).toBe(KOREAN);
    expect(await direct.get(`${prefix}note`)).toBe(KOREAN);
  });

  it('reads back Korean text with base64 response encoding turned off', async () => {
    const redis = upstash({ responseEncoding: false });
    await redis.set(`${prefix}note`, KOREAN);
    expect(await redis.get(`${prefix}note`)).toBe(KOREAN);
    expect(await redis.lrange(`${prefix}missing`, 0, -1)).toEqual([]);
  });

  it('stores an order as JSON and gets the same object back', async () => {
    const redis = upstash();
    const order = { table: 7, items: [{ name: '비빔밥', qty: 2 }], note: null };
    await redis.set(`${prefix}order`, order);
    expect(await redis.get(`${prefix}order`)).toEqual(order);
    expect(JSON.parse((await direct.get(`${prefix}order`)) ?? '')).toEqual(order);
  });

  it('counts with INCR and answers numbers as numbers', async () => {
    const redis = upstash();
    expect(await redis.incr(`${prefix}count`)).toBe(1);
    expect(await redis.incrby(`${prefix}count`, 41)).toBe(42);
    expect(await redis.get(`${prefix}count`)).toBe(42);
  });

  it('answers null for a key that does not exist', async () => {
    expect(await upstash().get(`${prefix}nothing`)).toBeNull();
  });

  it('returns lists and hashes', async () => {
    const redis = upstash();
    await redis.rpush(`${prefix}queue`, '첫째', 'second', '3');
    expect(await redis.lrange(`${prefix}queue`, 0, -1)).toEqual(['첫째', 'second', 3]);
    await redis.hset(`${prefix}table`, { status: '착석', guests: 4 });
    expect(await redis.hgetall(`${prefix}table`)).toEqual({ status: '착석', guests: 4 });
    expect(await redis.hmget(`${prefix}table`, 'status', 'nope')).toEqual({
      status: '착석',
      nope: null,
    });
  });

  it('decodes status replies other than OK, such as PONG and a key type', async () => {
    const redis = upstash();
    await redis.set(`${prefix}k`, 'v');
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.type(`${prefix}k`)).toBe('string');
  });

  it('throws when Redis rejects the command', async () => {
    const redis = upstash();
    await redis.set(`${prefix}name`, 'not a number');
    await expect(redis.incr(`${prefix}name`)).rejects.toThrow(/ERR value is not an integer/);
  });
});

describe('what goes over the wire', () => {
  it('base64-encodes strings, recursively, but leaves OK, numbers and nil alone', async () => {
    const headers = { 'upstash-encoding': 'base64' };
    expect(await post('/', ['SET', `${prefix}k`, KOREAN], headers)).toEqual({
      status: 200,
      body: { result: 'OK' },
    });
    await post('/', ['RPUSH', `${prefix}list`, 'a', 7], headers);
    const reply = await post(
      '/',
      ['EVAL', 'return {KEYS[1], 5, false, {ARGV[1]}}', 1, 'x', KOREAN],
      headers,
    );
    expect(reply).toEqual({
      status: 200,
      body: { result: [base64('x'), 5, null, [base64(KOREAN)]] },
    });
    expect((await post('/', ['GET', `${prefix}k`], headers)).body).toEqual({
      result: base64(KOREAN),
    });
    expect((await post('/', ['LRANGE', `${prefix}list`, 0, -1], headers)).body).toEqual({
      result: [base64('a'), base64('7')],
    });
  });

  it('answers plain UTF-8 without the encoding header', async () => {
    await post('/', ['SET', `${prefix}k`, KOREAN]);
    expect((await post('/', ['GET', `${prefix}k`])).body).toEqual({ result: KOREAN });
  });

  it('keeps binary values intact', async () => {
    await direct.set(`${prefix}bytes`, Buffer.from([0xff, 0x00, 0xfe]));
    const reply = await post('/', ['GET', `${prefix}bytes`], { 'upstash-encoding': 'base64' });
    expect(reply.body).toEqual({ result: '/wD+' });
  });

  it('answers a failing command with 400 and the Redis error', async () => {
    await post('/', ['SET', `${prefix}k`, 'text']);
    const reply = await post('/', ['INCR', `${prefix}k`]);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: expect.stringMatching(/^ERR value is not an integer/) });
  });
});

describe('pipelines', () => {
  it('runs several commands in one request', async () => {
    const pipeline = upstash().pipeline();
    pipeline.set(`${prefix}dish`, { name: '불고기' });
    pipeline.incr(`${prefix}orders`);
    pipeline.get(`${prefix}dish`);
    pipeline.get(`${prefix}nothing`);
    expect(await pipeline.exec()).toEqual(['OK', 1, { name: '불고기' }, null]);
  });

  it('reports a failing command without failing the others', async () => {
    const reply = await post('/pipeline', [
      ['SET', `${prefix}k`, 'text'],
      ['INCR', `${prefix}k`],
      ['GET', `${prefix}k`],
    ]);
    expect(reply).toEqual({
      status: 200,
      body: [
        { result: 'OK' },
        { error: expect.stringMatching(/^ERR value is not an integer/) },
        { result: 'text' },
      ],
    });
    const pipeline = upstash().pipeline();
    pipeline.incr(`${prefix}k`);
    await expect(pipeline.exec()).rejects.toThrow(/Command 1 \[ incr \] failed: ERR/);
  });
});

describe('transactions (multi-exec)', () => {
  it('runs the commands and answers every result', async () => {
    const tx = upstash().multi();
    tx.set(`${prefix}table`, '7번');
    tx.incr(`${prefix}guests`);
    tx.get(`${prefix}table`);
    expect(await tx.exec()).toEqual(['OK', 1, '7번']);
  });

  it('lets no other request run in the middle of a transaction', async () => {
    const redis = upstash();
    const counter = `${prefix}counter`;
    const others = Array.from({ length: 30 }, () => redis.incr(counter));
    const tx = redis.multi();
    for (let i = 0; i < 5; i++) tx.incr(counter);
    const [own] = await Promise.all([tx.exec<number[]>(), ...others]);
    const first = own[0] ?? Number.NaN;
    expect(own).toEqual([first, first + 1, first + 2, first + 3, first + 4]);
    expect(await redis.get(counter)).toBe(35);
  });

  it('applies nothing when one command cannot even be queued', async () => {
    const reply = await post('/multi-exec', [['SET', `${prefix}k`, 'v'], ['NO-SUCH-COMMAND']]);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: expect.stringMatching(/^EXECABORT .*unknown command/) });
    expect(await direct.exists(`${prefix}k`)).toBe(0);
  });
});

describe('Lua scripts', () => {
  const script = 'return {KEYS[1], ARGV[1], redis.call("INCR", KEYS[1])}';

  it('runs EVAL', async () => {
    expect(await upstash().eval(script, [`${prefix}n`], ['손님'])).toEqual([
      `${prefix}n`,
      '손님',
      1,
    ]);
  });

  it('runs EVALSHA after SCRIPT LOAD', async () => {
    const redis = upstash();
    const sha = await redis.scriptLoad(script);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await redis.evalsha(sha, [`${prefix}n`], ['a'])).toEqual([`${prefix}n`, 'a', 1]);
  });

  it("runs scripts carrying Upstash's allow-key-locking flag, also by their own hash", async () => {
    const redis = upstash();
    const flagged = `#!lua flags=allow-key-locking\n${script}`;
    expect(await redis.eval(flagged, [`${prefix}n`], ['x'])).toEqual([`${prefix}n`, 'x', 1]);
    const ownHash = createHash('sha1').update(flagged).digest('hex');
    expect(await redis.evalsha(ownHash, [`${prefix}n`], ['y'])).toEqual([`${prefix}n`, 'y', 2]);
  });

  it('keeps the other script flags', async () => {
    const readOnly =
      '#!lua flags=allow-key-locking,no-writes\nreturn redis.call("SET", KEYS[1], 1)';
    await expect(upstash().eval(readOnly, [`${prefix}n`], [])).rejects.toThrow(/Write commands/);
    expect(await direct.exists(`${prefix}n`)).toBe(0);
  });

  it('reports NOSCRIPT for an unknown script hash', async () => {
    await expect(upstash().evalsha('0'.repeat(40), [`${prefix}n`], [])).rejects.toThrow(/NOSCRIPT/);
  });
});

describe('rate limiting with @upstash/ratelimit', () => {
  it('lets a guest order three times in ten seconds, then blocks, and other guests are unaffected', async () => {
    const ratelimit = new Ratelimit({
      redis: upstash(),
      limiter: Ratelimit.slidingWindow(3, '10 s'),
      prefix: `${prefix}ratelimit`,
    });
    const guest = `guest-${randomUUID()}`;
    const allowed = [];
    for (let i = 0; i < 4; i++) allowed.push((await ratelimit.limit(guest)).success);
    expect(allowed).toEqual([true, true, true, false]);
    expect((await ratelimit.limit(`other-${guest}`)).success).toBe(true);
    expect(await direct.keys(`${prefix}ratelimit*`)).not.toHaveLength(0);
  });
});

describe('two stacks on one Redis, each bridge with its own key prefix', () => {
  /** Two bridges as two stacks start them, and an Upstash client for each. */
  async function twoStacks(run: (ours: UpstashRedis, theirs: UpstashRedis) => Promise<void>) {
    const bridges = await Promise.all(
      ['ours:', 'theirs:'].map((stack) =>
        startRedisRestBridge({ redisUrl, token: TOKEN, keyPrefix: `${prefix}${stack}` }),
      ),
    );
    try {
      const [ours, theirs] = bridges.map(
        ({ url }) => new UpstashRedis({ url, token: TOKEN, enableTelemetry: false }),
      );
      await run(ours!, theirs!);
    } finally {
      await Promise.all(bridges.map((each) => each.close()));
    }
  }
  // The demo store id is the same in every stack, and so are the cache keys that name it.
  const menuKey = 'menu:categories:demo-store';

  it("never reads the other stack's values, one command at a time", async () => {
    await twoStacks(async (ours, theirs) => {
      await ours.set(menuKey, { dishes: ['비빔밥'] }, { ex: 60, nx: true });
      expect(await theirs.get(menuKey)).toBeNull();
      expect(await theirs.set(menuKey, { dishes: ['냉면'] }, { ex: 60, nx: true })).toBe('OK');
      expect(await ours.get(menuKey)).toEqual({ dishes: ['비빔밥'] });
      expect(await theirs.del(menuKey, 'history:table:t1')).toBe(1);
      expect(await ours.get(menuKey)).toEqual({ dishes: ['비빔밥'] });
      expect(JSON.parse((await direct.get(`${prefix}ours:${menuKey}`)) ?? '')).toEqual({
        dishes: ['비빔밥'],
      });
    });
  });

  it('keeps pipelines and transactions apart', async () => {
    await twoStacks(async (ours, theirs) => {
      const version = 'history:table:t1';
      expect(await ours.pipeline().incr(version).expire(version, 60).exec()).toEqual([1, 1]);
      expect(await ours.multi().incr(version).get(version).exec()).toEqual([2, 2]);
      expect(await theirs.pipeline().get(version).incr(version).exec()).toEqual([null, 1]);
      expect(await theirs.multi().get(version).exec()).toEqual([1]);
      expect(await direct.get(`${prefix}ours:${version}`)).toBe('2');
    });
  });

  it("keeps each stack's rate limits (Lua scripts by EVALSHA) to itself", async () => {
    await twoStacks(async (ours, theirs) => {
      const limiter = (redis: UpstashRedis) =>
        new Ratelimit({
          redis,
          limiter: Ratelimit.slidingWindow(2, '60 s'),
          prefix: 'auth:login-failures:account',
          ephemeralCache: false,
          analytics: false,
        });
      const [oursLimit, theirsLimit] = [limiter(ours), limiter(theirs)];
      // The first call may load the script (EVAL after NOSCRIPT); the later ones run EVALSHA.
      const spent = [];
      for (let i = 0; i < 3; i++) spent.push((await oursLimit.limit('table:demo:1')).success);
      expect(spent).toEqual([true, true, false]);
      expect((await theirsLimit.getRemaining('table:demo:1')).remaining).toBe(2);
      expect((await theirsLimit.limit('table:demo:1')).success).toBe(true);
      expect(
        await direct.keys(`${prefix}ours:auth:login-failures:account:table:demo:1:*`),
      ).toHaveLength(1);
    });
  });

  // (FLUSHDB is refused alike; not tried here, where a regression would wipe the shared Redis.)
  it('refuses commands that reach across the whole keyspace', async () => {
    await twoStacks(async (ours) => {
      await expect(ours.keys('*')).rejects.toThrow(/not supported with a key prefix/);
      await expect(ours.scan(0)).rejects.toThrow(/not supported with a key prefix/);
      expect(await ours.ping()).toBe('PONG');
    });
  });
});

describe('refused requests', () => {
  it('answers 401 for a wrong or missing token', async () => {
    const wrong = await fetch(bridge.url, {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-token' },
      body: '["PING"]',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'Unauthorized' });
    const missing = await fetch(bridge.url, { method: 'POST', body: '["PING"]' });
    expect(missing.status).toBe(401);
    await missing.body?.cancel();
  });

  it('answers 400 for a body that is not JSON or not a command', async () => {
    for (const body of ['{"SET": oops', '{"command":"PING"}', '[]', '[1, "x"]', '[["GET", {}]]']) {
      const reply = await post('/', body);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ error: expect.any(String) });
    }
    expect((await post('/pipeline', '[["PING"], "PING"]')).status).toBe(400);
    expect((await post('/multi-exec', '[]')).status).toBe(400);
  });

  it('refuses commands that would change the shared connection', async () => {
    const reply = await post('/', ['SELECT', 1]);
    expect(reply).toEqual({ status: 400, body: { error: expect.stringMatching(/not supported/) } });
  });

  it('answers 404 for unknown paths and 405 for anything but POST', async () => {
    expect((await post('/nope', ['PING'])).status).toBe(404);
    const get = await fetch(bridge.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(405);
    await get.body?.cancel();
  });
});

describe('when Redis is down', () => {
  it('answers quickly with an error instead of hanging', async () => {
    const dead = await startRedisRestBridge({ redisUrl: 'redis://127.0.0.1:1', token: TOKEN });
    try {
      for (const [path, body] of [
        ['/', '["PING"]'],
        ['/pipeline', '[["PING"]]'],
        ['/multi-exec', '[["PING"]]'],
      ]) {
        const started = Date.now();
        const response = await fetch(`${dead.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}` },
          body,
          signal: AbortSignal.timeout(5_000),
        });
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({ error: expect.any(String) });
        expect(Date.now() - started).toBeLessThan(2_000);
      }
      const client = new UpstashRedis({ url: dead.url, token: TOKEN, enableTelemetry: false });
      await expect(client.get('anything')).rejects.toThrow(/unavailable/);
    } finally {
      await dead.close();
    }
  });
});
