/**
 * The guests' menu in the guest's language: names translated where the store translated them
 * (else its own), each menu's choices, a `menu_version` that moves with what guests see, and a
 * cache entry per language that every admin write retires.
 */
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as schema from '../../db/schema.ts';
import { cacheKeys } from '../../worker/platform/cache.ts';
import { apiWithoutRedis, cachedValue } from './support/cache.ts';
import { addMenuRow, newCategory } from './support/catalog.ts';
import { api, newStore, newTable, withDb } from './support/fixtures.ts';
import {
  newChoices,
  putOptionGroups,
  setOptionAvailable,
  setTranslations,
  STEW_CHOICES,
  type GroupBody,
} from './support/option-groups.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * A Korean store whose stew is translated into English (name only) and Japanese (name and
 * description), with the stew's choices (two of their names in English); the category is
 * translated into English only. Written straight to the database, so no write has touched the
 * cache before a test warms it.
 */
async function restaurant() {
  const store = await newStore();
  const table = await newTable(store.id);
  const category = await newCategory(store.id, '찌개');
  const stew = await addMenuRow(store.id, category.id, { name: '김치찌개', price: 9000 });
  await withDb((db) =>
    db
      .update(schema.menus)
      .set({ description: '묵은지로 끓인 찌개' })
      .where(eq(schema.menus.id, stew.id)),
  );
  await setTranslations(schema.menus, stew.id, {
    en: { name: 'Kimchi stew' },
    ja: { name: 'キムチチゲ', description: '熟成キムチのチゲ' },
  });
  await setTranslations(schema.menuCategories, category.id, { en: { name: 'Stews' } });
  const [spice, extras] = STEW_CHOICES as [GroupBody, GroupBody];
  await newChoices(store.id, stew.id, [
    {
      ...spice,
      translations: { en: { name: 'Spiciness' } },
      options: spice.options.map((o, i) => ({
        ...o,
        translations: i === 2 ? { en: { name: 'Hot' } } : {},
      })),
    },
    extras,
  ]);
  return { store, table, category, stew, token: store.admin.token };
}
type Restaurant = Awaited<ReturnType<typeof restaurant>>;

/** The guests' menu as a tablet asks for it (`?lang=` in `query`, headers as given). */
const guestMenu = (r: Restaurant, query = '', headers: Record<string, string> = {}) =>
  api('GET', `/api/customer/menus${query}`, { token: r.table.token, headers });

const names = (book: { categories: any[] }) =>
  book.categories.map((c) => [
    c.name,
    c.menus.map((m: any) => [
      m.name,
      m.description,
      m.option_groups.map((g: any) => [g.name, g.options.map((o: any) => o.name)]),
    ]),
  ]);

function setDefaultLanguage(storeId: string, lang: schema.MenuLanguage) {
  return withDb((db) =>
    db.update(schema.stores).set({ defaultLanguage: lang }).where(eq(schema.stores.id, storeId)),
  );
}

