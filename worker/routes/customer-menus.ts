import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { detectFromHeader, detectFromQuery, type DetectorOptions } from 'hono/language';
import { MENU_LANGUAGES, type MenuLanguage } from '../../db/schema.ts';
import {
  GuestMenuBookSchema,
  GuestMenuSchema,
  loadGuestMenu,
  loadGuestMenuItem,
} from '../domain/menu-view.ts';
import type { AppEnv } from '../env.ts';
import { CACHE_TTL_SECONDS, cached, cacheKeys } from '../platform/cache.ts';
import { authorized, authorizedReading, storeOf } from '../middleware/auth.ts';
import { createRouter, errorResponses, IdParam, jsonResponse } from '../openapi.ts';

/**
 * How a tablet says its guest's language, read with Hono's language detectors: `?lang=` first,
 * then `Accept-Language` (`ja-JP` reads as `ja`), only languages the menu speaks. Hono's
 * `languageDetector` middleware is not used: its fallback is one language for the whole app,
 * ours is each store's `default_language`. The cookie and path settings are unused.
 */
const DETECTION: DetectorOptions = {
  order: ['querystring', 'header'],
  lookupQueryString: 'lang',
  lookupFromHeaderKey: 'accept-language',
  lookupCookie: 'language',
  lookupFromPathIndex: 0,
  caches: false,
  ignoreCase: true,
  supportedLanguages: [...MENU_LANGUAGES],
  fallbackLanguage: MENU_LANGUAGES[0],
};

/** The language the request asks for, if the menu speaks it; else none (the store's default). */
function requestedLanguage(c: Context<AppEnv>): MenuLanguage | undefined {
  const lang = detectFromQuery(c, DETECTION) ?? detectFromHeader(c, DETECTION);
  return MENU_LANGUAGES.find((supported) => supported === lang);
}

const LanguageRequest = {
  query: z.object({
    lang: z
      .string()
      .optional()
      .openapi({
        description: `${MENU_LANGUAGES.join(' | ')}; any other value is ignored (the store's default language answers)`,
        example: 'en',
      }),
  }),
  headers: z.object({
    'accept-language': z
      .string()
      .optional()
      .openapi({ description: 'read when there is no usable ?lang=', example: 'ja-JP,ja;q=0.9' }),
  }),
};

const guestMenuRoute = createRoute({
  method: 'get',
  path: '/api/customer/menus',
  tags: ['customer'],
  summary: "The store's menu for the tablet, in the guest's language, with each menu's choices",
  description:
    "Names fall back, field by field, to the base names (the store's default language). " +
    '`menu_version` changes whenever anything in the answer changes; it is per language.',
  ...authorizedReading(
    (table, c) => cacheKeys.guestMenu(storeOf(table), requestedLanguage(c)),
    'table',
  ),
  request: LanguageRequest,
  responses: {
    200: jsonResponse(GuestMenuBookSchema, 'categories and menus in display order'),
    ...errorResponses(401, 403),
  },
});

const guestMenuItemRoute = createRoute({
  method: 'get',
  path: '/api/customer/menus/{id}',
  tags: ['customer'],
  summary: "One menu of the store, for its detail view, in the guest's language",
  ...authorized('table'),
  request: { params: IdParam, ...LanguageRequest },
  responses: {
    200: jsonResponse(GuestMenuSchema, 'the menu'),
    ...errorResponses(400, 401, 403, 404),
  },
});

/**
 * What guests browse on the tablet: their store's menu, nothing else, in their language. The
 * whole menu is read through the cache, one entry per language (every tablet of the store asks
 * for the same few answers), read side by side with the tablet's checks; the admin's menu
 * writes invalidate every language.
 */
export const customerMenus = createRouter()
  .openapi(guestMenuRoute, async (c) => {
    const storeId = storeOf(c.var.principal);
    const lang = requestedLanguage(c);
    const book = await cached(
      c.var.redis,
      cacheKeys.guestMenu(storeId, lang),
      CACHE_TTL_SECONDS,
      () => loadGuestMenu(c.var.db, storeId, lang),
      c.var.prefetched,
    );
    return c.json(book, 200);
  })
  .openapi(guestMenuItemRoute, async (c) => {
    const menu = await loadGuestMenuItem(
      c.var.db,
      storeOf(c.var.principal),
      c.req.valid('param').id,
      requestedLanguage(c),
    );
    return c.json(menu, 200);
  });
