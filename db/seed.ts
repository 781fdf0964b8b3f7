/**
 * `npm run db:seed`: the super admin and a demo store, created only where missing, so it is safe
 * to run on every start (`npm run dev` does) and never overwrites what someone changed.
 *
 * The super admin comes from SUPERADMIN_USERNAME / SUPERADMIN_PASSWORD (defaults below, for local
 * use only). The demo store has a fixed id so that the printed credentials stay valid;
 * `SEED_DEMO_STORE=off` leaves it out (a production database gets only its first super admin).
 */
import { and, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { hashPassword } from '../worker/platform/passwords.ts';
import * as schema from './schema.ts';

export const DEMO_STORE_ID = '00000000-0000-4000-8000-00000000d3e0';
export const DEMO_ADMIN = { username: 'admin', password: 'admin1234' } as const;
export const DEMO_TABLE_PASSWORD = '0000';
const DEMO_TABLE_COUNT = 5;

const DEMO_MENU: Array<{
  category: string;
  menus: Array<[name: string, price: number, description: string]>;
}> = [
  {
    category: '메인',
    menus: [
      ['김치찌개', 9_000, '묵은지와 돼지고기를 넣고 끓인 찌개'],
      ['된장찌개', 8_500, '두부와 애호박을 넣은 구수한 된장찌개'],
      ['제육볶음', 11_000, '매콤한 돼지고기 볶음과 공기밥'],
    ],
  },
  {
    category: '사이드',
    menus: [
      ['계란말이', 6_000, '부드러운 계란말이'],
      ['공기밥', 1_000, ''],
    ],
  },
  {
    category: '음료',
    menus: [
      ['콜라', 2_000, '355ml'],
      ['사이다', 2_000, '355ml'],
    ],
  },
];

export type SeedResult = {
  superAdmin: { username: string; password: string; created: boolean };
  /** null when the demo store was turned off. */
  demoStore: { id: string; created: boolean } | null;
};

/** Creates whatever of the seed data is missing, in one transaction. */
export async function seed(
  databaseUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SeedResult> {
  const superAdmin = {
    username: env.SUPERADMIN_USERNAME ?? 'superadmin',
    password: env.SUPERADMIN_PASSWORD ?? 'superadmin1234',
  };
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const db = drizzle({ client: pool, schema });
    return await db.transaction(async (tx) => {
      const existingSuper = await tx
        .select({ id: schema.admins.id })
        .from(schema.admins)
        .where(
          and(
            eq(schema.admins.role, 'super_admin'),
            eq(schema.admins.username, superAdmin.username),
          ),
        );
      if (existingSuper.length === 0) {
        await tx.insert(schema.admins).values({
          username: superAdmin.username,
          passwordHash: await hashPassword(superAdmin.password),
          role: 'super_admin',
          storeId: null,
        });
      }

      const created = { ...superAdmin, created: existingSuper.length === 0 };
      if (env.SEED_DEMO_STORE === 'off') return { superAdmin: created, demoStore: null };

      const inserted = await tx
        .insert(schema.stores)
        .values({ id: DEMO_STORE_ID, name: '데모 식당', timezone: 'Asia/Seoul' })
        .onConflictDoNothing()
        .returning({ id: schema.stores.id });
      if (inserted.length > 0) await seedDemoStore(tx);

      return {
        superAdmin: created,
        demoStore: { id: DEMO_STORE_ID, created: inserted.length > 0 },
      };
    });
  } finally {
    await pool.end();
  }
}

type Tx = Parameters<Parameters<ReturnType<typeof drizzle<typeof schema>>['transaction']>[0]>[0];

async function seedDemoStore(tx: Tx): Promise<void> {
  await tx.insert(schema.admins).values({
    storeId: DEMO_STORE_ID,
    username: DEMO_ADMIN.username,
    passwordHash: await hashPassword(DEMO_ADMIN.password),
    role: 'store_admin',
  });
  const tablePasswordHash = await hashPassword(DEMO_TABLE_PASSWORD);
  await tx.insert(schema.diningTables).values(
    Array.from({ length: DEMO_TABLE_COUNT }, (_, i) => ({
      storeId: DEMO_STORE_ID,
      tableNumber: i + 1,
      passwordHash: tablePasswordHash,
    })),
  );
  for (const [categoryOrder, { category, menus }] of DEMO_MENU.entries()) {
    const [row] = await tx
      .insert(schema.menuCategories)
      .values({ storeId: DEMO_STORE_ID, name: category, displayOrder: categoryOrder })
      .returning({ id: schema.menuCategories.id });
    await tx.insert(schema.menus).values(
      menus.map(([name, price, description], displayOrder) => ({
        storeId: DEMO_STORE_ID,
        categoryId: row!.id,
        name,
        price,
        description: description || null,
        displayOrder,
      })),
    );
  }
}

/** What a newcomer needs to log in to the demo. */
export function describeSeed(result: SeedResult): string {
  const superAdmin =
    `super admin      ${result.superAdmin.username} / ${result.superAdmin.password}` +
    (result.superAdmin.created ? '' : ' (already existed; password as it was set)');
  if (result.demoStore === null) return `${superAdmin}\n(no demo store: SEED_DEMO_STORE=off)`;
  return [
    superAdmin,
    `demo store       ${result.demoStore.id} (데모 식당)`,
    `store admin      ${DEMO_ADMIN.username} / ${DEMO_ADMIN.password}`,
    `tables 1-${DEMO_TABLE_COUNT}       password ${DEMO_TABLE_PASSWORD}`,
  ].join('\n');
}

if (import.meta.main) {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/table_order';
  const result = await seed(databaseUrl);
  console.log(`seeded ${databaseUrl}\n${describeSeed(result)}`);
}
