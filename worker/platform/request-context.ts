/**
 * The request being served, wherever the code runs: Hono's context storage (`contextStorage()`,
 * mounted first in worker/index.ts) keeps it through every `await` of the request — its
 * `waitUntil` work and whatever finishes after the answer included — so deep code (the outbox)
 * need not be handed it. Outside a request (the Cron Trigger, the store's hub) there is none.
 */
import { tryGetContext } from 'hono/context-storage';
import type { RequestIdVariables } from 'hono/request-id';

/** What this module reads of the request: only its id (no bindings, so Node code can import it). */
type RequestWithId = { Variables: RequestIdVariables };

/**
 * The id of the request being served — the client's `X-Request-Id` when it was a good one, else
 * the one made for it — or null outside a request. Its events carry it as their `correlation_id`.
 */
export function currentRequestId(): string | null {
  return tryGetContext<RequestWithId>()?.var.requestId ?? null;
}
