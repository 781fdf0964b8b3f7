import { requestId } from 'hono/request-id';
import { CORRELATION_ID_PATTERN } from '../../db/schema.ts';

/** The header that names a request, in both directions. */
const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * Names each request: a client's `X-Request-Id` of up to 64 letters, digits, `-` and `_` is kept
 * (a tablet's own id then follows its order to the screen as the events' `correlation_id`);
 * anything else — longer, other characters, empty — is replaced by a fresh UUID. The answer's
 * `X-Request-Id` says which id was used, and `c.var.requestId` holds it for the logs.
 *
 * Hono's own check admits `=` and up to 255 characters, more than an outbox row takes, so
 * `limitLength: 0` hands every request to the generator, which applies ours.
 */
export const requestIds = requestId({
  headerName: REQUEST_ID_HEADER,
  limitLength: 0,
  generator: (c) => {
    const sent = c.req.header(REQUEST_ID_HEADER);
    return sent !== undefined && CORRELATION_ID_PATTERN.test(sent) ? sent : crypto.randomUUID();
  },
});
