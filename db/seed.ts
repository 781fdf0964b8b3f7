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

type Names = { en: string; ja: string; zh: string };
type DemoOption = [name: string, priceDelta: number, translations: Names];
type DemoGroup = {
  name: string;
  translations: Names;
  minSelect: number;
  maxSelect: number;
  options: DemoOption[];
};
type DemoMenu = {
  name: string;
  price: number;
  description: string | null;
  translations: Names;
  optionGroups?: DemoGroup[];
};

/** 맵기: pick exactly one, no charge. */
const SPICINESS: DemoGroup = {
  name: '맵기',
  translations: { en: 'Spiciness', ja: '辛さ', zh: '辣度' },
  minSelect: 1,
  maxSelect: 1,
  options: [
    ['순한맛', 0, { en: 'Mild', ja: '甘口', zh: '微辣' }],
    ['보통', 0, { en: 'Medium', ja: '普通', zh: '中辣' }],
    ['매운맛', 0, { en: 'Hot', ja: '辛口', zh: '特辣' }],
  ],
};

/** 추가: up to three toppings, each charged. */
const EXTRAS: DemoGroup = {
  name: '추가',
  translations: { en: 'Extras', ja: 'トッピング', zh: '加料' },
  minSelect: 0,
  maxSelect: 3,
  options: [
    ['라면사리', 1_000, { en: 'Ramen noodles', ja: 'ラーメン麺', zh: '拉面' }],
    ['치즈', 1_500, { en: 'Cheese', ja: 'チーズ', zh: '芝士' }],
    ['햄', 2_000, { en: 'Ham', ja: 'ハム', zh: '火腿' }],
  ],
};

/**
 * The demo menu: three categories with English, Japanese and Chinese names, and choices on the
 * stews — a required 맵기 and an optional 추가 — so a tablet shows what a restaurant sells.
 */
const DEMO_MENU: Array<{ category: string; translations: Names; menus: DemoMenu[] }> = [
  {
    category: '메인',
    translations: { en: 'Mains', ja: 'メイン', zh: '主菜' },
    menus: [
      {
        name: '김치찌개',
        price: 9_000,
        description: '묵은지와 돼지고기를 넣고 끓인 찌개',
        translations: { en: 'Kimchi stew', ja: 'キムチチゲ', zh: '泡菜汤' },
        optionGroups: [SPICINESS, EXTRAS],
      },
      {
        name: '된장찌개',
        price: 8_500,
        description: '두부와 애호박을 넣은 구수한 된장찌개',
        translations: { en: 'Soybean paste stew', ja: 'テンジャンチゲ', zh: '大酱汤' },
        optionGroups: [SPICINESS],
      },
      {
        name: '제육볶음',
        price: 11_000,
        description: '매콤한 돼지고기 볶음과 공기밥',
        translations: { en: 'Spicy stir-fried pork', ja: '豚肉炒め', zh: '辣炒猪肉' },
        optionGroups: [SPICINESS],
      },
    ],
  },
  {
    category: '사이드',
    translations: { en: 'Sides', ja: 'サイド', zh: '小菜' },
    menus: [
      {
        name: '계란말이',
        price: 6_000,
        description: '부드러운 계란말이',
        translations: { en: 'Rolled omelette', ja: '卵焼き', zh: '鸡蛋卷' },
      },
      {
        name: '공기밥',
        price: 1_000,
        description: null,
        translations: { en: 'Steamed rice', ja: 'ご飯', zh: '米饭' },
      },
    ],
  },
  {
    category: '음료',
    translations: { en: 'Drinks', ja: 'ドリンク', zh: '饮料' },
    menus: [
      {
        name: '콜라',
        price: 2_000,
        description: '355ml',
        translations: { en: 'Cola', ja: 'コーラ', zh: '可乐' },
      },
      {
        name: '사이다',
        price: 2_000,
        description: '355ml',
        translations: { en: 'Lemon-lime soda', ja: 'サイダー', zh: '雪碧' },
      },
    ],
  },
];

/** `{en: 'Mains', …}` as a row's `translations`: `{en: {name: 'Mains'}, …}`. */
function namesIn(names: Names) {
  return Object.fromEntries(Object.entries(names).map(([lang, name]) => [lang, { name }]));
}

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
      tableNumber: String(i + 1),
      passwordHash: tablePasswordHash,
    })),
  );
  for (const [categoryOrder, { category, translations, menus }] of DEMO_MENU.entries()) {
    const [row] = await tx
      .insert(schema.menuCategories)
      .values({
        storeId: DEMO_STORE_ID,
        name: category,
        translations: namesIn(translations),
        displayOrder: categoryOrder,
      })
      .returning({ id: schema.menuCategories.id });
    for (const [displayOrder, menu] of menus.entries()) {
      const [added] = await tx
        .insert(schema.menus)
        .values({
          storeId: DEMO_STORE_ID,
          categoryId: row!.id,
          name: menu.name,
          price: menu.price,
          description: menu.description,
          translations: namesIn(menu.translations),
          displayOrder,
        })
        .returning({ id: schema.menus.id });
      await seedOptionGroups(tx, added!.id, menu.optionGroups ?? []);
    }
  }
}

/** A demo menu's choices, in the order given. */
async function seedOptionGroups(tx: Tx, menuId: string, groups: DemoGroup[]): Promise<void> {
  for (const [groupOrder, group] of groups.entries()) {
    const [added] = await tx
      .insert(schema.menuOptionGroups)
      .values({
        storeId: DEMO_STORE_ID,
        menuId,
        name: group.name,
        translations: namesIn(group.translations),
        minSelect: group.minSelect,
        maxSelect: group.maxSelect,
        displayOrder: groupOrder,
      })
      .returning({ id: schema.menuOptionGroups.id });
    await tx.insert(schema.menuOptions).values(
      group.options.map(([name, priceDelta, translations], displayOrder) => ({
        storeId: DEMO_STORE_ID,
        menuId,
        groupId: added!.id,
        name,
        priceDelta,
        translations: namesIn(translations),
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
