/**
 * A menu's choices (맵기, 사이즈, 추가): the admin replaces the whole set with one PUT, ids of what
 * stays are kept, and the admin menu answers carry them.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PRICE_DELTA } from '../../db/schema.ts';
import { addMenuRow, newCategory, nobody } from './support/catalog.ts';
import { api, newStore, newTable, outboxOf } from './support/fixtures.ts';
import {
  optionRowsOf,
  putOptionGroups,
  STEW_CHOICES,
  withStewChoices,
  type GroupBody,
} from './support/option-groups.ts';

/** A store with one stew, and a second menu of the same store. */
async function restaurant() {
  const store = await newStore();
  const category = await newCategory(store.id, '찌개');
  const stew = await addMenuRow(store.id, category.id, { name: '김치찌개', price: 9000 });
  const rice = await addMenuRow(store.id, category.id, { name: '공기밥', price: 1000 });
  return { store, token: store.admin.token, category, stew, rice };
}

type GroupView = {
  id: string;
  name: string;
  options: Array<{ id: string; name: string; is_available: boolean }>;
};

/** The menu.updated events of the store. */
async function menuEventsOf(storeId: string) {
  return (await outboxOf(storeId)).filter((row) => row.type === 'menu.updated');
}

describe('setting up a menu’s choices', () => {
  it('adds the groups and options in the order given and answers the menu with them', async () => {
    const { store, token, stew, category } = await restaurant();

    const res = await putOptionGroups(token, stew.id, STEW_CHOICES);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      id: stew.id,
      category_id: category.id,
      name: '김치찌개',
      price: 9000,
      translations: {},
    });
    expect(res.body.option_groups).toEqual([
      {
        id: expect.any(String),
        name: '맵기',
        min_select: 1,
        max_select: 1,
        display_order: 0,
        translations: {},
        options: ['순한맛', '보통', '매운맛'].map((name, index) => ({
          id: expect.any(String),
          name,
          price_delta: 0,
          is_available: true,
          display_order: index,
          translations: {},
        })),
      },
      {
        id: expect.any(String),
        name: '추가',
        min_select: 0,
        max_select: 2,
        display_order: 1,
        translations: {},
        options: [
          {
            id: expect.any(String),
            name: '라면사리',
            price_delta: 1000,
            is_available: true,
            display_order: 0,
            translations: {},
          },
          {
            id: expect.any(String),
            name: '치즈',
            price_delta: 500,
            is_available: true,
            display_order: 1,
            translations: {},
          },
        ],
      },
    ]);
    const rows = await optionRowsOf(stew.id);
    expect(rows.groups.map((g) => [g.id, g.storeId])).toEqual(
      res.body.option_groups.map((g: GroupView) => [g.id, store.id]),
    );
    expect(rows.options).toHaveLength(5);
    expect(await menuEventsOf(store.id)).toEqual([
      expect.objectContaining({
        tableId: null,
        payload: { action: 'updated', menu_id: stew.id, category_id: category.id },
      }),
    ]);
  });

  it('keeps every field given: order, 품절, negative deltas and translations', async () => {
    const { token, stew } = await restaurant();
    const res = await putOptionGroups(token, stew.id, [
      {
        name: '  사이즈  ',
        min_select: 1,
        max_select: 1,
        display_order: 7,
        translations: { en: { name: 'Size' }, ja: { name: 'サイズ' } },
        options: [
          {
            name: '작은 것',
            price_delta: -1000,
            display_order: 3,
            translations: { en: { name: 'Small' } },
          },
          { name: '큰 것', price_delta: MAX_PRICE_DELTA, is_available: false },
        ],
      },
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.option_groups).toEqual([
      expect.objectContaining({
        name: '사이즈',
        display_order: 7,
        translations: { en: { name: 'Size' }, ja: { name: 'サイズ' } },
        // In display order: the second option defaults to its index, 1, before the first's 3.
        options: [
          expect.objectContaining({
            name: '큰 것',
            price_delta: MAX_PRICE_DELTA,
            is_available: false,
            display_order: 1,
          }),
          expect.objectContaining({
            name: '작은 것',
            price_delta: -1000,
            display_order: 3,
            translations: { en: { name: 'Small' } },
          }),
        ],
      }),
    ]);
  });

  it('shows the choices on every admin answer about the menu', async () => {
    const { token, stew, rice, category } = await restaurant();
    const set = await withStewChoices(token, stew.id);

    const one = await api('GET', `/api/admin/menus/${stew.id}`, { token });
    expect(one.body).toEqual(set);
    const list = await api('GET', '/api/admin/menus', { token });
    expect(list.body.menus.find((m: { id: string }) => m.id === stew.id)).toEqual(set);
    expect(list.body.menus.find((m: { id: string }) => m.id === rice.id).option_groups).toEqual([]);
    const inCategory = await api('GET', `/api/admin/menus?category_id=${category.id}`, { token });
    expect(inCategory.body.menus.find((m: { id: string }) => m.id === stew.id)).toEqual(set);
    const changed = await api('PATCH', `/api/admin/menus/${stew.id}`, {
      token,
      body: { price: 9500 },
    });
    expect(changed.body.option_groups).toEqual(set.option_groups);
    const reordered = await api('PUT', '/api/admin/menus/order', {
      token,
      body: { category_id: category.id, menu_ids: [rice.id, stew.id] },
    });
    expect(reordered.body.menus[1].option_groups).toEqual(set.option_groups);
    const added = await api('POST', '/api/admin/menus', {
      token,
      body: { category_id: category.id, name: '계란찜', price: 3000 },
    });
    expect(added.body).toMatchObject({ option_groups: [], translations: {} });
  });
});

