import { describe, expect, it } from 'vitest';
import {
  addMenuRow,
  categoryRow,
  finishImage,
  menuRow,
  newCategory,
  nobody,
  orderItemsOf,
  seatParty,
} from './support/catalog.ts';
import { api, newStore, newTable, outboxOf, unique } from './support/fixtures.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The store's outbox as the tablets will receive it. */
async function eventsOf(storeId: string) {
  return (await outboxOf(storeId)).map(({ type, payload, tableId, tableSessionId }) => ({
    type,
    payload,
    tableId,
    tableSessionId,
  }));
}
const menuUpdated = (action: string, menuId: string | null, categoryId: string) => ({
  type: 'menu.updated',
  payload: { action, menu_id: menuId, category_id: categoryId },
  tableId: null,
  tableSessionId: null,
});

describe('menu categories', () => {
  it('lists the store’s categories by display order then name, with their menu counts', async () => {
    const store = await newStore();
    const other = await newStore();
    const drinks = await newCategory(store.id, '음료', 2);
    const soups = await newCategory(store.id, '찌개', 1);
    const sides = await newCategory(store.id, '사이드', 2);
    await newCategory(other.id, '남의 분류', 0);
    await addMenuRow(store.id, soups.id, { name: '김치찌개' });
    await addMenuRow(store.id, soups.id, { name: '된장찌개' });
    await addMenuRow(store.id, drinks.id, { name: '콜라' });

    const res = await api('GET', '/api/admin/categories', { token: store.admin.token });

    expect(res.status).toBe(200);
    const view = (c: { id: string; name: string }, order: number, count: number) => ({
      id: c.id,
      name: c.name,
      translations: {},
      display_order: order,
      menu_count: count,
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
    expect(res.body).toEqual({
      categories: [view(soups, 1, 2), view(sides, 2, 0), view(drinks, 2, 1)],
    });
  });

  it('adds a category after the last one and tells the tablets', async () => {
    const store = await newStore();
    await newCategory(store.id, '찌개', 3);
    const res = await api('POST', '/api/admin/categories', {
      token: store.admin.token,
      body: { name: '  음료  ' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: '음료',
      translations: {},
      display_order: 4,
      menu_count: 0,
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
    expect(await categoryRow(res.body.id)).toMatchObject({ storeId: store.id, name: '음료' });
    expect(await eventsOf(store.id)).toEqual([menuUpdated('created', null, res.body.id)]);
  });

  it('puts a category where the admin says', async () => {
    const store = await newStore();
    const res = await api('POST', '/api/admin/categories', {
      token: store.admin.token,
      body: { name: '주류', display_order: 7 },
    });
    expect(res.status).toBe(201);
    expect(res.body.display_order).toBe(7);
  });

  it('refuses a name the store already uses (409 CATEGORY_NAME_TAKEN), not another store’s', async () => {
    const store = await newStore();
    const other = await newStore();
    await newCategory(store.id, '찌개');
    await newCategory(other.id, '음료');
    const taken = await api('POST', '/api/admin/categories', {
      token: store.admin.token,
      body: { name: '찌개' },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('CATEGORY_NAME_TAKEN');
    expect(await eventsOf(store.id)).toEqual([]);
    const free = await api('POST', '/api/admin/categories', {
      token: store.admin.token,
      body: { name: '음료' },
    });
    expect(free.status).toBe(201);
  });

  it.each([
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
    ['a name over 50 characters', { name: '가'.repeat(51) }],
    ['a name that is not text', { name: 12 }],
    ['a name with a NUL character', { name: '음\u0000료' }],
    ['a name with a line break', { name: '음\n료' }],
    ['a negative display order', { name: '음료', display_order: -1 }],
  ])('refuses %s (400)', async (_, body) => {
    const store = await newStore();
    const res = await api('POST', '/api/admin/categories', { token: store.admin.token, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect((await api('GET', '/api/admin/categories', { token: store.admin.token })).body).toEqual({
      categories: [],
    });
  });

  it('answers 400 to a body that is not JSON', async () => {
    const store = await newStore();
    const res = await api('POST', '/api/admin/categories', {
      token: store.admin.token,
      rawBody: '{',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('renames and moves a category and tells the tablets', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개', 0);
    await addMenuRow(store.id, category.id, { name: '김치찌개' });
    const res = await api('PATCH', `/api/admin/categories/${category.id}`, {
      token: store.admin.token,
      body: { name: '찌개·탕', display_order: 5 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      id: category.id,
      name: '찌개·탕',
      display_order: 5,
      menu_count: 1,
    });
    expect(await categoryRow(category.id)).toMatchObject({ name: '찌개·탕', displayOrder: 5 });
    expect(await eventsOf(store.id)).toEqual([menuUpdated('updated', null, category.id)]);
  });

  it('refuses renaming to a name in use (409) and an empty change (400)', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    await newCategory(store.id, '음료');
    const path = `/api/admin/categories/${category.id}`;
    const taken = await api('PATCH', path, { token: store.admin.token, body: { name: '음료' } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('CATEGORY_NAME_TAKEN');
    const empty = await api('PATCH', path, { token: store.admin.token, body: {} });
    expect(empty.status).toBe(400);
    expect(await categoryRow(category.id)).toMatchObject({ name: '찌개' });
    expect(await eventsOf(store.id)).toEqual([]);
  });

  it('removes an empty category (204) and tells the tablets', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '계절 메뉴');
    const res = await api('DELETE', `/api/admin/categories/${category.id}`, {
      token: store.admin.token,
    });
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(await categoryRow(category.id)).toBeUndefined();
    expect(await eventsOf(store.id)).toEqual([menuUpdated('deleted', null, category.id)]);
  });

  it('refuses to remove a category that still has menus (409 CATEGORY_HAS_MENUS)', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    await addMenuRow(store.id, category.id, { name: '김치찌개' });
    const res = await api('DELETE', `/api/admin/categories/${category.id}`, {
      token: store.admin.token,
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CATEGORY_HAS_MENUS');
    expect(await categoryRow(category.id)).toBeDefined();
    expect(await eventsOf(store.id)).toEqual([]);
  });

  it('answers 404 for another store’s category on change and removal, changing nothing', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirs = await newCategory(other.id, '남의 찌개', 0);
    const path = `/api/admin/categories/${theirs.id}`;
    const change = await api('PATCH', path, { token: store.admin.token, body: { name: '내 것' } });
    expect(change.status).toBe(404);
    expect(change.body.error.code).toBe('NOT_FOUND');
    expect((await api('DELETE', path, { token: store.admin.token })).status).toBe(404);
    expect(await categoryRow(theirs.id)).toMatchObject({ name: '남의 찌개' });
    expect(await eventsOf(store.id)).toEqual([]);
    expect(await eventsOf(other.id)).toEqual([]);
  });

  it('answers 404 for an unknown category and 400 for a malformed id', async () => {
    const store = await newStore();
    const { token } = store.admin;
    const body = { name: '음료' };
    expect((await api('PATCH', `/api/admin/categories/${nobody()}`, { token, body })).status).toBe(
      404,
    );
    expect((await api('DELETE', `/api/admin/categories/${nobody()}`, { token })).status).toBe(404);
    expect((await api('DELETE', '/api/admin/categories/abc', { token })).status).toBe(400);
  });

  it('refuses a tablet on every category route (403)', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const category = await newCategory(store.id, '찌개');
    const { token } = table;
    const path = `/api/admin/categories/${category.id}`;
    const calls = [
      api('GET', '/api/admin/categories', { token }),
      api('POST', '/api/admin/categories', { token, body: { name: '음료' } }),
      api('PATCH', path, { token, body: { name: '음료' } }),
      api('DELETE', path, { token }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    expect(await categoryRow(category.id)).toMatchObject({ name: '찌개' });
  });
});

describe('adding a menu', () => {
  it('adds it last in its category, available, without an image, and tells the tablets', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    await addMenuRow(store.id, category.id, { name: '김치찌개', displayOrder: 4 });
    const res = await api('POST', '/api/admin/menus', {
      token: store.admin.token,
      body: { category_id: category.id, name: '된장찌개', price: 8000 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      category_id: category.id,
      name: '된장찌개',
      price: 8000,
      description: null,
      translations: {},
      is_available: true,
      display_order: 5,
      image: null,
      image_status: null,
      option_groups: [],
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
    expect(await menuRow(res.body.id)).toMatchObject({
      storeId: store.id,
      categoryId: category.id,
      name: '된장찌개',
      price: 8000,
    });
    expect(await eventsOf(store.id)).toEqual([menuUpdated('created', res.body.id, category.id)]);
  });

  it('keeps every field the admin gives', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const body = {
      category_id: category.id,
      name: '부대찌개',
      price: 0,
      description: '2인분부터',
      is_available: false,
      display_order: 2,
    };
    const res = await api('POST', '/api/admin/menus', { token: store.admin.token, body });
    expect(res.status).toBe(201);
    const { category_id, ...rest } = body;
    expect(res.body).toMatchObject({ ...rest, category_id });
  });

  it('keeps a description of several lines, with its line breaks and tabs', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const description = '2인분부터\n맵기:\t순한맛 / 매운맛\r\n공기밥 별도';
    const res = await api('POST', '/api/admin/menus', {
      token: store.admin.token,
      body: { category_id: category.id, name: '부대찌개', price: 12_000, description },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.description).toBe(description);
    expect((await menuRow(res.body.id))!.description).toBe(description);
  });

  it('answers 404 (field category_id) for another store’s or an unknown category, adding nothing', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirs = await newCategory(other.id, '남의 찌개');
    for (const categoryId of [theirs.id, nobody()]) {
      const res = await api('POST', '/api/admin/menus', {
        token: store.admin.token,
        body: { category_id: categoryId, name: '몰래 메뉴', price: 1000 },
      });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({
        code: 'NOT_FOUND',
        details: { field: 'category_id' },
      });
    }
    expect((await api('GET', '/api/admin/menus', { token: other.admin.token })).body).toEqual({
      menus: [],
    });
    expect(await eventsOf(store.id)).toEqual([]);
    expect(await eventsOf(other.id)).toEqual([]);
  });

  it.each([
    ['a negative price', { price: -1 }],
    ['a price as text', { price: '9000' }],
    ['a fractional price', { price: 99.5 }],
    ['a price over 10,000,000', { price: 10_000_001 }],
    ['an empty name', { name: '' }],
    ['a name over 100 characters', { name: '가'.repeat(101) }],
    ['a name with a NUL character', { name: '김치\u0000찌개' }],
    ['a description with a NUL character', { description: '매콤\u0000' }],
    ['a description with an escape character', { description: '\u001b[31m매콤' }],
    ['no category', { category_id: undefined }],
    ['a malformed category id', { category_id: 'soup' }],
    ['availability as text', { is_available: 'yes' }],
  ])('refuses %s (400) and adds nothing', async (_, change) => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const body = { category_id: category.id, name: '김치찌개', price: 9000, ...change };
    const res = await api('POST', '/api/admin/menus', { token: store.admin.token, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect((await api('GET', '/api/admin/menus', { token: store.admin.token })).body).toEqual({
      menus: [],
    });
    expect(await eventsOf(store.id)).toEqual([]);
  });

  it('answers 400 to a body that is not JSON and 403 to a tablet', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const category = await newCategory(store.id, '찌개');
    const broken = await api('POST', '/api/admin/menus', {
      token: store.admin.token,
      rawBody: '{',
    });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('VALIDATION_ERROR');
    const tablet = await api('POST', '/api/admin/menus', {
      token: table.token,
      body: { category_id: category.id, name: '김치찌개', price: 9000 },
    });
    expect(tablet.status).toBe(403);
  });
});

describe('looking up menus', () => {
  it('shows one menu, with its image once the variants are ready', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const menu = await addMenuRow(store.id, category.id, { name: '김치찌개', price: 9000 });
    const key = `menus/${unique('img')}`;
    await finishImage(menu.id, key);
    const res = await api('GET', `/api/admin/menus/${menu.id}`, { token: store.admin.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: menu.id,
      category_id: category.id,
      name: '김치찌개',
      price: 9000,
      description: null,
      translations: {},
      is_available: true,
      display_order: 0,
      image: {
        thumbnail_url: `/images/${key}/thumbnail.webp`,
        display_url: `/images/${key}/display.webp`,
      },
      image_status: 'ready',
      option_groups: [],
      created_at: menu.createdAt.toISOString(),
      updated_at: expect.stringMatching(ISO),
    });
  });

  it('lists the store’s menus by category, or one category’s with ?category_id=', async () => {
    const store = await newStore();
    const other = await newStore();
    const soups = await newCategory(store.id, '찌개', 0);
    const drinks = await newCategory(store.id, '음료', 1);
    const cola = await addMenuRow(store.id, drinks.id, { name: '콜라', displayOrder: 0 });
    const doenjang = await addMenuRow(store.id, soups.id, { name: '된장찌개', displayOrder: 1 });
    const kimchi = await addMenuRow(store.id, soups.id, { name: '김치찌개', displayOrder: 0 });
    await addMenuRow(other.id, (await newCategory(other.id, '남의 것')).id, { name: '남의 메뉴' });

    const all = await api('GET', '/api/admin/menus', { token: store.admin.token });
    expect(all.status).toBe(200);
    expect(all.body.menus.map((m: { id: string }) => m.id)).toEqual([
      kimchi.id,
      doenjang.id,
      cola.id,
    ]);
    const soupsOnly = await api('GET', `/api/admin/menus?category_id=${soups.id}`, {
      token: store.admin.token,
    });
    expect(soupsOnly.body.menus.map((m: { name: string }) => m.name)).toEqual([
      '김치찌개',
      '된장찌개',
    ]);
  });

  it('answers 404 for another store’s menu or category filter, 400 for malformed ids', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirCategory = await newCategory(other.id, '남의 것');
    const theirs = await addMenuRow(other.id, theirCategory.id, { name: '남의 메뉴' });
    const { token } = store.admin;
    expect((await api('GET', `/api/admin/menus/${theirs.id}`, { token })).status).toBe(404);
    const filter = await api('GET', `/api/admin/menus?category_id=${theirCategory.id}`, { token });
    expect(filter.status).toBe(404);
    expect(filter.body.error.details).toEqual({ field: 'category_id' });
    expect((await api('GET', `/api/admin/menus?category_id=${nobody()}`, { token })).status).toBe(
      404,
    );
    expect((await api('GET', '/api/admin/menus?category_id=x', { token })).status).toBe(400);
    expect((await api('GET', '/api/admin/menus/x', { token })).status).toBe(400);
  });

  it('refuses a tablet (403)', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const category = await newCategory(store.id, '찌개');
    const menu = await addMenuRow(store.id, category.id, { name: '김치찌개' });
    expect((await api('GET', '/api/admin/menus', { token: table.token })).status).toBe(403);
    expect((await api('GET', `/api/admin/menus/${menu.id}`, { token: table.token })).status).toBe(
      403,
    );
  });
});

describe('changing a menu', () => {
  it('changes only the fields sent and tells the tablets', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const menu = await addMenuRow(store.id, category.id, { name: '김치찌개', price: 9000 });
    const res = await api('PATCH', `/api/admin/menus/${menu.id}`, {
      token: store.admin.token,
      body: { price: 9500, is_available: false, description: '매콤' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      id: menu.id,
      category_id: category.id,
      name: '김치찌개',
      price: 9500,
      description: '매콤',
      translations: {},
      is_available: false,
      display_order: 0,
      image: null,
      image_status: null,
      option_groups: [],
      created_at: menu.createdAt.toISOString(),
      updated_at: expect.stringMatching(ISO),
    });
    const row = await menuRow(menu.id);
    expect(row).toMatchObject({ price: 9500, isAvailable: false, description: '매콤' });
    expect(row!.updatedAt.getTime()).toBeGreaterThan(menu.updatedAt.getTime());
    expect(await eventsOf(store.id)).toEqual([menuUpdated('updated', menu.id, category.id)]);
  });

  it('clears the description with null or a blank one', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const menu = await addMenuRow(store.id, category.id, { name: '김치찌개' });
    await api('PATCH', `/api/admin/menus/${menu.id}`, {
      token: store.admin.token,
      body: { description: '곧 사라질 설명' },
    });
    const res = await api('PATCH', `/api/admin/menus/${menu.id}`, {
      token: store.admin.token,
      body: { description: null },
    });
    expect(res.body.description).toBeNull();
    expect((await menuRow(menu.id))!.description).toBeNull();
    await api('PATCH', `/api/admin/menus/${menu.id}`, {
      token: store.admin.token,
      body: { description: '다시 쓴 설명' },
    });
    const blank = await api('PATCH', `/api/admin/menus/${menu.id}`, {
      token: store.admin.token,
      body: { description: '   ' },
    });
    expect(blank.body.description).toBeNull();
  });

  it('moves a menu to another category of the store, last there', async () => {
    const store = await newStore();
    const soups = await newCategory(store.id, '찌개');
    const specials = await newCategory(store.id, '오늘의 메뉴');
    await addMenuRow(store.id, specials.id, { name: '제육볶음', displayOrder: 3 });
    const menu = await addMenuRow(store.id, soups.id, { name: '김치찌개' });
    const res = await api('PATCH', `/api/admin/menus/${menu.id}`, {
      token: store.admin.token,
      body: { category_id: specials.id },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ category_id: specials.id, display_order: 4 });
    expect(await eventsOf(store.id)).toEqual([menuUpdated('updated', menu.id, specials.id)]);
  });

  it('answers 404 (field category_id) for a move to another store’s category, changing nothing', async () => {
    const store = await newStore();
    const other = await newStore();
    const category = await newCategory(store.id, '찌개');
    const theirs = await newCategory(other.id, '남의 것');
    const menu = await addMenuRow(store.id, category.id, { name: '김치찌개', price: 9000 });
    const res = await api('PATCH', `/api/admin/menus/${menu.id}`, {
      token: store.admin.token,
      body: { category_id: theirs.id, price: 1 },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.details).toEqual({ field: 'category_id' });
    expect(await menuRow(menu.id)).toMatchObject({ categoryId: category.id, price: 9000 });
    expect(await eventsOf(store.id)).toEqual([]);
  });

  it('answers 404 for another store’s menu and leaves it alone', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirs = await addMenuRow(other.id, (await newCategory(other.id, '남의 것')).id, {
      name: '남의 메뉴',
      price: 7000,
    });
    const res = await api('PATCH', `/api/admin/menus/${theirs.id}`, {
      token: store.admin.token,
      body: { price: 1 },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(await menuRow(theirs.id)).toMatchObject({ price: 7000 });
    expect(await eventsOf(other.id)).toEqual([]);
  });

  it.each([
    ['nothing to change', {}],
    ['a negative price', { price: -100 }],
    ['a price as text', { price: '100' }],
    ['an empty name', { name: '' }],
    ['a name over 100 characters', { name: 'x'.repeat(101) }],
    ['a description with a NUL character', { description: '매콤\u0000' }],
  ])('refuses %s (400)', async (_, body) => {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const menu = await addMenuRow(store.id, category.id, { name: '김치찌개', price: 9000 });
    const res = await api('PATCH', `/api/admin/menus/${menu.id}`, {
      token: store.admin.token,
      body,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(await menuRow(menu.id)).toMatchObject({ name: '김치찌개', price: 9000 });
  });

  it('answers 404 for an unknown menu, 400 to broken JSON, 403 to a tablet', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const menu = await addMenuRow(store.id, (await newCategory(store.id, '찌개')).id, {
      name: '김치찌개',
    });
    const { token } = store.admin;
    const path = `/api/admin/menus/${menu.id}`;
    expect(
      (await api('PATCH', `/api/admin/menus/${nobody()}`, { token, body: { price: 1 } })).status,
    ).toBe(404);
    expect((await api('PATCH', path, { token, rawBody: '{' })).status).toBe(400);
    expect((await api('PATCH', path, { token: table.token, body: { price: 1 } })).status).toBe(403);
    expect(await menuRow(menu.id)).toMatchObject({ price: 1000 });
  });
});

describe('removing a menu', () => {
  it('removes it (204); orders already taken keep its name and price', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const category = await newCategory(store.id, '찌개');
    const menu = await addMenuRow(store.id, category.id, { name: '김치찌개', price: 9000 });
    const { orderId } = await seatParty(store.id, table.id, menu);

    const res = await api('DELETE', `/api/admin/menus/${menu.id}`, { token: store.admin.token });

    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(await menuRow(menu.id)).toBeUndefined();
    expect(await orderItemsOf(orderId!)).toMatchObject([
      { menuId: null, menuName: '김치찌개', unitPrice: 9000, quantity: 1, subtotal: 9000 },
    ]);
    expect(await eventsOf(store.id)).toEqual([menuUpdated('deleted', menu.id, category.id)]);
  });

  it('answers 404 for another store’s menu and leaves it there', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirs = await addMenuRow(other.id, (await newCategory(other.id, '남의 것')).id, {
      name: '남의 메뉴',
    });
    const res = await api('DELETE', `/api/admin/menus/${theirs.id}`, {
      token: store.admin.token,
    });
    expect(res.status).toBe(404);
    expect(await menuRow(theirs.id)).toBeDefined();
    expect(await eventsOf(other.id)).toEqual([]);
  });

  it('answers 404 for an unknown menu, 400 for a malformed id, 403 to a tablet', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const menu = await addMenuRow(store.id, (await newCategory(store.id, '찌개')).id, {
      name: '김치찌개',
    });
    const { token } = store.admin;
    expect((await api('DELETE', `/api/admin/menus/${nobody()}`, { token })).status).toBe(404);
    expect((await api('DELETE', '/api/admin/menus/1', { token })).status).toBe(400);
    const tablet = await api('DELETE', `/api/admin/menus/${menu.id}`, { token: table.token });
    expect(tablet.status).toBe(403);
    expect(await menuRow(menu.id)).toBeDefined();
  });
});

describe('putting a category’s menus in order', () => {
  async function soupCategory() {
    const store = await newStore();
    const category = await newCategory(store.id, '찌개');
    const kimchi = await addMenuRow(store.id, category.id, { name: '김치찌개', displayOrder: 0 });
    const doenjang = await addMenuRow(store.id, category.id, { name: '된장찌개', displayOrder: 1 });
    const budae = await addMenuRow(store.id, category.id, { name: '부대찌개', displayOrder: 2 });
    return { store, category, kimchi, doenjang, budae };
  }
  const orderOf = async (...ids: string[]) =>
    Promise.all(ids.map(async (id) => (await menuRow(id))!.displayOrder));

  it('sets each menu’s position, answers the menus in their new order and tells the tablets', async () => {
    const { store, category, kimchi, doenjang, budae } = await soupCategory();
    const res = await api('PUT', '/api/admin/menus/order', {
      token: store.admin.token,
      body: { category_id: category.id, menu_ids: [budae.id, kimchi.id, doenjang.id] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(
      res.body.menus.map((m: { id: string; display_order: number }) => [m.id, m.display_order]),
    ).toEqual([
      [budae.id, 0],
      [kimchi.id, 1],
      [doenjang.id, 2],
    ]);
    expect(res.body.menus[0]).toMatchObject({ name: '부대찌개', category_id: category.id });
    expect(await orderOf(budae.id, kimchi.id, doenjang.id)).toEqual([0, 1, 2]);
    expect(await eventsOf(store.id)).toEqual([menuUpdated('reordered', null, category.id)]);
  });

  it('accepts an empty list for an empty category', async () => {
    const store = await newStore();
    const category = await newCategory(store.id, '빈 분류');
    const res = await api('PUT', '/api/admin/menus/order', {
      token: store.admin.token,
      body: { category_id: category.id, menu_ids: [] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ menus: [] });
  });

  it('refuses a list that leaves a menu out (400, naming it)', async () => {
    const { store, category, kimchi, doenjang, budae } = await soupCategory();
    const res = await api('PUT', '/api/admin/menus/order', {
      token: store.admin.token,
      body: { category_id: category.id, menu_ids: [budae.id, kimchi.id] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { field: 'menu_ids', missing: [doenjang.id] },
    });
    expect(await orderOf(kimchi.id, doenjang.id, budae.id)).toEqual([0, 1, 2]);
    expect(await eventsOf(store.id)).toEqual([]);
  });

  it('refuses a menu listed twice (400)', async () => {
    const { store, category, kimchi, doenjang, budae } = await soupCategory();
    const res = await api('PUT', '/api/admin/menus/order', {
      token: store.admin.token,
      body: { category_id: category.id, menu_ids: [budae.id, kimchi.id, doenjang.id, budae.id] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(await orderOf(kimchi.id, doenjang.id, budae.id)).toEqual([0, 1, 2]);
  });

  it('answers 404 for a menu of another category, of another store, or unknown', async () => {
    const { store, category, kimchi, doenjang, budae } = await soupCategory();
    const drinks = await newCategory(store.id, '음료');
    const cola = await addMenuRow(store.id, drinks.id, { name: '콜라' });
    const other = await newStore();
    const theirs = await addMenuRow(other.id, (await newCategory(other.id, '남의 것')).id, {
      name: '남의 메뉴',
    });
    for (const stranger of [cola.id, theirs.id, nobody()]) {
      const res = await api('PUT', '/api/admin/menus/order', {
        token: store.admin.token,
        body: { category_id: category.id, menu_ids: [budae.id, kimchi.id, doenjang.id, stranger] },
      });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({
        code: 'NOT_FOUND',
        details: { field: 'menu_ids', menu_ids: [stranger] },
      });
    }
    expect(await orderOf(kimchi.id, doenjang.id, budae.id, cola.id)).toEqual([0, 1, 2, 0]);
    expect(await eventsOf(store.id)).toEqual([]);
  });

  it('answers 404 (field category_id) for another store’s category, reordering nothing', async () => {
    const store = await newStore();
    const other = await newStore();
    const theirs = await newCategory(other.id, '남의 것');
    const a = await addMenuRow(other.id, theirs.id, { name: '가', displayOrder: 0 });
    const b = await addMenuRow(other.id, theirs.id, { name: '나', displayOrder: 1 });
    const res = await api('PUT', '/api/admin/menus/order', {
      token: store.admin.token,
      body: { category_id: theirs.id, menu_ids: [b.id, a.id] },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.details).toEqual({ field: 'category_id' });
    expect(await orderOf(a.id, b.id)).toEqual([0, 1]);
    expect(await eventsOf(other.id)).toEqual([]);
  });

  it('answers 400 to malformed ids or JSON, 403 to a tablet', async () => {
    const { store, category, kimchi } = await soupCategory();
    const table = await newTable(store.id);
    const { token } = store.admin;
    const path = '/api/admin/menus/order';
    const malformed = await api('PUT', path, {
      token,
      body: { category_id: category.id, menu_ids: ['kimchi'] },
    });
    expect(malformed.status).toBe(400);
    expect((await api('PUT', path, { token, rawBody: '{' })).status).toBe(400);
    const tablet = await api('PUT', path, {
      token: table.token,
      body: { category_id: category.id, menu_ids: [kimchi.id] },
    });
    expect(tablet.status).toBe(403);
  });
});
