import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import {
  api,
  type ApiResponse,
  newStore,
  newSuperAdmin,
  newTable,
  PASSWORD,
  unique,
  withDb,
} from './support/fixtures.ts';
import { callWith, payloadOf, probe, randomIp } from './support/tokens.ts';

const TABLE_LOGIN = '/api/customer/auth/login';
const ADMIN_LOGIN = '/api/admin/auth/login';
const SUPER_LOGIN = '/api/superadmin/auth/login';
const SIXTEEN_HOURS = 16 * 3600;

/** A login from `ip` (every test that may fail a login passes its own, see support/tokens). */
function login(path: string, body: unknown, ip: string) {
  return api('POST', path, { body, headers: { 'cf-connecting-ip': ip } });
}

/**
 * The three kinds of account, each able to say what its login body is with a given password:
 * the throttling rules are the same for all of them.
 */
const accounts = {
  table: async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    return {
      path: TABLE_LOGIN,
      body: (password: string) => ({
        store_id: store.id,
        table_number: table.tableNumber,
        password,
        device_id: table.device,
      }),
    };
  },
  'store admin': async () => {
    const store = await newStore();
    return {
      path: ADMIN_LOGIN,
      body: (password: string) => ({
        store_id: store.id,
        username: store.admin.username,
        password,
      }),
    };
  },
  'super admin': async () => {
    const admin = await newSuperAdmin();
    return {
      path: SUPER_LOGIN,
      body: (password: string) => ({ username: admin.username, password }),
    };
  },
};

/** A refusal of the login throttle: 429 RATE_LIMITED, retry after at most `maxSeconds`. */
function expectThrottled(res: ApiResponse, maxSeconds: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body.error.code).toBe('RATE_LIMITED');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  expect(res.body.error.details).toEqual({ retry_after: retryAfter });
}

async function setActive(adminId: string, isActive: boolean) {
  await withDb((db) =>
    db.update(schema.admins).set({ isActive }).where(eq(schema.admins.id, adminId)),
  );
}

describe('logging in', () => {
  it('a tablet gets a table token with its table and store', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const res = await login(
      TABLE_LOGIN,
      {
        store_id: store.id,
        table_number: table.tableNumber,
        password: PASSWORD,
        device_id: table.device,
      },
      randomIp(),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: SIXTEEN_HOURS,
      table: { id: table.id, table_number: table.tableNumber },
      store: { id: store.id, name: store.name },
    });
    const me = await probe('table', res.body.access_token);
    expect(me.body).toEqual({
      role: 'table',
      sub: table.id,
      storeId: store.id,
      ver: 1,
      device: table.device,
    });
  });

  it('a store admin gets an admin token naming the admin and the store', async () => {
    const store = await newStore();
    const res = await login(
      ADMIN_LOGIN,
      { store_id: store.id, username: store.admin.username, password: PASSWORD },
      randomIp(),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: SIXTEEN_HOURS,
      admin: { id: store.admin.id, username: store.admin.username, store_id: store.id },
    });
    const me = await probe('store_admin', res.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ role: 'store_admin', sub: store.admin.id, storeId: store.id });
  });

  it('the super admin gets a token and nothing else', async () => {
    const admin = await newSuperAdmin();
    const res = await login(
      SUPER_LOGIN,
      { username: admin.username, password: PASSWORD },
      randomIp(),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: SIXTEEN_HOURS,
    });
    const me = await probe('super_admin', res.body.access_token);
    expect(me.body).toMatchObject({ role: 'super_admin', sub: admin.id, storeId: null });
  });

  it('signs tokens with the published key and lets them live 16 hours', async () => {
    const admin = await newSuperAdmin();
    const res = await login(
      SUPER_LOGIN,
      { username: admin.username, password: PASSWORD },
      randomIp(),
    );
    const token = res.body.access_token as string;
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: env.JWT_KEY_ID, typ: 'JWT' });
    const claims = payloadOf(token);
    expect(claims.exp! - claims.iat!).toBe(SIXTEEN_HOURS);
    expect(claims).toMatchObject({ iss: 'table-order', aud: 'table-order-api', sub: admin.id });
  });
});

