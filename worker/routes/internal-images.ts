import { createRoute, z } from '@hono/zod-openapi';
import { menuChanged } from '../platform/cache.ts';
import {
  INTERNAL_IMAGE_PATH_PREFIX,
  parseImageKey,
  VARIANT_NAMES,
} from '../contracts/image-keys.ts';
import { sniffImageType } from '../domain/image-uploads.ts';
import { markImageFailed, markImageReady } from '../domain/menu-images.ts';
import { ApiError } from '../api-error.ts';
import { database } from '../middleware/db.ts';
import { relaySignature } from '../middleware/relay-signature.ts';
import {
  createRouter,
  errorResponses,
  jsonBody,
  jsonResponse,
  MultiLine,
  SingleLine,
  Uuid,
} from '../openapi.ts';

const keyOf = (path: string) => path.slice(INTERNAL_IMAGE_PATH_PREFIX.length);

/** An object request names its store in the key: `menus/<store_id>/…`. */
const signedObjectRequest = relaySignature({
  signs: 'request',
  storeOf: (path) => parseImageKey(keyOf(path))?.storeId,
});

const ReportedStore = z.object({ store_id: Uuid });
/** A job's report names its store in the body's `store_id`. */
const signedJobReport = relaySignature({
  signs: 'request',
  storeOf: (_path, body) => {
    try {
      const report = ReportedStore.safeParse(JSON.parse(new TextDecoder().decode(body)));
      return report.success ? report.data.store_id : undefined;
    } catch {
      return undefined; // not JSON: the route answers 400
    }
  },
});

function notFound(): ApiError {
  return new ApiError(404, 'NOT_FOUND', '이미지를 찾을 수 없습니다.');
}

const MenuIdParam = z.object({
  menu_id: Uuid.openapi({ param: { name: 'menu_id', in: 'path' } }),
});
const Updated = z.object({ updated: z.boolean() });
const internalRoute = {
  tags: ['internal'],
  // Not part of the public API: only the relay calls these, signed with RELAY_HMAC_SECRET.
  hide: true,
  middleware: [signedJobReport, database],
};

const readyRoute = createRoute({
  ...internalRoute,
  method: 'post',
  path: '/internal/menus/{menu_id}/image-ready',
  summary: "The relay stored a menu image's variants",
  request: {
    params: MenuIdParam,
    body: jsonBody(
      z.object({
        store_id: Uuid,
        original_key: SingleLine.max(300),
        thumbnail_key: SingleLine.max(300),
        display_key: SingleLine.max(300),
      }),
    ),
  },
  responses: {
    200: jsonResponse(Updated, '`updated: false` when a newer upload superseded the job'),
    ...errorResponses(400, 401),
  },
});

const failedRoute = createRoute({
  ...internalRoute,
  method: 'post',
  path: '/internal/menus/{menu_id}/image-failed',
  summary: "The relay could not make a menu image's variants",
  request: {
    params: MenuIdParam,
    body: jsonBody(
      z.object({
        store_id: Uuid,
        original_key: SingleLine.max(300),
        reason: MultiLine.max(10_000),
      }),
    ),
  },
  responses: {
    200: jsonResponse(Updated, '`updated: false` when the menu no longer processes that image'),
    ...errorResponses(400, 401),
  },
});

/** How much of the relay's failure reason the admin gets to see. */
const MAX_REASON_CHARS = 500;

/**
 * The relay's image worker: reads originals, stores variants and reports the outcome. Every call
 * is signed (method, path and body hash), so a key or verb cannot be swapped in transit, and is
 * accepted once, so a captured call cannot be sent again.
 */
export const internalImages = createRouter();
internalImages
  .get(`${INTERNAL_IMAGE_PATH_PREFIX}*`, signedObjectRequest, async (c) => {
    const key = parseImageKey(keyOf(c.req.path));
    const object = key && (await c.env.IMAGES.get(key.key));
    if (!object) throw notFound();
    const headers = new Headers();
    object.writeHttpMetadata(headers);
    headers.set('etag', object.httpEtag);
    headers.set('content-length', String(object.size));
    return new Response(object.body, { headers });
  })
  .put(`${INTERNAL_IMAGE_PATH_PREFIX}*`, signedObjectRequest, async (c) => {
    const key = parseImageKey(keyOf(c.req.path));
    if (!key || !VARIANT_NAMES.has(key.name)) {
      throw new ApiError(400, 'VALIDATION_ERROR', '변환 이미지 키가 아닙니다.', {
        details: { field: 'key', accepted: [...VARIANT_NAMES] },
      });
    }
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const contentType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'image/webp' || sniffImageType(bytes) !== 'image/webp') {
      throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', '변환 이미지는 WebP여야 합니다.');
    }
    const object = await c.env.IMAGES.put(key.key, bytes, {
      httpMetadata: { contentType: 'image/webp' },
    });
    return c.json({ key: key.key, size: bytes.byteLength, etag: object.httpEtag }, 201);
  });
internalImages
  .openapi(readyRoute, async (c) => {
    const body = c.req.valid('json');
    const storeId = body.store_id;
    const result = await markImageReady(c.var.db, c.env.IMAGES, {
      storeId,
      menuId: c.req.valid('param').menu_id,
      originalKey: body.original_key,
      thumbnailKey: body.thumbnail_key,
      displayKey: body.display_key,
    });
    if (result.updated) await menuChanged(c.var.redis, storeId);
    return c.json(result, 200);
  })
  .openapi(failedRoute, async (c) => {
    const body = c.req.valid('json');
    const result = await markImageFailed(c.var.db, c.env.IMAGES, {
      storeId: body.store_id,
      menuId: c.req.valid('param').menu_id,
      originalKey: body.original_key,
      reason: body.reason.slice(0, MAX_REASON_CHARS) || 'unknown',
    });
    return c.json(result, 200);
  });
