/**
 * Bytes as text, spelled the one way every contract spells them — a contract shared by the
 * Worker, the relay and the tests: lowercase hex for signatures and content addresses (SHA-256),
 * base64 for bytes written into source. Standard globals and WebCrypto only, so the same code
 * runs in workerd and in Node.
 */

/** Bytes, or text that stands for its UTF-8 bytes. */
export type Bytes = string | ArrayBuffer | Uint8Array;

const encoder = new TextEncoder();

/** The bytes of `data` (UTF-8 for text), as WebCrypto takes them; a view is not copied. */
export function bytesOf(data: Bytes): Uint8Array<ArrayBuffer> {
  // TextEncoder always answers a fresh ArrayBuffer; the typings leave that open.
  if (typeof data === 'string') return encoder.encode(data) as Uint8Array<ArrayBuffer>;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  // A view of a SharedArrayBuffer is copied: WebCrypto takes no shared memory.
  return data.buffer instanceof ArrayBuffer
    ? (data as Uint8Array<ArrayBuffer>)
    : new Uint8Array(data);
}

/** Lowercase hex, two digits a byte. */
export function hexOf(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The bytes of well-formed hex (an even number of hex digits; the caller has checked it). */
export function bytesOfHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The bytes of standard base64. */
export function bytesOfBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** Hex SHA-256 of `data` (of the empty string for an empty body). */
export async function sha256Hex(data: Bytes): Promise<string> {
  return hexOf(await crypto.subtle.digest('SHA-256', bytesOf(data)));
}
