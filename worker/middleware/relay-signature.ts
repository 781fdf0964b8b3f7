import { createMiddleware } from 'hono/factory';
import { ApiError } from '../api-error.ts';
import {
  RELAY_SIGNATURE_HEADER,
  RELAY_TIMESTAMP_HEADER,
  verifyEvent,
  verifyRequest,
  type RelayReceipt,
} from '../contracts/relay-signature.ts';
import type { AppEnv } from '../env.ts';
import { storeHub } from '../hub/store-hub.ts';

/**
 * 401 `SIGNATURE_INVALID`; `reason` (missing, malformed, stale, mismatch, replayed) helps ops.
 */
export function signatureInvalid(reason: string): ApiError {
  return new ApiError(401, 'SIGNATURE_INVALID', '서명이 올바르지 않습니다.', {
    details: { reason },
  });
}

/** Which store a signed request is for, read from what the relay signed; undefined if none. */
export type StoreOfRequest = (path: string, body: ArrayBuffer) => string | undefined;

export type RelaySignatureOptions = {
  /**
   * What the relay signed: an event delivery signs its body; an image request signs its method,
   * path and body hash (see contracts/relay-signature).
   */
  signs: 'event' | 'request';
  /**
   * Where the receipt is claimed. Given, the store it names remembers the request here, and the
   * same request sent again is 401 `replayed`; a request that names no store names no object or
   * menu either, and its route refuses it before reading or writing anything. Not given, the
   * route hands `c.var.relayReceipt` to the store's hub itself — an event delivery does, in the
   * same step that stores the event.
   */
  storeOf?: StoreOfRequest;
};

/**
 * The relay's signature, checked before anything else reads the request: 401
 * `SIGNATURE_INVALID` when it is missing, malformed, outside the window or wrong; then the
 * replay check (see `storeOf`). The store's hub keeps each accepted receipt while its timestamp
 * is inside the window. The relay signs every attempt afresh, so its retries are new requests.
 */
export function relaySignature({ signs, storeOf }: RelaySignatureOptions) {
  return createMiddleware<AppEnv & { Variables: { relayReceipt: RelayReceipt } }>(
    async function relaySignature(c, next) {
      const secret = c.env.RELAY_HMAC_SECRET;
      const received = {
        timestamp: c.req.header(RELAY_TIMESTAMP_HEADER),
        signature: c.req.header(RELAY_SIGNATURE_HEADER),
      };
      const body = await c.req.arrayBuffer();
      const verdict =
        signs === 'event'
          ? await verifyEvent(secret, received, body)
          : // The path as sent, without decoding: what was signed.
            await verifyRequest(secret, received, {
              method: c.req.method,
              path: new URL(c.req.url).pathname,
              body,
            });
      if (!verdict.ok) throw signatureInvalid(verdict.fault);
      const storeId = storeOf?.(c.req.path, body);
      if (
        storeId !== undefined &&
        !(await storeHub(c.env, storeId).acceptRelayRequest(verdict.receipt))
      ) {
        throw signatureInvalid('replayed');
      }
      c.set('relayReceipt', verdict.receipt);
      await next();
    },
  );
}