describe('the guests’ menu in their language', () => {
  it('answers in English with ?lang=en, each field falling back to the store’s own', async () => {
    const r = await restaurant();
    const res = await guestMenu(r, '?lang=en');
    expect(res.status).toBe(200);
    expect(res.body.lang).toBe('en');
    expect(names(res.body)).toEqual([
      [
        'Stews',
        [
          [
            'Kimchi stew',
            '묵은지로 끓인 찌개',
            [
              ['Spiciness', ['순한맛', '보통', 'Hot']],
              ['추가', ['라면사리', '치즈']],
            ],
          ],
        ],
      ],
    ]);
  });

  it('reads the language from Accept-Language when there is no ?lang=', async () => {
    const r = await restaurant();
    const res = await guestMenu(r, '', { 'accept-language': 'ja-JP,ja;q=0.9,en;q=0.8' });
    expect(res.body.lang).toBe('ja');
    expect(names(res.body)[0]).toEqual([
      '찌개',
      [
        [
          'キムチチゲ',
          '熟成キムチのチゲ',
          [
            ['맵기', ['순한맛', '보통', '매운맛']],
            ['추가', ['라면사리', '치즈']],
          ],
        ],
      ],
    ]);
    const queryFirst = await guestMenu(r, '?lang=en', { 'accept-language': 'ja' });
    expect(queryFirst.body.lang).toBe('en');
    const firstSpoken = await guestMenu(r, '', { 'accept-language': 'fr-FR, zh;q=0.5' });
    expect(firstSpoken.body.lang).toBe('zh');
  });

  it('answers in the store’s own language to a language the menu does not speak, or none', async () => {
    const r = await restaurant();
    for (const [query, headers] of [
      ['?lang=xx', {}],
      ['?lang=', {}],
      ['', {}],
      ['', { 'accept-language': 'fr-FR,de;q=0.5' }],
    ] as const) {
      const res = await guestMenu(r, query, headers);
      expect(res.status, query).toBe(200);
      expect(res.body.lang).toBe('ko');
      expect(res.body.categories[0].menus[0].name).toBe('김치찌개');
    }
    await setDefaultLanguage(r.store.id, 'ja');
    const japanese = await apiWithoutRedis('GET', '/api/customer/menus?lang=xx', {
      token: r.table.token,
    });
    expect(japanese.body.lang).toBe('ja');
    expect(japanese.body.categories[0].menus[0].name).toBe('キムチチゲ');
  });

  it('shows each menu’s choices as guests see them, sold-out options included, no translations', async () => {
    const r = await restaurant();
    const { body } = await api('GET', `/api/admin/menus/${r.stew.id}`, { token: r.token });
    const cheese = body.option_groups[1].options[1];
    await setOptionAvailable(cheese.id, false);

    const res = await apiWithoutRedis('GET', '/api/customer/menus', { token: r.table.token });

    const [spice, extras] = res.body.categories[0].menus[0].option_groups;
    expect(spice).toEqual({
      id: body.option_groups[0].id,
      name: '맵기',
      min_select: 1,
      max_select: 1,
      display_order: 0,
      options: body.option_groups[0].options.map((o: { id: string; name: string }, i: number) => ({
        id: o.id,
        name: o.name,
        price_delta: 0,
        is_available: true,
        display_order: i,
      })),
    });
    expect(extras.options[1]).toEqual({
      id: cheese.id,
      name: '치즈',
      price_delta: 500,
      is_available: false,
      display_order: 1,
    });
  });

  it('shows one menu in the guest’s language, with its choices', async () => {
    const r = await restaurant();
    const res = await api('GET', `/api/customer/menus/${r.stew.id}?lang=en`, {
      token: r.table.token,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: r.stew.id,
      name: 'Kimchi stew',
      description: '묵은지로 끓인 찌개',
      price: 9000,
    });
    expect(res.body.option_groups.map((g: { name: string }) => g.name)).toEqual([
      'Spiciness',
      '추가',
    ]);
    const japanese = await api('GET', `/api/customer/menus/${r.stew.id}`, {
      token: r.table.token,
      headers: { 'accept-language': 'ja-JP' },
    });
    expect(japanese.body.description).toBe('熟成キムチのチゲ');
  });

  it('never shows another store’s menu, choices or translations', async () => {
    const ours = await restaurant();
    const theirs = await restaurant();
    for (const query of ['', '?lang=en', '?lang=ja']) {
      const { body } = await guestMenu(ours, query);
      const text = JSON.stringify(body);
      expect(text).toContain(ours.stew.id);
      expect(text).not.toContain(theirs.stew.id);
      expect(text).not.toContain(theirs.category.id);
    }
    const theirMenu = await api('GET', `/api/customer/menus/${theirs.stew.id}?lang=en`, {
      token: ours.table.token,
    });
    expect(theirMenu.status).toBe(404);
  });
});

describe('the guests’ menu cached per language', () => {
  it('keeps each language’s answer under its own key', async () => {
    const r = await restaurant();
    const english = await guestMenu(r, '?lang=en');
    const korean = await guestMenu(r);
    expect(await cachedValue(cacheKeys.guestMenu(r.store.id, 'en'))).toEqual(english.body);
    expect(await cachedValue(cacheKeys.guestMenu(r.store.id))).toEqual(korean.body);
    expect(await cachedValue(cacheKeys.guestMenu(r.store.id, 'ja'))).toBeNull();
    expect(english.body.categories[0].name).toBe('Stews');
    expect(korean.body.categories[0].name).toBe('찌개');
  });

  it('shows an admin’s change in every language at once', async () => {
    const r = await restaurant();
    const asked = ['?lang=en', '?lang=ja', '?lang=zh', '?lang=ko', ''];
    for (const query of asked) await guestMenu(r, query);

    const edit = await api('PATCH', `/api/admin/menus/${r.stew.id}`, {
      token: r.token,
      body: { price: 9900 },
    });
    expect(edit.status).toBe(200);

    for (const query of asked) {
      const res = await guestMenu(r, query);
      expect(res.body.categories[0].menus[0].price, query).toBe(9900);
    }
  });

  it('follows a translation edited by the admin', async () => {
    const r = await restaurant();
    expect((await guestMenu(r, '?lang=en')).body.categories[0].menus[0].name).toBe('Kimchi stew');
    const edit = await api('PATCH', `/api/admin/menus/${r.stew.id}`, {
      token: r.token,
      body: { translations: { en: { name: 'Kimchi jjigae', description: 'Aged kimchi' } } },
    });
    expect(edit.status, JSON.stringify(edit.body)).toBe(200);
    expect(edit.body.translations).toEqual({
      en: { name: 'Kimchi jjigae', description: 'Aged kimchi' },
    });
    const menu = (await guestMenu(r, '?lang=en')).body.categories[0].menus[0];
    expect(menu).toMatchObject({ name: 'Kimchi jjigae', description: 'Aged kimchi' });
    // The Japanese translation went with the replaced set.
    const japanese = (await guestMenu(r, '?lang=ja')).body.categories[0].menus[0];
    expect(japanese.name).toBe('김치찌개');
  });
});

