import { ApiError } from '../api-error.ts';
import { IMAGE_URL_PREFIX, parseImageKey, VARIANT_NAMES } from '../contracts/image-keys.ts';
import { createRouter } from '../openapi.ts';

/** Variant keys change with their content (content-addressed), so a copy never goes stale. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Guests' tablets and the admin screens load menu pictures from here, without a token: only the
 * variants (`thumb.webp`, `display.webp`) under `menus/` are public — an original, or anything
 * else, is 404. `If-None-Match` with the current ETag answers 304 without the bytes.
 */
export const images = createRouter().get(`${IMAGE_URL_PREFIX}*`, async (c) => {
  const key = parseImageKey(c.req.path.slice(IMAGE_URL_PREFIX.length));
  if (!key || !VARIANT_NAMES.has(key.name)) {
    throw new ApiError(404, 'NOT_FOUND', '이미지를 찾을 수 없습니다.');
  }
  const conditional = c.req.header('if-none-match') ? { onlyIf: c.req.raw.headers } : {};
  const object = await c.env.IMAGES.get(key.key, conditional);
  if (!object) throw new ApiError(404, 'NOT_FOUND', '이미지를 찾을 수 없습니다.');

  const headers = new Headers();
  object.writeHttpMetadata(headers);
  if (!headers.has('content-type')) headers.set('content-type', 'image/webp');
  headers.set('etag', object.httpEtag);
  headers.set('cache-control', IMMUTABLE);
  // R2 answers the metadata without a body when `If-None-Match` matched.
  if (!('body' in object)) return new Response(null, { status: 304, headers });
  headers.set('content-length', String(object.size));
  return new Response(object.body, { headers });
});
