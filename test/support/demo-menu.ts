/**
 * The guests' menu as the tests read it, and the dish they order when the test is about something
 * else than choices: the demo menu's stews require a 맵기, so "the first dish" no longer orders.
 */
type GuestMenuBook = {
  categories: Array<{
    menus: Array<{ id: string; option_groups: Array<{ min_select: number }> }>;
  }>;
};

/** The id of the first dish on the menu that orders without any choice (no required group). */
export function plainDishOf(book: GuestMenuBook): string {
  const dish = book.categories
    .flatMap((category) => category.menus)
    .find((menu) => menu.option_groups.every((group) => group.min_select === 0));
  if (!dish) throw new Error('the menu has no dish that orders without a choice');
  return dish.id;
}
