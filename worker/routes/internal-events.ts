import { createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../api-error.ts';
import { Envelope } from '../contracts/events.ts';
import { storeHub } from '../hub/store-hub.ts';
import { relaySignature, signatureInvalid } from '../middleware/relay-signature.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../openapi.ts';

/** Far above any event (an order of 50 lines is a few kB); read before the signature is known. */
const MAX_EVENT_BYTES = 256 * 1024;

const limitBody = bodyLimit({
  maxSize: MAX_EVENT_BYTES,
  onError: () => {
    throw new ApiError(413, 'PAYLOAD_TOO_LARGE', '요청 본문이 너무 큽니다.');
  },
});

const deliverEvent = createRoute({
  method: 'post',
  path: '/internal/events',
  tags: ['internal'],
  summary: 'The relay delivers one event to its store’s hub',
  // Not part of the public API: only the relay calls it, signed with RELAY_HMAC_SECRET.
  hide: true,
  // The signature over the raw body is checked before anything reads it as JSON.
  middleware: relaySignature({ signs: 'event' }),
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
export const internalEvents = createRouter();
internalEvents.use(deliverEvent.path, limitBody);
internalEvents.openapi(deliverEvent, async (c) => {
  const event = c.req.valid('json');
  const delivery = await storeHub(c.env, event.store_id).deliver(event, c.var.relayReceipt);
  if (delivery === 'replayed') throw signatureInvalid('replayed');
  return c.json({ stored: delivery === 'stored' }, 200);
});
