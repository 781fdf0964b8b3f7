/**
 * Menu photos for the image worker's tests, made with sharp in the test itself: a large noisy
 * JPEG, a PNG with transparency, a sideways phone photo (EXIF orientation 6), a truncated JPEG, a
 * "pixel bomb" PNG, and the `menu.image_uploaded` envelope announcing one of them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import type { Envelope } from '../../worker/contracts/events.ts';
import { imageKey, menuImagePrefix } from '../../worker/contracts/image-keys.ts';

/**
 * Random noise as a JPEG (quality 95): noise barely compresses, so the bytes grow with the area —
 * 2300×2300 comes to about 5.4 MB, the size of a phone photo.
 */
export async function noisyJpeg(width = 2300, height = 2300): Promise<Buffer> {
  const pixels = randomBytes(width * height * 3);
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** A 400×300 PNG whose left half is fully transparent. */
export async function transparentPng(): Promise<Buffer> {
  const [width, height] = [400, 300];
  const pixels = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i += 1) {
    const opaque = i % width >= width / 2;
    pixels.set([200, 40, 40, opaque ? 255 : 0], i * 4);
  }
  return sharp(pixels, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** A 200×100 JPEG stored sideways: EXIF orientation 6 says "turn 90° clockwise to view". */
export async function sidewaysJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 200, height: 100, channels: 3, background: '#3a7' } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** A real JPEG cut off a third of the way into its scan data (an upload that broke off). */
export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await noisyJpeg(600, 600);
  return whole.subarray(0, Math.floor(whole.length / 3));
}

/**
 * A PNG whose header claims 20000×20000 pixels (400 MP; 1.2 GB once decoded): a small 100×100
 * grey PNG with its IHDR size rewritten (and the chunk's CRC fixed). Encoding a true 20000×20000
 * PNG with sharp takes over 5 s; a worker that judges the header never notices the difference,
 * and one that decodes would fail on the short data — after the allocation the test guards.
 */
export async function pixelBombPng(size = 20_000): Promise<Buffer> {
  const png = Buffer.from(
    await sharp({ create: { width: 100, height: 100, channels: 3, background: '#888' } })
      .greyscale()
      .png()
      .toBuffer(),
  );
  // Signature (8) · IHDR length (4) · "IHDR" (4) · width (4) · height (4) · … · CRC after 13 bytes.
  png.writeUInt32BE(size, 16);
  png.writeUInt32BE(size, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/**
 * sha256 hex of some bytes, with node:crypto: an independent check of the checksum the relay
 * computes with the contract's WebCrypto helper.
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

let nextEventId = 1_000_000;

/** A `menu.image_uploaded` envelope for `original`, and the original's content-addressed key. */
export function imageUploaded(
  original: Uint8Array,
  contentType: string,
  ids: { storeId?: string; menuId?: string } = {},
): {
  envelope: Envelope;
  originalKey: string;
  prefix: string;
  storeId: string;
  menuId: string;
} {
  const storeId = ids.storeId ?? crypto.randomUUID();
  const menuId = ids.menuId ?? crypto.randomUUID();
  const sha256 = sha256Hex(original);
  const originalKey = imageKey(storeId, menuId, sha256, 'original');
  const prefix = `${menuImagePrefix(storeId, menuId)}${sha256}`;
  const envelope: Envelope = {
    id: nextEventId++,
    type: 'menu.image_uploaded',
    store_id: storeId,
    table_id: null,
    table_session_id: null,
    occurred_at: new Date().toISOString(),
    data: { menu_id: menuId, original_key: originalKey, content_type: contentType, sha256 },
    actor: { role: 'store_admin', id: crypto.randomUUID() },
    correlation_id: null,
  };
  return { envelope, originalKey, prefix, storeId, menuId };
}
