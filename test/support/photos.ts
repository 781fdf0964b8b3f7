/** Photos made with sharp for end-to-end tests and benchmarks: noise compresses badly, like a real photo. */
import sharp from 'sharp';

/** A JPEG of about `megabytes` MB (noise at high quality), `side`×`side` pixels. */
export async function noisyJpeg(megabytes: number): Promise<Buffer> {
  // ~1.95 bytes per pixel at quality 95 for 3-channel noise (measured).
  const side = Math.round(Math.sqrt((megabytes * 1024 * 1024) / 1.95));
  const pixels = Buffer.alloc(side * side * 3);
  for (let i = 0; i < pixels.length; i += 1) pixels[i] = (i * 2654435761) >>> 24;
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 95, chromaSubsampling: '4:4:4' })
    .toBuffer();
}
