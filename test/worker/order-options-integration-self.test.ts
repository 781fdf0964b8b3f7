import { describe, expect, it } from 'vitest';
import { api, newTable, type ApiResponse } from './support/fixtures.ts';
import {
  changingUnderWaitingOrders,
  editOption,
  order,
  roomWithChoices,
  switchOption,
  type OrderBody,
} from './support/options.ts';
import { changeMenu, itemsOf, orderingRowsOf, ordersOfTable } from './support/ordering.ts';

type Room = Awaited<ReturnType<typeof roomWithChoices>>;

/** The stew with 매운맛 and two toppings (11,200 a bowl), two bowls, and a plain soju. */
function stewAndSoju(room: Room): OrderBody {
  const { options } = room.stewChoices;
  return {
    items: [
      {
        menu_id: room.stew.id,
        quantity: 2,
        option_ids: [options['계란']!, options['매운맛']!, options['라면사리']!],
        note: '  덜 짜게 해 주세요 ',
      },
      { menu_id: room.soju.id, quantity: 1, note: '   ' },
    ],
    request: ' 앞접시 두 개 주세요\n수저도요 ',
  };
}

/** Sends `body` and asserts it is refused with `status`/`code` and leaves the store untouched. */
async function refused(room: Room, body: OrderBody, status: number, code: string) {
  const before = await orderingRowsOf(room.store.id);
  const res = await order(room.table.token, body, crypto.randomUUID());
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(await orderingRowsOf(room.store.id)).toEqual(before);
  return res.body.error;
}