describe('replacing a menu’s choices', () => {
  it('keeps the ids of what stays, removes what is left out and adds what is new', async () => {
    const { token, stew } = await restaurant();
    const before = await withStewChoices(token, stew.id);
    const [spice, extras] = before.option_groups as [GroupView, GroupView];
    const [, medium, hot] = spice.options;

    const res = await putOptionGroups(token, stew.id, [
      {
        name: '토핑',
        min_select: 0,
        max_select: 3,
        options: [
          { name: '떡', price_delta: 700 },
          { id: extras.options[1]!.id, name: '모짜렐라 치즈', price_delta: 800 },
          { name: '만두', price_delta: 1500 },
        ],
      },
      {
        id: spice.id,
        name: '맵기 선택',
        min_select: 1,
        max_select: 1,
        options: [
          { id: hot!.id, name: '아주 매운맛', price_delta: 0 },
          { id: medium!.id, name: '보통', price_delta: 0 },
        ],
      },
    ]);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [toppings, newSpice] = res.body.option_groups as [GroupView, GroupView];
    expect(newSpice).toMatchObject({ id: spice.id, name: '맵기 선택', display_order: 1 });
    expect(newSpice.options.map((o) => [o.id, o.name])).toEqual([
      [hot!.id, '아주 매운맛'],
      [medium!.id, '보통'],
    ]);
    expect(toppings.id).not.toBe(extras.id);
    expect(toppings.options.map((o) => o.name)).toEqual(['떡', '모짜렐라 치즈', '만두']);
    // The cheese moved from the removed group to the new one, keeping its id.
    expect(toppings.options[1]!.id).toBe(extras.options[1]!.id);
    const rows = await optionRowsOf(stew.id);
    expect(rows.groups.map((g) => g.id).sort()).toEqual([spice.id, toppings.id].sort());
    expect(rows.options.map((o) => o.id).sort()).toEqual(
      [...newSpice.options, ...toppings.options].map((o) => o.id).sort(),
    );
    expect(rows.options.find((o) => o.id === extras.options[1]!.id)!.groupId).toBe(toppings.id);
  });

  it('keeps an option’s 품절 and translations when the body leaves them out', async () => {
    const { token, stew } = await restaurant();
    const first = await putOptionGroups(token, stew.id, [
      {
        name: '맵기',
        min_select: 1,
        max_select: 1,
        translations: { en: { name: 'Spiciness' } },
        options: [
          {
            name: '매운맛',
            price_delta: 0,
            is_available: false,
            translations: { en: { name: 'Hot' } },
          },
          { name: '순한맛', price_delta: 0 },
        ],
      },
    ]);
    const group = first.body.option_groups[0] as GroupView;
    const again = await putOptionGroups(token, stew.id, [
      {
        id: group.id,
        name: '맵기',
        min_select: 1,
        max_select: 1,
        options: group.options.map((o) => ({ id: o.id, name: o.name, price_delta: 0 })),
      },
    ]);
    expect(again.status).toBe(200);
    expect(again.body.option_groups).toEqual(first.body.option_groups);

    const cleared = await putOptionGroups(token, stew.id, [
      {
        id: group.id,
        name: '맵기',
        min_select: 1,
        max_select: 1,
        translations: {},
        options: group.options.map((o) => ({
          id: o.id,
          name: o.name,
          price_delta: 0,
          is_available: true,
        })),
      },
    ]);
    expect(cleared.body.option_groups[0]).toMatchObject({
      translations: {},
      options: [
        { is_available: true, translations: { en: { name: 'Hot' } } },
        { is_available: true },
      ],
    });
  });

  it('takes every choice off with an empty list', async () => {
    const { token, stew } = await restaurant();
    await withStewChoices(token, stew.id);
    const res = await putOptionGroups(token, stew.id, []);
    expect(res.status).toBe(200);
    expect(res.body.option_groups).toEqual([]);
    expect(await optionRowsOf(stew.id)).toEqual({ groups: [], options: [] });
  });

  it('ends in one whole set or the other when two admins replace it at once', async () => {
    const { token, stew } = await restaurant();
    await withStewChoices(token, stew.id);
    const sizes: GroupBody[] = [
      {
        name: '사이즈',
        min_select: 1,
        max_select: 1,
        options: [
          { name: '소', price_delta: 0 },
          { name: '대', price_delta: 3000 },
        ],
      },
    ];
    const [a, b] = await Promise.all([
      putOptionGroups(token, stew.id, STEW_CHOICES),
      putOptionGroups(token, stew.id, sizes),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const now = await api('GET', `/api/admin/menus/${stew.id}`, { token });
    expect([a.body.option_groups, b.body.option_groups]).toContainEqual(now.body.option_groups);
    const rows = await optionRowsOf(stew.id);
    expect(rows.options).toHaveLength(now.body.option_groups.length === 1 ? 2 : 5);
  });
});

/** A valid group, changed by `change`. */
const group = (change: Partial<GroupBody> = {}): GroupBody => ({
  name: '맵기',
  min_select: 1,
  max_select: 1,
  options: [
    { name: '순한맛', price_delta: 0 },
    { name: '매운맛', price_delta: 0 },
  ],
  ...change,
});
const options = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ name: `옵션 ${i}`, price_delta: 0 }));

