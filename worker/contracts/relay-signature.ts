/**
 * The relay's signature on its calls to the Worker's internal endpoints — a contract shared by the
 * Worker (which verifies), the relay (which signs) and the tests.
 *
 * Every call carries `x-relay-timestamp` (unix milliseconds) and `x-relay-signature: v1=<hex>`,
 * the lowercase hex HMAC-SHA256, keyed with `RELAY_HMAC_SECRET`, of a canonical string:
 * - an event delivery (`POST /internal/events`) signs `timestamp.body`;
 * - an image request (`/internal/images/*`, `/internal/menus/*`) signs
 *   `timestamp.METHOD path.sha256hex(body)` — the path as sent, without the query; an empty body
 *   hashes the empty string — so a signature for one key or verb cannot serve another.
 * The Worker refuses a timestamp further than the window from its own clock, either way.
 *
 * WebCrypto only, so the Worker and the relay run this same code; the comparison is
 * `crypto.subtle.verify`, which takes the same time however many bytes match.
 */
import { bytesOf, bytesOfHex, hexOf, sha256Hex, type Bytes } from './encoding.ts';

/** Header carrying the signing time in unix milliseconds. */
export const RELAY_TIMESTAMP_HEADER = 'x-relay-timestamp';
/** Header carrying the signature, `v1=<hex>`. */
export const RELAY_SIGNATURE_HEADER = 'x-relay-signature';
/** How far the relay's clock may be from the Worker's, either way. */
export const RELAY_SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

/** The two headers of a signed call. */
export type RelaySignatureHeaders = Record<
  typeof RELAY_TIMESTAMP_HEADER | typeof RELAY_SIGNATURE_HEADER,
  string
>;

/** A call to an image endpoint, as sent: method, path without origin or query, raw body. */
export type SignedRequest = { method: string; path: string; body?: Bytes };

const TIMESTAMP = /^\d{1,15}$/;
const SIGNATURE = /^v1=([0-9a-f]{64})$/;
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  // An empty secret would let anyone sign: refuse to run rather than sign or accept.
  if (!secret) throw new Error('RELAY_HMAC_SECRET is not set');
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      bytesOf(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    keys.set(secret, key);
  }
  return key;
}

/** What an image request signs after `timestamp.`: `METHOD path.sha256hex(body)`. */
async function requestSubject(request: SignedRequest): Promise<string> {
  return `${request.method.toUpperCase()} ${request.path}.${await sha256Hex(request.body ?? '')}`;
}

/** The canonical string: `timestamp + "." + subject`. */
function canonical(timestamp: string, subject: Bytes): Uint8Array<ArrayBuffer> {
  const prefix = bytesOf(`${timestamp}.`);
  const rest = bytesOf(subject);
  const message = new Uint8Array(prefix.byteLength + rest.byteLength);
  message.set(prefix);
  message.set(rest, prefix.byteLength);
  return message;
}

async function signed(
  secret: string,
  subject: Bytes,
  timestamp: number,
): Promise<RelaySignatureHeaders> {
  const stamp = String(timestamp);
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), canonical(stamp, subject));
  return { [RELAY_TIMESTAMP_HEADER]: stamp, [RELAY_SIGNATURE_HEADER]: `v1=${hexOf(mac)}` };
}

/** The headers of an event delivery: the signature covers `timestamp.body`, byte for byte. */
export function signEvent(
  secret: string,
  body: Bytes,
  timestamp = Date.now(),
): Promise<RelaySignatureHeaders> {
  return signed(secret, body, timestamp);
}

/** The headers of an image request: the signature covers `timestamp.METHOD path.sha256(body)`. */
export async function signRequest(
  secret: string,
  request: SignedRequest,
  timestamp = Date.now(),
): Promise<RelaySignatureHeaders> {
  return signed(secret, await requestSubject(request), timestamp);
}

/** The signature headers of a call as received; either may be absent. */
export type ReceivedSignature = { timestamp: string | undefined; signature: string | undefined };

/** A verified call: its signature, and until when a replay of it must be refused. */
export type RelayReceipt = { signature: string; expiresAt: number };

/** Why a call is not taken as the relay's: `mismatch` is a wrong secret or altered content. */
export type SignatureFault = 'missing' | 'malformed' | 'stale' | 'mismatch';

/** A verified call's receipt, or why it was refused. */
export type RelayVerdict =
  { ok: true; receipt: RelayReceipt } | { ok: false; fault: SignatureFault };

/**
 * Checks the signature of a call whose signed subject `subjectOf` gives. The headers are checked
 * first (present, well formed, inside the window), so an unsigned body is never hashed.
 */
async function verify(
  secret: string,
  received: ReceivedSignature,
  subjectOf: () => Bytes | Promise<Bytes>,
  now: number,
): Promise<RelayVerdict> {
  const key = hmacKey(secret); // first: an unset secret fails every call, signed or not
  if (received.timestamp === undefined || received.signature === undefined) {
    return { ok: false, fault: 'missing' };
  }
  const signature = SIGNATURE.exec(received.signature)?.[1];
  if (!TIMESTAMP.test(received.timestamp) || !signature) return { ok: false, fault: 'malformed' };
  const timestamp = Number(received.timestamp);
  if (Math.abs(now - timestamp) > RELAY_SIGNATURE_WINDOW_MS) return { ok: false, fault: 'stale' };
  const message = canonical(received.timestamp, await subjectOf());
  const valid = await crypto.subtle.verify('HMAC', await key, bytesOfHex(signature), message);
  if (!valid) return { ok: false, fault: 'mismatch' };
  return { ok: true, receipt: { signature, expiresAt: timestamp + RELAY_SIGNATURE_WINDOW_MS } };
}

/**
 * Verifies an event delivery (`timestamp.body`). Replays are not detected here: that needs the
 * store's hub, which remembers the receipts of the window.
 */
export function verifyEvent(
  secret: string,
  received: ReceivedSignature,
  body: Bytes,
  now = Date.now(),
): Promise<RelayVerdict> {
  return verify(secret, received, () => body, now);
}

/** Verifies an image request (`timestamp.METHOD path.sha256(body)`); replays as for events. */
export function verifyRequest(
  secret: string,
  received: ReceivedSignature,
  request: SignedRequest,
  now = Date.now(),
): Promise<RelayVerdict> {
  return verify(secret, received, () => requestSubject(request), now);
}
