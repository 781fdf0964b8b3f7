import { ApiError } from '../api-error.ts';

/** How far the relay's clock (`x-relay-timestamp`) may be from ours, either way. */
export const RELAY_SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

/** A verified delivery: its signature, and until when a replay of it must be refused. */
export type RelayReceipt = { signature: string; expiresAt: number };

const TIMESTAMP = /^\d{1,15}$/;
const SIGNATURE = /^v1=([0-9a-f]{64})$/;
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      encoder.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    keys.set(secret, key);
  }
  return key;
}

function bytesOfHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** 401 `SIGNATURE_INVALID`; `reason` (missing, malformed, stale, mismatch, replayed) helps ops. */
export function signatureInvalid(reason: string): ApiError {
  return new ApiError(401, 'SIGNATURE_INVALID', '서명이 올바르지 않습니다.', {
    details: { reason },
  });
}

/** Hex SHA-256 of `bytes` (of the empty string for an empty body). */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The relay's headers, checked: present, well formed and within the window. Returns the
 * signature's bytes; the caller says what message they must sign.
 */
function parseRelayHeaders(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  now: number,
): { timestamp: number; signature: string } {
  // An empty secret would let anyone sign: refuse to run rather than accept.
  if (!secret) throw new Error('RELAY_HMAC_SECRET is not set');
  if (headers.timestamp === undefined || headers.signature === undefined) {
    throw signatureInvalid('missing');
  }
  const signature = SIGNATURE.exec(headers.signature)?.[1];
  if (!TIMESTAMP.test(headers.timestamp) || !signature) throw signatureInvalid('malformed');
  const timestamp = Number(headers.timestamp);
  if (Math.abs(now - timestamp) > RELAY_SIGNATURE_WINDOW_MS) throw signatureInvalid('stale');
  return { timestamp, signature };
}

/**
 * Checks `v1=<hex>` against HMAC-SHA256(`RELAY_HMAC_SECRET`, `timestamp + "." + subject`). The
 * comparison is `crypto.subtle.verify`, which takes the same time however many bytes match.
 */
async function verifySigned(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  subject: Uint8Array,
  now: number,
): Promise<RelayReceipt> {
  const { timestamp, signature } = parseRelayHeaders(secret, headers, now);
  const prefix = encoder.encode(`${headers.timestamp}.`);
  const message = new Uint8Array(prefix.length + subject.byteLength);
  message.set(prefix);
  message.set(subject, prefix.length);
  const valid = await crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret),
    bytesOfHex(signature),
    message,
  );
  if (!valid) throw signatureInvalid('mismatch');
  return { signature, expiresAt: timestamp + RELAY_SIGNATURE_WINDOW_MS };
}

/**
 * Verifies a relay delivery (`x-relay-timestamp`, `x-relay-signature: v1=<hex>` over
 * `timestamp + "." + body`, HMAC-SHA256 with `RELAY_HMAC_SECRET`). Replays are not detected
 * here: that needs the store's hub (see `StoreHub.deliver`).
 * Throws 401 `SIGNATURE_INVALID` for a missing, malformed, wrong or stale signature.
 */
export function verifyRelaySignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: ArrayBuffer,
  now = Date.now(),
): Promise<RelayReceipt> {
  return verifySigned(secret, headers, new Uint8Array(body), now);
}

/**
 * Verifies a relay request to the image endpoints, where the method and path are signed with the
 * body: the message is `timestamp + "." + METHOD + " " + path + "." + sha256hex(body)` (the path
 * as sent, without the query; an empty body hashes the empty string). A signature for one key or
 * verb cannot be replayed on another. Same headers, window and 401 as events; replays of the
 * same request are refused by the store's hub (see `relaySignedRequest` in routes/internal-images).
 */
export async function verifyRelayRequest(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  request: { method: string; path: string; body: ArrayBuffer },
  now = Date.now(),
): Promise<RelayReceipt> {
  // Cheap header checks first: an unsigned 10 MB body is not hashed.
  parseRelayHeaders(secret, headers, now);
  const subject = `${request.method.toUpperCase()} ${request.path}.${await sha256Hex(request.body)}`;
  return verifySigned(secret, headers, encoder.encode(subject), now);
}
