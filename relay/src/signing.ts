/**
 * The relay's signature on its calls to the Worker's internal endpoints. Two forms share the
 * headers: events (`POST /internal/events`) sign `timestamp.body`; the image endpoints sign
 * `timestamp.METHOD path.sha256(body)`, so a signed GET or PUT cannot be replayed on another key.
 * The Worker verifies both with its own copy of the secret and refuses stale pairs.
 */
import { createHash, createHmac } from 'node:crypto';

/** Header carrying the signing time in unix milliseconds. */
export const TIMESTAMP_HEADER = 'x-relay-timestamp';
/** Header carrying the signature, `v1=<hex>`. */
export const SIGNATURE_HEADER = 'x-relay-signature';

/**
 * Signs one request body.
 *
 * @param secret - `RELAY_HMAC_SECRET`, shared with the Worker.
 * @param timestamp - unix milliseconds, sent alongside as `x-relay-timestamp`.
 * @param body - the raw request body, byte for byte as sent.
 * @returns the `x-relay-signature` value: `v1=` and the lowercase hex HMAC-SHA256 of
 *   `timestamp + "." + body` keyed with `secret`.
 */
export function sign(secret: string, timestamp: number | string, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `v1=${mac}`;
}

/**
 * Signs one request to an image endpoint (`/internal/images/*`, `/internal/menus/*`).
 *
 * @param method - the HTTP method as sent, e.g. `PUT` (upper-cased here).
 * @param path - the request path as sent, without origin or query.
 * @param body - the raw body; an empty body (a GET) signs the sha256 of "".
 * @returns the `x-relay-signature` value: `v1=` and the lowercase hex HMAC-SHA256 of
 *   `${timestamp}.${METHOD} ${path}.${sha256 hex of body}` keyed with `secret`.
 */
export function signRequest(
  secret: string,
  timestamp: number | string,
  method: string,
  path: string,
  body: Uint8Array | string = '',
): string {
  const digest = createHash('sha256').update(body).digest('hex');
  const message = `${timestamp}.${method.toUpperCase()} ${path}.${digest}`;
  return `v1=${createHmac('sha256', secret).update(message).digest('hex')}`;
}