describe('refusing wrong credentials', () => {
  it('answers the same 401 for a wrong password, an unknown account and an unknown store', async () => {
    const ip = randomIp();
    const store = await newStore();
    const table = await newTable(store.id);
    const superAdmin = await newSuperAdmin();
    const otherStore = await newStore();
    const tablet = { device_id: table.device };
    const attempts: Array<[string, unknown]> = [
      [
        TABLE_LOGIN,
        { store_id: store.id, table_number: table.tableNumber, password: 'wrong-pw', ...tablet },
      ],
      [
        TABLE_LOGIN,
        {
          store_id: store.id,
          table_number: `${table.tableNumber}-B`,
          password: PASSWORD,
          ...tablet,
        },
      ],
      [
        TABLE_LOGIN,
        { store_id: crypto.randomUUID(), table_number: 1, password: PASSWORD, ...tablet },
      ],
      [ADMIN_LOGIN, { store_id: store.id, username: store.admin.username, password: 'wrong-pw' }],
      [ADMIN_LOGIN, { store_id: store.id, username: unique('nobody'), password: PASSWORD }],
      [
        ADMIN_LOGIN,
        { store_id: crypto.randomUUID(), username: store.admin.username, password: PASSWORD },
      ],
      // The right username and password, but of another store.
      [
        ADMIN_LOGIN,
        { store_id: otherStore.id, username: store.admin.username, password: PASSWORD },
      ],
      [SUPER_LOGIN, { username: superAdmin.username, password: 'wrong-pw' }],
      [SUPER_LOGIN, { username: unique('nobody'), password: PASSWORD }],
      // A store admin is not a super admin, whatever its password.
      [SUPER_LOGIN, { username: store.admin.username, password: PASSWORD }],
    ];
    const errors = [];
    for (const [path, body] of attempts) {
      const res = await login(path, body, ip);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(401);
      const { request_id: _, ...error } = res.body.error;
      errors.push(error);
    }
    // Nothing in the answer tells which part was wrong.
    expect(errors[0]).toEqual({
      code: 'INVALID_CREDENTIALS',
      message: expect.any(String),
      details: {},
    });
    for (const error of errors) expect(error).toEqual(errors[0]);
  });

  it('tells a deactivated admin with the right password that the account is disabled', async () => {
    const store = await newStore();
    const superAdmin = await newSuperAdmin();
    await setActive(store.admin.id, false);
    await setActive(superAdmin.id, false);
    const ip = randomIp();

    const admin = await login(
      ADMIN_LOGIN,
      { store_id: store.id, username: store.admin.username, password: PASSWORD },
      ip,
    );
    expect(admin.status).toBe(403);
    expect(admin.body.error.code).toBe('ACCOUNT_DISABLED');
    const root = await login(
      SUPER_LOGIN,
      { username: superAdmin.username, password: PASSWORD },
      ip,
    );
    expect(root.status).toBe(403);
    expect(root.body.error.code).toBe('ACCOUNT_DISABLED');
  });

  it('does not reveal that a deactivated account exists to a wrong password', async () => {
    const store = await newStore();
    await setActive(store.admin.id, false);
    const res = await login(
      ADMIN_LOGIN,
      { store_id: store.id, username: store.admin.username, password: 'wrong-pw' },
      randomIp(),
    );
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
  });
});

