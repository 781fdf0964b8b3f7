import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { menuChanged } from '../platform/cache.ts';
import { IMAGE_STATUSES } from '../../db/schema.ts';
import { actorOf } from '../domain/audit.ts';
import { uploadMenuImage } from '../domain/menu-images.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../api-error.ts';
import { authorized, storeOf } from '../middleware/auth.ts';
import { createRouter, errorResponses, IdParam, jsonResponse } from '../openapi.ts';

/**
 * Documented as multipart, read by hand (`imageOf`): zod's gate would answer a JSON body with a
 * bare 415, where every route of the API answers a malformed body 400 VALIDATION_ERROR — and 415
 * here means "not a JPEG, PNG or WebP".
 */
const ImageUpload = {
  type: 'object' as const,
  required: ['image'],
  properties: {
    image: {
      type: 'string' as const,
      format: 'binary',
      description: 'JPEG, PNG or WebP (by its bytes, not its name), ≤ 10 MB, ≤ 40 megapixels',
    },
  },
};

function noImage(): ApiError {
  return new ApiError(
    400,
    'VALIDATION_ERROR',
    '이미지 파일(image)을 multipart/form-data로 보내 주세요.',
    {
      details: { field: 'image' },
    },
  );
}

/** The `image` file part of a multipart body; anything else is 400. */
async function imageOf(c: Context<AppEnv>): Promise<File> {
  const type = c.req.header('content-type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) throw noImage();
  let form: Record<string, unknown>;
  try {
    form = await c.req.parseBody();
  } catch {
    throw noImage();
  }
  const image = form.image;
  if (!(image instanceof File)) throw noImage();
  return image;
}

const uploadRoute = createRoute({
  method: 'post',
  path: '/api/admin/menus/{id}/image',
  tags: ['menus'],
  ...authorized('store_admin'),
  summary: "Upload a menu's image (variants are made in the background)",
  description:
    'Stores the original and answers 202 with `image_status: processing`; the menu shows ' +
    '`image` once its variants are ready (`menu.image_ready`). The previous image stays stored ' +
    'until then but is not shown. 413 over 10 MB; 415 unless JPEG, PNG or WebP by its magic ' +
    'bytes; 422 IMAGE_TOO_LARGE over 40 megapixels.',
  request: {
    params: IdParam,
    body: { content: { 'multipart/form-data': { schema: ImageUpload } }, required: true },
  },
  responses: {
    202: jsonResponse(
      z
        .object({
          menu_id: z.uuid(),
          image_status: z.enum(IMAGE_STATUSES),
          original_key: z.string(),
        })
        .openapi('MenuImageUpload'),
      'stored; variants are on their way',
    ),
    ...errorResponses(400, 401, 403, 404, 413, 415, 422),
  },
});

/** The store admin's image upload for a menu. */
export const menuImages = createRouter().openapi(uploadRoute, async (c) => {
  const storeId = storeOf(c.var.principal);
  const image = await imageOf(c);
  const uploaded = await uploadMenuImage(
    c.var.db,
    c.env.IMAGES,
    storeId,
    c.req.valid('param').id,
    actorOf(c.var.principal),
    image,
  );
  // The menu's `image` is hidden while processing: guests must not keep the old one cached.
  await menuChanged(c.var.redis, storeId);
  return c.json(
    {
      menu_id: uploaded.menuId,
      image_status: 'processing' as const,
      original_key: uploaded.originalKey,
    },
    202,
  );
});
