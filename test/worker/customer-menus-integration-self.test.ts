import { describe, expect, it } from 'vitest';
import { addMenuRow, finishImage, newCategory, nobody, startImage } from './support/catalog.ts';
import { api, newStore, newSuperAdmin, newTable, unique } from './support/fixtures.ts';

/** A store with a small menu book, a tablet, and another store with a menu of its own. */
async function restaurant() {
  const store = await newStore();
  const table = await newTable(store.id);
  const drinks = await newCategory(store.id, '음료', 2);
  const soups = await newCategory(store.id, '찌개', 1);
  const seasonal = await newCategory(store.id, '계절 메뉴', 2);
  const doenjang = await addMenuRow(store.id, soups.id, {
    name: '된장찌개',
    price: 8000,
    displayOrder: 1,
  });
  const kimchi = await addMenuRow(store.id, soups.id, {
    name: '김치찌개',
    price: 9000,
    displayOrder: 0,
  });
  const cider = await addMenuRow(store.id, drinks.id, { name: '사이다', price: 2000 });
  const cola = await addMenuRow(store.id, drinks.id, {
    name: '콜라',
    price: 2000,
    isAvailable: false,
  });
  const other = await newStore();
  const theirCategory = await newCategory(other.id, '남의 분류', 0);
  const theirMenu = await addMenuRow(other.id, theirCategory.id, { name: '남의 메뉴' });
  return { store, table, drinks, soups, seasonal, kimchi, doenjang, cider, cola, theirMenu };
}

const guestMenu = (
  menu: { id: string; name: string; price: number; displayOrder: number },
  extra: Record<string, unknown> = {},
) => ({
  id: menu.id,
  name: menu.name,
  price: menu.price,
  description: null,
  is_available: true,
  display_order: menu.displayOrder,
  image: null,
  option_groups: [],
  ...extra,
});

describe('the guests’ menu', () => {
  it('shows the store’s categories and menus in order, sold-out menus and empty categories included', async () => {
    const r = await restaurant();
    const key = `menus/${unique('img')}`;
    await finishImage(r.kimchi.id, key);

    const res = await api('GET', '/api/customer/menus', { token: r.table.token });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      lang: 'ko',
      menu_version: expect.stringMatching(/^[0-9a-f]{16}$/),
      categories: [
        {
          id: r.soups.id,
          name: '찌개',
          display_order: 1,
          menus: [
            guestMenu(r.kimchi, {
              image: {
                thumbnail_url: `/images/${key}/thumbnail.webp`,
                display_url: `/images/${key}/display.webp`,
              },
            }),
            guestMenu(r.doenjang),
          ],
        },
        { id: r.seasonal.id, name: '계절 메뉴', display_order: 2, menus: [] },
        {
          id: r.drinks.id,
          name: '음료',
          display_order: 2,
          menus: [guestMenu(r.cider), guestMenu(r.cola, { is_available: false })],
        },
      ],
    });
  });

  it('is empty for a store without a menu yet', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const res = await api('GET', '/api/customer/menus', { token: table.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ lang: 'ko', menu_version: expect.any(String), categories: [] });
  });

  it('shows no image while the variants are still being made', async () => {
    const store = await newStore();
    const table = await newTable(store.id);
    const category = await newCategory(store.id, '찌개');
    const menu = await addMenuRow(store.id, category.id, { name: '김치찌개' });
    await startImage(menu.id, `menus/${unique('img')}`);
    const res = await api('GET', '/api/customer/menus', { token: table.token });
    expect(res.body.categories[0].menus[0]).toMatchObject({ id: menu.id, image: null });
    const admin = await api('GET', `/api/admin/menus/${menu.id}`, { token: store.admin.token });
    expect(admin.body).toMatchObject({ image: null, image_status: 'processing' });
  });

  it('follows the admin’s reordering, price and 품절 changes', async () => {
    const r = await restaurant();
    const { token } = r.store.admin;
    const reorder = await api('PUT', '/api/admin/menus/order', {
      token,
      body: { category_id: r.soups.id, menu_ids: [r.doenjang.id, r.kimchi.id] },
    });
    expect(reorder.status).toBe(200);
    await api('PATCH', `/api/admin/menus/${r.cola.id}`, {
      token,
      body: { is_available: true, price: 2500 },
    });
    await api('PATCH', `/api/admin/categories/${r.drinks.id}`, {
      token,
      body: { display_order: 0 },
    });

    const res = await api('GET', '/api/customer/menus', { token: r.table.token });

    expect(
      res.body.categories.map((c: { name: string; menus: Array<{ name: string }> }) => [
        c.name,
        c.menus.map((m) => m.name),
      ]),
    ).toEqual([
      ['음료', ['사이다', '콜라']],
      ['찌개', ['된장찌개', '김치찌개']],
      ['계절 메뉴', []],
    ]);
    expect(
      res.body.categories[1].menus.map((m: { display_order: number }) => m.display_order),
    ).toEqual([0, 1]);
    expect(res.body.categories[0].menus[1]).toMatchObject({ price: 2500, is_available: true });
  });

  it('is for tablets: an admin or super admin gets 403, nobody gets 401', async () => {
    const store = await newStore();
    const superAdmin = await newSuperAdmin();
    const asAdmin = await api('GET', '/api/customer/menus', { token: store.admin.token });
    expect(asAdmin.status).toBe(403);
    expect(asAdmin.body.error.code).toBe('FORBIDDEN');
    expect((await api('GET', '/api/customer/menus', { token: superAdmin.token })).status).toBe(403);
    const anonymous = await api('GET', '/api/customer/menus');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('TOKEN_MISSING');
  });
});

describe('one menu, for its detail view', () => {
  it('shows the menu as guests see it', async () => {
    const r = await restaurant();
    const res = await api('GET', `/api/customer/menus/${r.doenjang.id}`, { token: r.table.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(guestMenu(r.doenjang));
  });

  it('shows a sold-out menu as sold out', async () => {
    const r = await restaurant();
    const res = await api('GET', `/api/customer/menus/${r.cola.id}`, { token: r.table.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(guestMenu(r.cola, { is_available: false }));
  });

  it('answers 404 for another store’s menu or an unknown one, 400 for a malformed id', async () => {
    const r = await restaurant();
    const { token } = r.table;
    const theirs = await api('GET', `/api/customer/menus/${r.theirMenu.id}`, { token });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('NOT_FOUND');
    expect((await api('GET', `/api/customer/menus/${nobody()}`, { token })).status).toBe(404);
    const malformed = await api('GET', '/api/customer/menus/kimchi', { token });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('is for tablets: an admin gets 403', async () => {
    const r = await restaurant();
    const res = await api('GET', `/api/customer/menus/${r.kimchi.id}`, {
      token: r.store.admin.token,
    });
    expect(res.status).toBe(403);
  });
});
