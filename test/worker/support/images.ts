/**
 * Menu images for Worker tests: tiny images as bytes (sharp does not run in workerd), the admin's
 * multipart upload, and the relay's side of the image endpoints — requests signed over
 * `timestamp.METHOD path.sha256(body)` with `RELAY_HMAC_SECRET`, as the image worker signs them.
 */
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { bytesOfBase64 } from '../../../worker/contracts/encoding.ts';
import {
  internalImagePath,
  parseImageKey,
  siblingKey,
  VARIANTS,
} from '../../../worker/contracts/image-keys.ts';
import {
  signRequest,
  type RelaySignatureHeaders,
} from '../../../worker/contracts/relay-signature.ts';

/** A real 1×1 PNG. */
export const PNG_1X1 = bytesOfBase64(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
);
/** A real 1×1 lossless WebP (what the relay's variants look like, only smaller). */
export const WEBP_1X1 = bytesOfBase64('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==');

/** A PNG whose header declares `width`×`height` (and no pixels: only the header is ever read). */
export function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12); // IHDR
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 2, 0, 0, 0], 24); // 8-bit RGB
  return bytes;
}

/** The head of a baseline JPEG (JFIF, then the frame header with its size): enough for a check. */
export function jpegHeader(width: number, height: number): Uint8Array {
  const jfif = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const frame = [0xff, 0xc0, 0x00, 0x11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff];
  const components = [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return new Uint8Array([0xff, 0xd8, ...jfif, ...frame, ...components, 0xff, 0xd9]);
}

/** A different PNG each call (same 1×1 picture, one extra trailing byte pattern). */
export function anotherPng(): Uint8Array {
  const tail = crypto.getRandomValues(new Uint8Array(8));
  const bytes = new Uint8Array(PNG_1X1.length + tail.length);
  bytes.set(PNG_1X1);
  bytes.set(tail, PNG_1X1.length);
  return bytes;
}

/** Hex SHA-256, as the Worker and the relay compute a content address. */
export { sha256Hex } from '../../../worker/contracts/encoding.ts';

export type RawResponse<T = any> = { status: number; headers: Headers; body: T; bytes: Uint8Array };

async function read<T>(response: Response): Promise<RawResponse<T>> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('json') ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
  return { status: response.status, headers: response.headers, body: body as T, bytes };
}

/** Calls the Worker with any body, reading the whole answer. */
export async function call<T = any>(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: BodyInit } = {},
): Promise<RawResponse<T>> {
  return read<T>(
    await exports.default.fetch(`http://table-order.test${path}`, {
      method,
      headers: init.headers,
      body: init.body,
    }),
  );
}

/** The admin's upload: `image` as a file part (name and type as the browser would send them). */
export function uploadImage(
  token: string | undefined,
  menuId: string,
  bytes: Uint8Array | null,
  file: { name?: string; type?: string } = {},
) {
  const form = new FormData();
  if (bytes) {
    form.set(
      'image',
      new File([bytes as Uint8Array<ArrayBuffer>], file.name ?? 'photo.png', {
        type: file.type ?? 'image/png',
      }),
    );
  } else {
    form.set('title', 'no file here');
  }
  return call('POST', `/api/admin/menus/${menuId}/image`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
}

/**
 * The relay's headers for a request to an image endpoint. A test may sign with another secret (a
 * forgery) or at another time (a stale signature).
 */
export function relayHeaders(
  method: string,
  path: string,
  body: Uint8Array | string = '',
  options: { timestamp?: number; secret?: string } = {},
): Promise<RelaySignatureHeaders> {
  const secret = options.secret ?? env.RELAY_HMAC_SECRET;
  return signRequest(secret, { method, path, body }, options.timestamp);
}

/**
 * A request signed once, as the relay's image worker signs it; each call of the returned function
 * sends that same request, byte for byte and with the same signature (a replay from the second).
 */
export async function signedRelayRequest<T = any>(
  method: string,
  path: string,
  body?: Uint8Array | object,
  headers: Record<string, string> = {},
): Promise<() => Promise<RawResponse<T>>> {
  let raw: Uint8Array | string | undefined;
  const sent: Record<string, string> = { ...headers };
  if (body instanceof Uint8Array) raw = body;
  else if (body !== undefined) {
    raw = JSON.stringify(body);
    sent['content-type'] = 'application/json';
  }
  Object.assign(sent, await relayHeaders(method, path, raw ?? ''));
  return () => call<T>(method, path, { headers: sent, body: raw as BodyInit | undefined });
}

/** A signed request as the relay's image worker sends it, freshly signed. */
export async function relayCall<T = any>(
  method: string,
  path: string,
  body?: Uint8Array | object,
  headers: Record<string, string> = {},
): Promise<RawResponse<T>> {
  const send = await signedRelayRequest<T>(method, path, body, headers);
  return send();
}

/** What the image worker does for a job: store both variants, then report ready. */
export async function finishJob(storeId: string, menuId: string, originalKey: string) {
  const original = parseImageKey(originalKey)!;
  const thumbnailKey = siblingKey(original, VARIANTS.thumbnail);
  const displayKey = siblingKey(original, VARIANTS.display);
  for (const key of [thumbnailKey, displayKey]) {
    const put = await relayCall('PUT', internalImagePath(key), WEBP_1X1, {
      'content-type': 'image/webp',
    });
    if (put.status !== 201) throw new Error(`PUT ${key}: ${put.status}`);
  }
  const ready = await relayCall<{ updated: boolean }>(
    'POST',
    `/internal/menus/${menuId}/image-ready`,
    {
      store_id: storeId,
      original_key: originalKey,
      thumbnail_key: thumbnailKey,
      display_key: displayKey,
    },
  );
  return { ready, thumbnailKey, displayKey };
}

/** Whether R2 holds `key`. */
export async function stored(key: string): Promise<boolean> {
  return (await env.IMAGES.head(key)) !== null;
}
