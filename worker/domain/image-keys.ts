import { imageSize } from 'image-size';
import { ApiError } from '../api-error.ts';

/** The largest upload accepted (bytes); the body limit adds room for the multipart framing. */
export const IMAGE_MAX_BYTES = 10 * 1024 * 1024;
/** The most pixels an upload may declare: 40 MP, far above any phone photo, far below a bomb. */
export const IMAGE_MAX_PIXELS = 40_000_000;
/** Where variants are served from (routes/images.ts); the menu's `image` URLs start with it. */
export const IMAGE_URL_PREFIX = '/images/';

/** The objects of one image in R2, all in one content-addressed folder. */
export const IMAGE_NAMES = ['original', 'thumb.webp', 'display.webp'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];
/** The variants the relay stores and guests may fetch; the original is never public. */
export const VARIANT_NAMES: ReadonlySet<string> = new Set(['thumb.webp', 'display.webp']);

/** `menus/<store_id>/<menu_id>/<sha256>/<name>` with lowercase uuids and hex. */
const KEY =
  /^menus\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/([0-9a-f]{64})\/(original|thumb\.webp|display\.webp)$/;

export type ImageKey = {
  key: string;
  storeId: string;
  menuId: string;
  sha256: string;
  name: ImageName;
  /** `menus/<store>/<menu>/<sha256>/`: every object of the same image. */
  folder: string;
};

/** The parts of an image key, or null for anything that is not one (no `..`, no other prefix). */
export function parseImageKey(key: string): ImageKey | null {
  const match = KEY.exec(key);
  if (!match) return null;
  const [, storeId, menuId, sha256, name] = match as unknown as [
    string,
    string,
    string,
    string,
    ImageName,
  ];
  return { key, storeId, menuId, sha256, name, folder: key.slice(0, key.length - name.length) };
}

/** The key of an object of a menu's image. */
export function imageKey(storeId: string, menuId: string, sha256: string, name: ImageName): string {
  return `menus/${storeId}/${menuId}/${sha256}/${name}`;
}

/** Every object of a menu's images starts with this. */
export function menuImagePrefix(storeId: string, menuId: string): string {
  return `menus/${storeId}/${menuId}/`;
}

/** The public URL of a variant. */
export function imageUrl(key: string): string {
  return IMAGE_URL_PREFIX + key;
}

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp';

const startsWith = (bytes: Uint8Array, signature: number[], at = 0) =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
const ascii = (text: string) => Array.from(text, (ch) => ch.charCodeAt(0));

/**
 * The image type by its magic bytes, never by file name or the client's content type: JPEG
 * `FF D8 FF`, PNG `89 50 4E 47 0D 0A 1A 0A`, WebP `RIFF····WEBP`; anything else is null.
 */
export function sniffImageType(bytes: Uint8Array): ImageType | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'image/webp';
  return null;
}

/** image-size's name for each type we accept. */
const SIZE_TYPE: Record<ImageType, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
};

function unsupported(reason: string): ApiError {
  return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'JPEG, PNG, WebP 이미지만 올릴 수 있습니다.', {
    details: { reason },
  });
}

/**
 * What an upload is, from its bytes alone: its type (415 unless JPEG, PNG or WebP), and its
 * dimensions from the header (415 if unreadable; 422 IMAGE_TOO_LARGE over 40 MP). No pixel is
 * decoded here, so a decompression bomb is refused before anything would inflate it.
 */
export function inspectImage(bytes: Uint8Array): {
  contentType: ImageType;
  width: number;
  height: number;
} {
  const contentType = sniffImageType(bytes);
  if (!contentType) throw unsupported('not_an_image');
  let size: { width: number; height: number; type?: string };
  try {
    size = imageSize(bytes);
  } catch {
    throw unsupported('unreadable_header');
  }
  if (size.type !== SIZE_TYPE[contentType] || !(size.width > 0) || !(size.height > 0)) {
    throw unsupported('unreadable_header');
  }
  if (size.width * size.height > IMAGE_MAX_PIXELS) {
    throw new ApiError(
      422,
      'IMAGE_TOO_LARGE',
      '이미지 해상도가 너무 큽니다. 4천만 화소 이하의 이미지를 올려 주세요.',
      { details: { width: size.width, height: size.height, max_pixels: IMAGE_MAX_PIXELS } },
    );
  }
  return { contentType, width: size.width, height: size.height };
}