describe('malformed login requests', () => {
  const storeId = crypto.randomUUID();
  const tablet = { store_id: storeId, device_id: crypto.randomUUID() };
  it.each<[string, string, unknown]>([
    ['a table login without a password', TABLE_LOGIN, { ...tablet, table_number: 1 }],
    ['an empty table label', TABLE_LOGIN, { ...tablet, table_number: '', password: PASSWORD }],
    ['a negative table number', TABLE_LOGIN, { ...tablet, table_number: -1, password: PASSWORD }],
    [
      'a table number beyond exact integers',
      TABLE_LOGIN,
      { ...tablet, table_number: 2 ** 53, password: PASSWORD },
    ],
    [
      'a fractional table number',
      TABLE_LOGIN,
      { ...tablet, table_number: 1.5, password: PASSWORD },
    ],
    [
      'a store id that is no uuid',
      ADMIN_LOGIN,
      { store_id: 'store-1', username: 'a', password: 'b' },
    ],
    ['an empty username', ADMIN_LOGIN, { store_id: storeId, username: '', password: PASSWORD }],
    [
      'a username with a NUL character',
      ADMIN_LOGIN,
      { store_id: storeId, username: 'a\u0000b', password: PASSWORD },
    ],
    ['a password as a number', SUPER_LOGIN, { username: 'root', password: 12345678 }],
    ['a super login without a username', SUPER_LOGIN, { password: PASSWORD }],
    ['an array instead of an object', SUPER_LOGIN, [{ username: 'root', password: PASSWORD }]],
  ])('refuses %s with 400', async (_, path, body) => {
    const res = await login(path, body, randomIp());
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
  });

  it.each([TABLE_LOGIN, ADMIN_LOGIN, SUPER_LOGIN])(
    'refuses broken JSON on %s with 400',
    async (path) => {
      const res = await api('POST', path, {
        rawBody: '{',
        headers: { 'cf-connecting-ip': randomIp() },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    },
  );

  it('refuses a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await api('POST', SUPER_LOGIN, {
      rawBody: 'username=root&password=x',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'cf-connecting-ip': randomIp(),
      },
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe.each(Object.entries(accounts))('throttling %s logins', (_, makeAccount) => {
  it('slows an address after 5 wrong passwords, while the owner elsewhere still gets in', async () => {
    const account = await makeAccount();
    const attacker = randomIp();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const res = await login(account.path, account.body('wrong-password'), attacker);
      expect(res.status, `attempt ${attempt}`).toBe(401);
    }
    // Refused before the password is checked, so a 429 never tells a right guess from a wrong one.
    for (const password of ['wrong-password', PASSWORD]) {
      expectThrottled(await login(account.path, account.body(password), attacker), 15 * 60);
    }
    const owner = await login(account.path, account.body(PASSWORD), randomIp());
    expect(owner.status, JSON.stringify(owner.body)).toBe(200);
    // The owner's success clears the owner's address only: the attacker stays slowed.
    expectThrottled(await login(account.path, account.body(PASSWORD), attacker), 15 * 60);
  });

  it('leaves other accounts alone, even from the same IP', async () => {
    const locked = await makeAccount();
    const other = await makeAccount();
    const ip = randomIp();
    for (let attempt = 1; attempt <= 5; attempt++) {
      await login(locked.path, locked.body('wrong-password'), ip);
    }
    expect((await login(locked.path, locked.body(PASSWORD), ip)).status).toBe(429);
    const res = await login(other.path, other.body(PASSWORD), ip);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('forgets earlier failures once the right password gets through', async () => {
    const account = await makeAccount();
    const ip = randomIp();
    for (const round of [1, 2, 3]) {
      for (let attempt = 1; attempt <= 4; attempt++) {
        const res = await login(account.path, account.body('wrong-password'), ip);
        expect(res.status, `round ${round}, attempt ${attempt}`).toBe(401);
      }
      const res = await login(account.path, account.body(PASSWORD), ip);
      expect(res.status, `round ${round}`).toBe(200);
    }
  });
});

describe('throttling one account from many addresses', () => {
  it('after 100 failures an address that failed waits, a new one gets one guess, the owner gets in', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const body = (password: string) => ({
      store_id: store.id,
      table_number: table.tableNumber,
      password,
      device_id: table.device,
    });
    // 25 addresses, 4 wrong passwords each: none reaches its own limit of 5. One at a time, as
    // each costs a bcrypt check: side by side they would outlast the route's time limit.
    const attackers = Array.from({ length: 25 }, randomIp);
    for (const ip of attackers) {
      for (let attempt = 1; attempt <= 4; attempt++) {
        const res = await login(TABLE_LOGIN, body('wrong-password'), ip);
        expect(res.status, `${ip}, attempt ${attempt}`).toBe(401);
      }
    }
    // Addresses never seen before still get their guess (checked by bcrypt), and these count
    // too, should the hourly window have turned during the attack.
    const newcomers = Array.from({ length: 3 }, randomIp);
    for (const ip of newcomers) {
      expect((await login(TABLE_LOGIN, body('wrong-password'), ip)).status).toBe(401);
    }
    // Every address that has failed on the table now waits, under its own limit though it is.
    for (const ip of [attackers[0]!, ...newcomers]) {
      expectThrottled(await login(TABLE_LOGIN, body('wrong-password'), ip), 60 * 60);
    }
    const owner = await login(TABLE_LOGIN, body(PASSWORD), randomIp());
    expect(owner.status, JSON.stringify(owner.body)).toBe(200);
  }, 120_000); // a hundred logins one after another: ~12 s alone, 40 s and more on a busy machine
});

describe('throttling one client address', () => {
  it('refuses every account from an IP that failed 30 times, but not other IPs', async () => {
    const ip = randomIp();
    // 30 different (unknown) accounts: no account reaches its own limit.
    for (let attempt = 1; attempt <= 30; attempt++) {
      const res = await login(SUPER_LOGIN, { username: unique('guess'), password: 'x' }, ip);
      expect(res.status, `attempt ${attempt}`).toBe(401);
    }
    const admin = await newSuperAdmin();
    const body = { username: admin.username, password: PASSWORD };
    const blocked = await login(SUPER_LOGIN, body, ip);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
    // Proves `cf-connecting-ip` reaches the Worker: with it lost, both would share one bucket.
    expect((await login(SUPER_LOGIN, body, randomIp())).status).toBe(200);
  });
});

describe('logging in while Redis is down', () => {
  const redisDown = { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' };

  it('lets the right password in and keeps refusing wrong ones with 401 (fails open)', async () => {
    const store = await newStore();
    const body = (password: string) => ({
      store_id: store.id,
      username: store.admin.username,
      password,
    });
    const headers = { 'cf-connecting-ip': randomIp() };
    for (let attempt = 1; attempt <= 6; attempt++) {
      const res = await callWith(redisDown, 'POST', ADMIN_LOGIN, {
        body: body('wrong-password'),
        headers,
      });
      expect(res.status, `attempt ${attempt}`).toBe(401);
    }
    const res = await callWith(redisDown, 'POST', ADMIN_LOGIN, { body: body(PASSWORD), headers });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.admin.id).toBe(store.admin.id);
  });
});