describe('refusing choices that cannot be ordered', () => {
  it.each<[string, unknown, string]>([
    [
      'min_select over max_select',
      [group({ min_select: 2, max_select: 1 })],
      'option_groups.0.min_select',
    ],
    [
      'min_select over the number of options',
      [group({ min_select: 3, max_select: 3 })],
      'option_groups.0.min_select',
    ],
    [
      'max_select over the number of options',
      [group({ min_select: 0, max_select: 3 })],
      'option_groups.0.max_select',
    ],
    ['a negative min_select', [group({ min_select: -1 })], 'option_groups.0.min_select'],
    ['a max_select of 0', [group({ min_select: 0, max_select: 0 })], 'option_groups.0.max_select'],
    ['a group without options', [group({ min_select: 0, options: [] })], 'option_groups.0.options'],
    ['a group of 51 options', [group({ options: options(51) })], 'option_groups.0.options'],
    [
      '21 groups',
      Array.from({ length: 21 }, (_, i) => group({ name: `그룹 ${i}` })),
      'option_groups',
    ],
    ['a blank group name', [group({ name: '   ' })], 'option_groups.0.name'],
    [
      'a blank option name',
      [group({ options: [{ name: ' ', price_delta: 0 }, ...options(1)] })],
      'option_groups.0.options.0.name',
    ],
    [
      'two options of one name in a group',
      [
        group({
          options: [
            { name: '매운맛', price_delta: 0 },
            { name: ' 매운맛 ', price_delta: 500 },
          ],
        }),
      ],
      'option_groups.0.options.1.name',
    ],
    ['two groups of one name', [group(), group({ name: '맵기 ' })], 'option_groups.1.name'],
    [
      'a price delta over the limit',
      [group({ options: [{ name: '금가루', price_delta: MAX_PRICE_DELTA + 1 }, ...options(1)] })],
      'option_groups.0.options.0.price_delta',
    ],
    [
      'a price delta under the limit',
      [group({ options: [{ name: '할인', price_delta: -MAX_PRICE_DELTA - 1 }, ...options(1)] })],
      'option_groups.0.options.0.price_delta',
    ],
    [
      'a price delta that is not whole won',
      [group({ options: [{ name: '반', price_delta: 0.5 }, ...options(1)] })],
      'option_groups.0.options.0.price_delta',
    ],
    [
      'a translation into an unknown language',
      [group({ translations: { fr: { name: 'Piquant' } } })],
      'option_groups.0.translations',
    ],
    [
      'a blank translated name',
      [group({ translations: { en: { name: '  ' } } })],
      'option_groups.0.translations.en.name',
    ],
    ['a malformed id', [group({ id: 'not-a-uuid' })], 'option_groups.0.id'],
  ])('refuses %s (400, naming where), changing nothing', async (_, groups, path) => {
    const { store, token, stew } = await restaurant();
    const before = await withStewChoices(token, stew.id);
    const rowsBefore = await optionRowsOf(stew.id);
    const eventsBefore = await menuEventsOf(store.id);

    const res = await putOptionGroups(token, stew.id, groups as GroupBody[]);

    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await optionRowsOf(stew.id)).toEqual(rowsBefore);
    expect(await menuEventsOf(store.id)).toEqual(eventsBefore);
    expect((await api('GET', `/api/admin/menus/${stew.id}`, { token })).body).toEqual(before);
  });

  it('refuses one id given twice (400)', async () => {
    const { token, stew } = await restaurant();
    const set = await withStewChoices(token, stew.id);
    const spice = set.option_groups[0] as GroupView;
    const res = await putOptionGroups(token, stew.id, [
      group({
        id: spice.id,
        options: [
          { id: spice.options[0]!.id, name: '순한맛', price_delta: 0 },
          { id: spice.options[0]!.id, name: '매운맛', price_delta: 0 },
        ],
      }),
    ]);
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(
      'option_groups.0.options.1.id',
    );
  });

  it('answers 400 to a body without option_groups, or not JSON', async () => {
    const { token, stew } = await restaurant();
    const path = `/api/admin/menus/${stew.id}/option-groups`;
    expect((await api('PUT', path, { token, body: {} })).status).toBe(400);
    expect((await api('PUT', path, { token, rawBody: '{"option_groups":' })).status).toBe(400);
  });
});

