/**
 * What an uploaded image may be, judged from its bytes: its type by magic bytes, its declared
 * size, and the limits an upload must keep. Where an image is stored is the contract in
 * contracts/image-keys.ts.
 */
import { imageSize } from 'image-size';
import { ApiError } from '../api-error.ts';

/** The largest upload accepted (bytes); the body limit adds room for the multipart framing. */
export const IMAGE_MAX_BYTES = 10 * 1024 * 1024;
/** The most pixels an upload may declare: 40 MP, far above any phone photo, far below a bomb. */
export const IMAGE_MAX_PIXELS = 40_000_000;

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