describe('ordering dishes with options, notes and a request', () => {
  it('charges the price plus the chosen deltas per unit, times the quantity, and snapshots the choices', async () => {
    const room = await roomWithChoices();
    const { options } = room.stewChoices;
    const res = await order(room.table.token, {
      ...stewAndSoju(room),
      items: [
        ...stewAndSoju(room).items,
        { menu_id: room.rice.id, quantity: 3, option_ids: [room.riceChoices.options['반공기']!] },
      ],
    });

    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.items).toEqual([
      {
        menu_id: room.stew.id,
        menu_name: '김치찌개',
        quantity: 2,
        unit_price: 9000 + 500 + 1000 + 700,
        // The menu's order: 맵기 before 추가, 라면사리 before 계란.
        options: [
          { option_id: options['매운맛'], group_name: '맵기', name: '매운맛', price_delta: 500 },
          {
            option_id: options['라면사리'],
            group_name: '추가',
            name: '라면사리',
            price_delta: 1000,
          },
          { option_id: options['계란'], group_name: '추가', name: '계란', price_delta: 700 },
        ],
        note: '덜 짜게 해 주세요',
        subtotal: 22_400,
      },
      {
        menu_id: room.soju.id,
        menu_name: '소주',
        quantity: 1,
        unit_price: 5000,
        options: [],
        note: null,
        subtotal: 5000,
      },
      {
        menu_id: room.rice.id,
        menu_name: '공기밥',
        quantity: 3,
        unit_price: 500,
        options: [
          {
            option_id: room.riceChoices.options['반공기'],
            group_name: '양',
            name: '반공기',
            price_delta: -500,
          },
        ],
        note: null,
        subtotal: 1500,
      },
    ]);
    expect(res.body.total_amount).toBe(22_400 + 5000 + 1500);
    expect(res.body.request).toBe('앞접시 두 개 주세요\n수저도요');

    const { orders } = await orderingRowsOf(room.store.id);
    expect(orders).toMatchObject([{ id: res.body.id, request: '앞접시 두 개 주세요\n수저도요' }]);
    const lines = await itemsOf(res.body.id);
    expect(lines.map((line) => [line.unitPrice, line.note, line.options])).toEqual(
      res.body.items.map((item: { unit_price: number; note: string | null; options: unknown }) => [
        item.unit_price,
        item.note,
        item.options,
      ]),
    );
  });

  it('answers options: [], note: null and request: null for an order without them', async () => {
    const room = await roomWithChoices();
    const res = await order(room.table.token, { items: [{ menu_id: room.soju.id, quantity: 2 }] });
    expect(res.status).toBe(201);
    expect(res.body.items).toEqual([
      {
        menu_id: room.soju.id,
        menu_name: '소주',
        quantity: 2,
        unit_price: 5000,
        options: [],
        note: null,
        subtotal: 10_000,
      },
    ]);
    expect(res.body.request).toBeNull();
  });

  it('shows the options, notes and request to the table, the admin lists, the dashboard and the event', async () => {
    const room = await roomWithChoices();
    const placed = await order(room.table.token, stewAndSoju(room));
    expect(placed.status).toBe(201);
    const admin = room.store.admin.token;

    expect((await ordersOfTable(room.table.token)).body.orders).toEqual([placed.body]);
    expect((await api('GET', '/api/admin/orders', { token: admin })).body.orders).toEqual([
      placed.body,
    ]);
    const dashboard = await api('GET', '/api/admin/dashboard', { token: admin });
    const seated = dashboard.body.tables.find(
      (table: { id: string }) => table.id === room.table.id,
    );
    expect(seated.session.latest_orders).toEqual([placed.body]);
    const { outbox } = await orderingRowsOf(room.store.id);
    expect(outbox.filter((row) => row.type === 'order.created').map((row) => row.payload)).toEqual([
      { ...placed.body, ack_seconds: 60 },
    ]);
  });

  it('keeps what was ordered when the admin reprices, renames or removes an option, through 이용 완료', async () => {
    const room = await roomWithChoices();
    const admin = room.store.admin.token;
    const { options } = room.stewChoices;
    const placed = await order(room.table.token, stewAndSoju(room));
    expect(placed.status).toBe(201);

    await editOption(admin, room.stew.id, options['계란']!, {
      price_delta: 900,
      name: '반숙 계란',
    });
    await editOption(admin, room.stew.id, options['라면사리']!, 'remove');
    await changeMenu(room.stew.id, { price: 12_000 });
    const listed = await ordersOfTable(room.table.token);
    expect(listed.body.orders).toEqual([placed.body]);
    expect(listed.body.total_amount).toBe(22_400 + 5000);

    const done = await api('POST', `/api/admin/tables/${room.table.id}/complete-session`, {
      token: admin,
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const history = await api('GET', `/api/admin/tables/${room.table.id}/order-history`, {
      token: admin,
    });
    expect(history.status).toBe(200);
    expect(history.body.data).toMatchObject([
      {
        original_order_id: placed.body.id,
        total_amount: placed.body.total_amount,
        items: placed.body.items,
        request: placed.body.request,
      },
    ]);
  });
});

describe('refusing a choice the menu does not offer', () => {
  it("refuses another dish's option: 400 OPTION_SELECTION_INVALID naming the line's menu", async () => {
    const room = await roomWithChoices();
    const half = room.riceChoices.options['반공기']!;
    const mild = room.stewChoices.options['순한맛']!;
    const error = await refused(
      room,
      { items: [{ menu_id: room.stew.id, quantity: 1, option_ids: [mild, half] }] },
      400,
      'OPTION_SELECTION_INVALID',
    );
    expect(error.details).toEqual({ menu_id: room.stew.id, option_ids: [half] });
  });

  it('refuses a required group left out, naming the group and how many were chosen', async () => {
    const room = await roomWithChoices();
    const cheese = room.stewChoices.options['치즈']!;
    for (const optionIds of [undefined, [cheese]]) {
      const error = await refused(
        room,
        { items: [{ menu_id: room.stew.id, quantity: 1, option_ids: optionIds }] },
        400,
        'OPTION_SELECTION_INVALID',
      );
      expect(error.details).toEqual({
        menu_id: room.stew.id,
        group_id: room.stewChoices.groups['맵기'],
        group_name: '맵기',
        min_select: 1,
        max_select: 1,
        selected: 0,
      });
    }
  });

  it('refuses two choices in a pick-one group and three toppings where two are allowed', async () => {
    const room = await roomWithChoices();
    const { options, groups } = room.stewChoices;
    const twoSpices = await refused(
      room,
      {
        items: [
          {
            menu_id: room.stew.id,
            quantity: 1,
            option_ids: [options['순한맛']!, options['매운맛']!],
          },
        ],
      },
      400,
      'OPTION_SELECTION_INVALID',
    );
    expect(twoSpices.details).toMatchObject({ group_id: groups['맵기'], selected: 2 });
    const threeToppings = await refused(
      room,
      {
        items: [
          {
            menu_id: room.stew.id,
            quantity: 1,
            option_ids: [
              options['보통']!,
              options['라면사리']!,
              options['치즈']!,
              options['계란']!,
            ],
          },
        ],
      },
      400,
      'OPTION_SELECTION_INVALID',
    );
    expect(threeToppings.details).toEqual({
      menu_id: room.stew.id,
      group_id: groups['추가'],
      group_name: '추가',
      min_select: 0,
      max_select: 2,
      selected: 3,
    });
  });

  it("answers 404 OPTION_NOT_FOUND for another store's option or an unknown one", async () => {
    const room = await roomWithChoices();
    const other = await roomWithChoices();
    const theirs = other.stewChoices.options['순한맛']!;
    const unknown = crypto.randomUUID();
    const error = await refused(
      room,
      { items: [{ menu_id: room.stew.id, quantity: 1, option_ids: [theirs, unknown] }] },
      404,
      'OPTION_NOT_FOUND',
    );
    expect(error.details.option_ids.toSorted()).toEqual([theirs, unknown].toSorted());
  });

  it('answers 409 OPTION_UNAVAILABLE for a sold-out option, and takes it again once back on sale', async () => {
    const room = await roomWithChoices();
    const admin = room.store.admin.token;
    const { options } = room.stewChoices;
    const body = {
      items: [
        { menu_id: room.stew.id, quantity: 1, option_ids: [options['보통']!, options['치즈']!] },
      ],
    };
    expect((await switchOption(admin, options['치즈']!, false)).status).toBe(200);
    const error = await refused(room, body, 409, 'OPTION_UNAVAILABLE');
    expect(error.details).toEqual({ option_ids: [options['치즈']] });

    expect((await switchOption(admin, options['치즈']!, true)).status).toBe(200);
    expect((await order(room.table.token, body)).status).toBe(201);
  });

  it('refuses options that would take a dish below 0 won', async () => {
    const room = await roomWithChoices();
    const coupon = room.riceChoices.options['무료 쿠폰']!;
    const error = await refused(
      room,
      { items: [{ menu_id: room.rice.id, quantity: 1, option_ids: [coupon] }] },
      400,
      'OPTION_SELECTION_INVALID',
    );
    expect(error.details).toEqual({ menu_id: room.rice.id, unit_price: -500 });
  });

  it('refuses a repeated option id, a note over 100 characters or on two lines, a request over 200', async () => {
    const room = await roomWithChoices();
    const mild = room.stewChoices.options['순한맛']!;
    const line = { menu_id: room.stew.id, quantity: 1, option_ids: [mild] };
    const bodies: OrderBody[] = [
      { items: [{ ...line, option_ids: [mild, mild.toUpperCase()] }] },
      { items: [{ ...line, note: '가'.repeat(101) }] },
      { items: [{ ...line, note: '덜 맵게\n덜 짜게' }] },
      { items: [line], request: '나'.repeat(201) },
      { items: [{ ...line, option_ids: Array.from({ length: 51 }, () => crypto.randomUUID()) }] },
    ];
    for (const body of bodies) {
      await refused(room, body, 400, 'VALIDATION_ERROR');
    }
    const longest = await order(room.table.token, {
      items: [{ ...line, note: ` ${'가'.repeat(100)} ` }],
      request: '나'.repeat(200),
    });
    expect(longest.status, JSON.stringify(longest.body)).toBe(201);
    expect(longest.body.items[0].note).toBe('가'.repeat(100));
  });
});

describe('no silent price change (expected_total)', () => {
  it('takes the order when the total is what the guest saw', async () => {
    const room = await roomWithChoices();
    const res = await order(room.table.token, { ...stewAndSoju(room), expected_total: 27_400 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.total_amount).toBe(27_400);
  });

  it('refuses with the current lines and writes nothing when a delta changed since', async () => {
    const room = await roomWithChoices();
    const { options } = room.stewChoices;
    // Today's first order, at another table: the day's counter exists and stays at 1.
    const neighbour = await newTable(room.store.id);
    expect(
      (await order(neighbour.token, { items: [{ menu_id: room.soju.id, quantity: 1 }] })).status,
    ).toBe(201);
    await editOption(room.store.admin.token, room.stew.id, options['계란']!, { price_delta: 1000 });
    const cart = { ...stewAndSoju(room), expected_total: 27_400 };

    const error = await refused(room, cart, 409, 'PRICE_CHANGED');
    expect(error.details).toEqual({
      expected_total: 27_400,
      total: 28_000,
      lines: [
        {
          menu_id: room.stew.id,
          menu_name: '김치찌개',
          quantity: 2,
          unit_price: 11_500,
          options: [
            { option_id: options['매운맛'], group_name: '맵기', name: '매운맛', price_delta: 500 },
            {
              option_id: options['라면사리'],
              group_name: '추가',
              name: '라면사리',
              price_delta: 1000,
            },
            { option_id: options['계란'], group_name: '추가', name: '계란', price_delta: 1000 },
          ],
          note: '덜 짜게 해 주세요',
          subtotal: 23_000,
        },
        {
          menu_id: room.soju.id,
          menu_name: '소주',
          quantity: 1,
          unit_price: 5000,
          options: [],
          note: null,
          subtotal: 5000,
        },
      ],
    });
    const rows = await orderingRowsOf(room.store.id);
    expect(rows.sessions.map((session) => session.tableId)).toEqual([neighbour.id]);
    expect(rows.counters).toMatchObject([{ lastNumber: 1 }]);

    const confirmed = await order(room.table.token, { ...cart, expected_total: 28_000 });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(201);
    expect(confirmed.body.order_number).toBe(2);
  });

  it("refuses when the dish's own price changed", async () => {
    const room = await roomWithChoices();
    await changeMenu(room.soju.id, { price: 5500 });
    const error = await refused(
      room,
      { items: [{ menu_id: room.soju.id, quantity: 2 }], expected_total: 10_000 },
      409,
      'PRICE_CHANGED',
    );
    expect(error.details).toMatchObject({ expected_total: 10_000, total: 11_000 });
  });
});

describe('retrying an order with options (Idempotency-Key)', () => {
  it('replays the same order for the same choices in any order, and refuses other choices, notes or request', async () => {
    const room = await roomWithChoices();
    const { options } = room.stewChoices;
    const key = crypto.randomUUID();
    const body = { ...stewAndSoju(room), expected_total: 27_400 };
    const first = await order(room.table.token, body, key);
    expect(first.status).toBe(201);

    const [stewLine, sojuLine] = body.items as [OrderBody['items'][0], OrderBody['items'][0]];
    const same = {
      ...body,
      items: [
        { ...stewLine, option_ids: stewLine.option_ids!.toReversed(), note: '덜 짜게 해 주세요' },
        sojuLine,
      ],
    };
    const again = await order(room.table.token, same, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);

    const others: OrderBody[] = [
      { ...body, items: [{ ...stewLine, option_ids: [options['보통']!] }, sojuLine] },
      { ...body, items: [{ ...stewLine, note: '맵게' }, sojuLine] },
      { ...body, request: '물 주세요' },
      { ...body, expected_total: undefined },
    ];
    for (const other of others) {
      const res = await order(room.table.token, other, key);
      expect(res.status, JSON.stringify(other)).toBe(422);
      expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    }
    expect((await orderingRowsOf(room.store.id)).orders).toHaveLength(1);
  });
});

describe('an option sold out while orders are being placed', () => {
  it('lets orders that already priced it finish first: the 품절 switch waits for them', async () => {
    const room = await roomWithChoices();
    const { options } = room.stewChoices;
    const tables = await Promise.all(Array.from({ length: 4 }, () => newTable(room.store.id)));
    // Each table seated (so orders queue only on the day's numbers), the counter created.
    for (const table of tables) {
      expect(
        (await order(table.token, { items: [{ menu_id: room.soju.id, quantity: 1 }] })).status,
      ).toBe(201);
    }
    const withCheese = {
      items: [
        { menu_id: room.stew.id, quantity: 1, option_ids: [options['보통']!, options['치즈']!] },
      ],
    };

    const raced = await changingUnderWaitingOrders(
      room.store.id,
      Array.from({ length: 20 }, (_, i) => () => order(tables[i % 4]!.token, withCheese)),
      () => switchOption(room.store.admin.token, options['치즈']!, false),
    );

    expect(raced.change.status).toBe(200);
    expect(raced.orders.map((res) => res.status)).toEqual(Array(20).fill(201));
    expectChargedBeforeSoldOut(await orderingRowsOf(room.store.id), raced.orders);
    const later = await order(room.table.token, withCheese);
    expect(later.status).toBe(409);
    expect(later.body.error.code).toBe('OPTION_UNAVAILABLE');
  });

  it('never charges it once the switch committed, however the orders interleave with it', async () => {
    const room = await roomWithChoices();
    const { options } = room.stewChoices;
    const tables = await Promise.all(Array.from({ length: 4 }, () => newTable(room.store.id)));
    const withCheese = {
      items: [
        { menu_id: room.stew.id, quantity: 1, option_ids: [options['보통']!, options['치즈']!] },
      ],
    };
    const place = (i: number) => order(tables[i % 4]!.token, withCheese);

    const early = Array.from({ length: 10 }, (_, i) => place(i));
    const soldOut = switchOption(room.store.admin.token, options['치즈']!, false);
    const late = Array.from({ length: 10 }, (_, i) => place(10 + i));
    const answers = await Promise.all([...early, ...late]);

    expect((await soldOut).status).toBe(200);
    for (const res of answers) {
      expect([201, 409], JSON.stringify(res.body)).toContain(res.status);
      if (res.status === 409) expect(res.body.error.code).toBe('OPTION_UNAVAILABLE');
    }
    expectChargedBeforeSoldOut(
      await orderingRowsOf(room.store.id),
      answers.filter((res) => res.status === 201),
    );
    expect((await place(0)).status).toBe(409);
  });
});

/**
 * Every order that charged the option was announced before the option was sold out: its
 * `order.created` outbox id is below the `menu.availability_changed` one (an order's outbox row
 * is written before its commit, the switch's after its update, which waits for orders holding
 * the option).
 */
function expectChargedBeforeSoldOut(
  rows: Awaited<ReturnType<typeof orderingRowsOf>>,
  placed: ApiResponse[],
): void {
  const soldOut = rows.outbox.filter((row) => row.type === 'menu.availability_changed');
  expect(soldOut).toHaveLength(1);
  const ids = new Set(placed.map((res) => res.body.id));
  const charged = rows.outbox.filter(
    (row) => row.type === 'order.created' && ids.has((row.payload as { id: string }).id),
  );
  expect(charged).toHaveLength(placed.length);
  for (const row of charged) expect(row.id).toBeLessThan(soldOut[0]!.id);
}