describe('ids that are not this menu’s', () => {
  it('answers 404 naming a group or option of another menu of the store, changing nothing', async () => {
    const { store, token, stew, rice } = await restaurant();
    const riceChoices = await withStewChoices(token, rice.id);
    const before = await withStewChoices(token, stew.id);
    const rowsBefore = await optionRowsOf(stew.id);
    const eventsBefore = await menuEventsOf(store.id);
    const theirGroup = riceChoices.option_groups[0] as GroupView;
    const theirOption = (riceChoices.option_groups[1] as GroupView).options[0]!;
    const unknown = nobody();

    const res = await putOptionGroups(token, stew.id, [
      group({ id: theirGroup.id }),
      group({
        name: '추가',
        min_select: 0,
        options: [
          { id: theirOption.id, name: '치즈', price_delta: 0 },
          { id: unknown, name: '떡', price_delta: 0 },
        ],
      }),
    ]);

    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({
      code: 'NOT_FOUND',
      details: { group_ids: [theirGroup.id], option_ids: [theirOption.id, unknown] },
    });
    expect(await optionRowsOf(stew.id)).toEqual(rowsBefore);
    expect(await menuEventsOf(store.id)).toEqual(eventsBefore);
    expect((await api('GET', `/api/admin/menus/${stew.id}`, { token })).body).toEqual(before);
    expect((await api('GET', `/api/admin/menus/${rice.id}`, { token })).body).toEqual(riceChoices);
  });

  it('answers 404 for another store’s menu, or its group ids, and leaves them alone', async () => {
    const ours = await restaurant();
    const theirs = await restaurant();
    const theirChoices = await withStewChoices(theirs.token, theirs.stew.id);

    const onTheirMenu = await putOptionGroups(ours.token, theirs.stew.id, STEW_CHOICES);
    expect(onTheirMenu.status).toBe(404);
    expect(onTheirMenu.body.error.code).toBe('NOT_FOUND');

    const theirGroup = theirChoices.option_groups[0] as GroupView;
    const withTheirIds = await putOptionGroups(ours.token, ours.stew.id, [
      group({ id: theirGroup.id }),
    ]);
    expect(withTheirIds.status).toBe(404);
    expect(withTheirIds.body.error.details).toEqual({ group_ids: [theirGroup.id], option_ids: [] });

    const unknownMenu = await putOptionGroups(ours.token, nobody(), STEW_CHOICES);
    expect(unknownMenu.status).toBe(404);
    expect(
      (await api('GET', `/api/admin/menus/${theirs.stew.id}`, { token: theirs.token })).body,
    ).toEqual(theirChoices);
    expect(await menuEventsOf(ours.store.id)).toEqual([]);
  });

  it('is for the store’s admin: a tablet gets 403, nobody 401', async () => {
    const { store, stew } = await restaurant();
    const table = await newTable(store.id);
    expect((await putOptionGroups(table.token, stew.id, STEW_CHOICES)).status).toBe(403);
    const anonymous = await api('PUT', `/api/admin/menus/${stew.id}/option-groups`, {
      body: { option_groups: [] },
    });
    expect(anonymous.status).toBe(401);
  });
});
