import { z } from '@hono/zod-openapi';
import { MENU_LANGUAGES, type MenuLanguage } from '../../db/schema.ts';

/** A row's names in the store's other languages, as stored: `{"en": {"name": …}}`. */
export type TranslationsValue = Partial<
  Record<MenuLanguage, { name: string; description?: string | null }>
>;

/** One optional entry per language of {@link MENU_LANGUAGES}. */
function byLanguage<T extends z.ZodType>(entry: T) {
  const shape = Object.fromEntries(MENU_LANGUAGES.map((lang) => [lang, entry.optional()]));
  return shape as Record<MenuLanguage, z.ZodOptional<T>>;
}

const languages = MENU_LANGUAGES.join(' | ');

/**
 * The `translations` field of a category, menu, option group or option: at most one entry per
 * language of {@link MENU_LANGUAGES}, each with the name in that language and, for what has a
 * description (a menu), the description — each under the base field's own schema, so the same
 * bounds. A language the menu does not speak, or a field the row does not have, is a 400 naming
 * it. Leaving a language out leaves guests of that language the base names.
 */
export function translationsOf<D extends z.ZodType<string | null | undefined>>(
  name: z.ZodString,
  description?: D,
) {
  const entry = description ? z.strictObject({ name, description }) : z.strictObject({ name });
  return z.strictObject(byLanguage(entry)).openapi({
    description: `names in other languages, keyed by ${languages}; a language left out shows the base names`,
    example: { en: { name: 'Kimchi stew' }, ja: { name: 'キムチチゲ' } },
  });
}

/** `translations` as answers show it: what was stored. */
export const TranslationsSchema = z
  .object(byLanguage(z.object({ name: z.string(), description: z.string().nullable().optional() })))
  .openapi('Translations', {
    description: `names in other languages, keyed by ${languages}`,
    example: { en: { name: 'Kimchi stew', description: 'Aged kimchi and pork' } },
  });

/** A row a guest reads a name (and maybe a description) of. */
type Named = {
  name: string;
  description?: string | null;
  translations: TranslationsValue;
};

/**
 * What guests asking for `lang` read of `row`: each field in that language where the row has it,
 * else the base field (in the store's default language). A blank translated description counts
 * as none.
 */
export function localized(
  row: Named,
  lang: MenuLanguage,
): { name: string; description: string | null } {
  const translation = row.translations[lang];
  return {
    name: translation?.name || row.name,
    description: translation?.description || row.description || null,
  };
}
