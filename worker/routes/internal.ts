import { createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import {
  signatureInvalid,
  verifyRelaySignature,
  type RelayReceipt,
} from '../auth/relay-signature.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../api-error.ts';
import { Envelope } from '../hub/envelope.ts';
import { storeHub } from '../hub/store-hub.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../openapi.ts';

/** Far above any event (an order of 50 lines is a few kB); read before the signature is known. */
const MAX_EVENT_BYTES = 256 * 1024;

const limitBody = bodyLimit({
  maxSize: MAX_EVENT_BYTES,
  onError: () => {
    throw new ApiError(413, 'PAYLOAD_TOO_LARGE', '요청 본문이 너무 큽니다.');
  },
});

/** Verifies the relay's HMAC signature over the raw body before anything reads it as JSON. */
const relaySigned = createMiddleware<AppEnv & { Variables: { relayReceipt: RelayReceipt } }>(
  async function relaySigned(c, next) {
    const receipt = await verifyRelaySignature(
      c.env.RELAY_HMAC_SECRET,
      {
        timestamp: c.req.header('x-relay-timestamp'),
        signature: c.req.header('x-relay-signature'),
      },
      await c.req.arrayBuffer(),
    );
    c.set('relayReceipt', receipt);
    await next();
  },
);

const deliverEvent = createRoute({
  method: 'post',
  path: '/internal/events',
  tags: ['internal'],
  summary: 'The relay delivers one event to its store’s hub',
  // Not part of the public API: only the relay calls it, signed with RELAY_HMAC_SECRET.
  hide: true,
  middleware: relaySigned,
  request: { body: jsonBody(Envelope) },
  responses: {
    200: jsonResponse(
      z.object({ stored: z.boolean() }),
      '`stored: false` when the event was already in the store’s buffer',
    ),
    ...errorResponses(400, 401, 413),
  },
});

/**
 * Relay → hub delivery (see the real-time contract): signature and timestamp window here, the
 * replay check and the store-once rule in the store's hub, in one step with storing the event.
 */
export const internal = createRouter();
internal.use(deliverEvent.path, limitBody);
internal.openapi(deliverEvent, async (c) => {
  const event = c.req.valid('json');
  const delivery = await storeHub(c.env, event.store_id).deliver(event, c.var.relayReceipt);
  if (delivery === 'replayed') throw signatureInvalid('replayed');
  return c.json({ stored: delivery === 'stored' }, 200);
});
