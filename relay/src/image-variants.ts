/**
 * The two WebP variants of a menu photo, made with sharp: a 300×300 thumbnail cropped to fill the
 * square, and a display image at most 1024 px on its long side, never enlarged. Both come out
 * upright (the EXIF orientation applied) and without metadata (no camera, GPS or EXIF block).
 *
 * Only WebP, with no JPEG or AVIF fallback: every tablet browser we target (current Chrome and
 * Safari on Android and iPadOS) decodes WebP, so a second format would only double the storage and
 * the work; AVIF would be smaller still, but encoding it takes seconds per photo on the relay's two
 * cores, where WebP takes a fraction of one.
 */
import sharp, { type SharpOptions } from 'sharp';

/** Thumbnail edge, px (square, cover). */
export const THUMBNAIL_SIZE = 300;
/** Longest side of the display variant, px. */
export const DISPLAY_MAX_SIZE = 1024;
/** WebP quality of both variants: visually clean photos at a fraction of the JPEG bytes. */
const WEBP_QUALITY = 80;

/** An original that cannot become variants (corrupt, not an image, too large): retrying won't help. */
export class UndecodableImageError extends Error {
  override name = 'UndecodableImageError';
  /** Short reason for the admin, stored as the menu's `image_error`. */
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.reason = reason;
  }
}

export interface ImageVariants {
  thumbnail: Buffer;
  display: Buffer;
}

/**
 * Makes the thumbnail and display variants of one original.
 *
 * @param original - the uploaded bytes (JPEG, PNG or WebP).
 * @param maxInputPixels - width × height above which the image is refused, judged from its header
 *   before any pixel is decoded, so a small file claiming 20000×20000 costs nothing.
 * @throws UndecodableImageError when sharp cannot read or decode the original.
 */
export async function makeVariants(
  original: Uint8Array,
  maxInputPixels: number,
): Promise<ImageVariants> {
  const options: SharpOptions = {
    limitInputPixels: maxInputPixels,
    // Stop at a decoder error (a corrupt or truncated JPEG) instead of returning grey pixels;
    // mere warnings, common in phone photos, still pass.
    failOn: 'error',
  };
  const header = await sharp(original, options)
    .metadata()
    .catch((error: unknown) => {
      throw new UndecodableImageError(decodeFailure(error), { cause: error });
    });
  const { width = 0, height = 0 } = header;
  if (width * height > maxInputPixels) throw new UndecodableImageError('too many pixels');

  // `rotate()` with no angle applies the EXIF orientation; sharp drops metadata unless asked.
  const upright = sharp(original, options).rotate();
  try {
    const [thumbnail, display] = await Promise.all([
      upright
        .clone()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'cover' })
        .webp({ quality: WEBP_QUALITY })
        .toBuffer(),
      upright
        .clone()
        .resize(DISPLAY_MAX_SIZE, DISPLAY_MAX_SIZE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: WEBP_QUALITY })
        .toBuffer(),
    ]);
    return { thumbnail, display };
  } catch (error) {
    throw new UndecodableImageError(decodeFailure(error), { cause: error });
  }
}

/** sharp's message, boiled down to a reason an admin can read. */
function decodeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) return 'too many pixels';
  if (/unsupported image format/i.test(message)) return 'not a supported image';
  return 'corrupt image';
}