describe('menu_version', () => {
  /** The version guests see now, read past the cache (what the database holds). */
  async function versionNow(r: Restaurant, query = '') {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const res = await apiWithoutRedis('GET', `/api/customer/menus${query}`, {
      token: r.table.token,
    });
    return res.body.menu_version as string;
  }

  it('stays the same while nothing changes, cached or not', async () => {
    const r = await restaurant();
    const first = await guestMenu(r);
    expect(first.body.menu_version).toMatch(/^[0-9a-f]{16}$/);
    expect((await guestMenu(r)).body.menu_version).toBe(first.body.menu_version);
    expect(await versionNow(r)).toBe(first.body.menu_version);
  });

  it('is per language', async () => {
    const r = await restaurant();
    expect(await versionNow(r, '?lang=en')).not.toBe(await versionNow(r, '?lang=ko'));
  });

  it('changes with a price', async () => {
    const r = await restaurant();
    const before = (await guestMenu(r)).body.menu_version;
    await api('PATCH', `/api/admin/menus/${r.stew.id}`, { token: r.token, body: { price: 9500 } });
    const after = (await guestMenu(r)).body.menu_version;
    expect(after).not.toBe(before);
    expect(after).toBe(await versionNow(r));
  });

  it('changes when an option sells out, however it was written', async () => {
    const r = await restaurant();
    const before = await versionNow(r);
    const { body } = await api('GET', `/api/admin/menus/${r.stew.id}`, { token: r.token });
    const cheese = body.option_groups[1].options[1];

    await setOptionAvailable(cheese.id, false);
    const soldOut = await versionNow(r);
    expect(soldOut).not.toBe(before);

    await setOptionAvailable(cheese.id, true);
    expect(await versionNow(r)).toBe(before);

    const groups = body.option_groups.map((g: any) => ({
      ...g,
      options: g.options.map((o: any) => ({ ...o, is_available: o.id !== cheese.id })),
    }));
    const put = await putOptionGroups(r.token, r.stew.id, groups);
    expect(put.status).toBe(200);
    expect((await guestMenu(r)).body.menu_version).toBe(soldOut);
  });

  it('changes with a translation, in that language', async () => {
    const r = await restaurant();
    const [english, korean] = [await versionNow(r, '?lang=en'), await versionNow(r)];
    await api('PATCH', `/api/admin/categories/${r.category.id}`, {
      token: r.token,
      body: { translations: { en: { name: 'Soups' } } },
    });
    expect((await guestMenu(r, '?lang=en')).body.menu_version).not.toBe(english);
    expect((await guestMenu(r)).body.menu_version).toBe(korean);
  });
});

describe('translations on the admin’s side', () => {
  it('takes and shows translations of a category and a menu', async () => {
    const store = await newStore();
    const token = store.admin.token;
    const category = await api('POST', '/api/admin/categories', {
      token,
      body: { name: '음료', translations: { en: { name: ' Drinks ' }, zh: { name: '饮料' } } },
    });
    expect(category.status, JSON.stringify(category.body)).toBe(201);
    expect(category.body.translations).toEqual({ en: { name: 'Drinks' }, zh: { name: '饮料' } });
    const list = await api('GET', '/api/admin/categories', { token });
    expect(list.body.categories[0].translations).toEqual(category.body.translations);

    const menu = await api('POST', '/api/admin/menus', {
      token,
      body: {
        category_id: category.body.id,
        name: '식혜',
        price: 3000,
        translations: { en: { name: 'Sikhye', description: 'Sweet rice drink' } },
      },
    });
    expect(menu.status, JSON.stringify(menu.body)).toBe(201);
    expect(menu.body.translations).toEqual({
      en: { name: 'Sikhye', description: 'Sweet rice drink' },
    });
    const cleared = await api('PATCH', `/api/admin/categories/${category.body.id}`, {
      token,
      body: { translations: {} },
    });
    expect(cleared.body.translations).toEqual({});
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['a language the menu does not speak', 'translations', { fr: { name: 'Boissons' } }],
    ['a blank translated name', 'translations.en.name', { en: { name: ' ' } }],
    [
      'a translated name over 50 characters',
      'translations.en.name',
      { en: { name: 'a'.repeat(51) } },
    ],
    ['a translation without a name', 'translations.en.name', { en: {} }],
    [
      'a description for a category',
      'translations.en',
      { en: { name: 'Drinks', description: 'x' } },
    ],
  ])('refuses %s on a category (400)', async (_, path, translations) => {
    const store = await newStore();
    const res = await api('POST', '/api/admin/categories', {
      token: store.admin.token,
      body: { name: '음료', translations },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it('refuses a translated menu name over 100 characters (400)', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const res = await api('POST', '/api/admin/menus', {
      token: store.admin.token,
      body: {
        category_id: category.id,
        name: '김치찌개',
        price: 9000,
        translations: { ja: { name: 'チ'.repeat(101) } },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues[0].path).toBe('translations.ja.name');
  });
});
