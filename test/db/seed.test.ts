import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN, DEMO_STORE_ID, seed } from '../../db/seed.ts';
import * as schema from '../../db/schema.ts';
import { verifyPassword } from '../../worker/platform/passwords.ts';
import { createScratchDatabase, type ScratchDatabase } from '../support/db-fixtures.ts';

let scratch: ScratchDatabase;
beforeAll(async () => {
  scratch = await createScratchDatabase();
});
afterAll(() => scratch.drop());

const env = { SUPERADMIN_USERNAME: 'owner', SUPERADMIN_PASSWORD: 'owner-secret-1' };

describe('seeding the database', () => {
  it('creates only the super admin when the demo store is turned off (a production database)', async () => {
    const empty = await createScratchDatabase();
    try {
      const result = await seed(empty.url, { ...env, SEED_DEMO_STORE: 'off' });
      expect(result).toMatchObject({ superAdmin: { username: 'owner', created: true } });
      expect(result.demoStore).toBeNull();
      expect(await empty.db.select().from(schema.stores)).toEqual([]);
      const admins = await empty.db.select().from(schema.admins);
      expect(admins.map((admin) => [admin.role, admin.username])).toEqual([
        ['super_admin', 'owner'],
      ]);
    } finally {
      await empty.drop();
    }
  });

  it('creates the super admin from the environment and a complete demo store', async () => {
    const result = await seed(scratch.url, env);
    expect(result).toMatchObject({
      superAdmin: { username: 'owner', created: true },
      demoStore: { id: DEMO_STORE_ID, created: true },
    });

    const [superAdmin] = await scratch.db
      .select()
      .from(schema.admins)
      .where(eq(schema.admins.role, 'super_admin'));
    expect(superAdmin?.username).toBe('owner');
    expect(await verifyPassword('owner-secret-1', superAdmin!.passwordHash)).toBe(true);

    const storeAdmins = await scratch.db
      .select()
      .from(schema.admins)
      .where(eq(schema.admins.storeId, DEMO_STORE_ID));
    expect(storeAdmins.map((a) => a.username)).toEqual([DEMO_ADMIN.username]);
    expect(await verifyPassword(DEMO_ADMIN.password, storeAdmins[0]!.passwordHash)).toBe(true);

    const tables = await scratch.db
      .select()
      .from(schema.diningTables)
      .where(eq(schema.diningTables.storeId, DEMO_STORE_ID));
    expect(tables.length).toBeGreaterThan(0);
    const menus = await scratch.db
      .select()
      .from(schema.menus)
      .where(eq(schema.menus.storeId, DEMO_STORE_ID));
    expect(menus.length).toBeGreaterThan(0);
    const stew = menus.find((menu) => menu.name === '김치찌개')!;
    expect(stew.translations).toMatchObject({ en: { name: 'Kimchi stew' } });
    const groups = await scratch.db
      .select()
      .from(schema.menuOptionGroups)
      .where(eq(schema.menuOptionGroups.menuId, stew.id))
      .orderBy(schema.menuOptionGroups.displayOrder);
    expect(groups.map((group) => [group.name, group.minSelect, group.maxSelect])).toEqual([
      ['맵기', 1, 1],
      ['추가', 0, 3],
    ]);
  });

  it('is idempotent: a second run creates nothing and keeps changed passwords', async () => {
    await seed(scratch.url, env);
    await scratch.db
      .update(schema.admins)
      .set({ passwordHash: 'changed-by-the-owner' })
      .where(eq(schema.admins.username, 'owner'));
    const count = async () => ({
      stores: (await scratch.db.select().from(schema.stores)).length,
      admins: (await scratch.db.select().from(schema.admins)).length,
      tables: (await scratch.db.select().from(schema.diningTables)).length,
      menus: (await scratch.db.select().from(schema.menus)).length,
    });
    const before = await count();

    const result = await seed(scratch.url, env);

    expect(result.superAdmin.created).toBe(false);
    expect(result.demoStore?.created).toBe(false);
    expect(await count()).toEqual(before);
    const [owner] = await scratch.db
      .select()
      .from(schema.admins)
      .where(eq(schema.admins.username, 'owner'));
    expect(owner?.passwordHash).toBe('changed-by-the-owner');
  });
});
