import { and, eq } from 'drizzle-orm';
import { idempotencyKeys } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import { sha256Hex } from '../contracts/encoding.ts';
import type { Transaction } from '../domain/database.ts';

/** JSON with object keys sorted, so that two equal bodies always serialise to the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fingerprint of a request body as the API understood it (after parsing, so whitespace, key
 * order and ignored fields do not make a retry look like another request): SHA-256, hex.
 */
export function requestHash(body: unknown): Promise<string> {
  return sha256Hex(canonicalJson(body));
}

export type IdempotencyClaim = {
  storeId: string;
  tableId: string;
  key: string;
  requestHash: string;
};

/**
 * Claims a table's `Idempotency-Key` inside the use case's transaction. Returns `null` when the
 * key is new (the caller goes on and {@link rememberResponse}s its answer), or the answer stored
 * for the same request earlier, to be replayed. The same key with another body is
 * `422 IDEMPOTENCY_KEY_REUSED`.
 *
 * Race-free without check-then-write: `insert … on conflict do nothing` waits on a concurrent
 * transaction that holds the same key; if that one commits, our insert does nothing and the next
 * statement (a new snapshot under READ COMMITTED) sees its stored answer; if it rolls back (its
 * order was refused), our insert takes the key and we run the request ourselves.
 */
export async function claimIdempotencyKey(
  tx: Transaction,
  claim: IdempotencyClaim,
): Promise<{ statusCode: number; response: unknown } | null> {
  // Two rounds: a key that vanished between the two statements (pruned) is simply claimed anew.
  for (let round = 0; round < 2; round += 1) {
    const claimed = await tx
      .insert(idempotencyKeys)
      .values(claim)
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (claimed.length > 0) return null;
    const [earlier] = await tx
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.tableId, claim.tableId), eq(idempotencyKeys.key, claim.key)));
    if (!earlier) continue;
    if (earlier.requestHash !== claim.requestHash) {
      throw new ApiError(
        422,
        'IDEMPOTENCY_KEY_REUSED',
        '같은 요청 키로 다른 주문이 이미 접수되었습니다. 새 주문은 새 키로 보내 주세요.',
      );
    }
    // Keys are stored with their answer in the transaction that claimed them, so a visible key
    // always has one.
    if (earlier.statusCode === null) throw new Error('idempotency key stored without an answer');
    return { statusCode: earlier.statusCode, response: earlier.response };
  }
  throw new Error('idempotency key could be neither claimed nor read');
}

/** Stores the answer to a claimed key, in the same transaction as the change it describes. */
export async function rememberResponse(
  tx: Transaction,
  answer: { tableId: string; key: string; orderId: string; statusCode: number; response: unknown },
): Promise<void> {
  await tx
    .update(idempotencyKeys)
    .set({ orderId: answer.orderId, statusCode: answer.statusCode, response: answer.response })
    .where(and(eq(idempotencyKeys.tableId, answer.tableId), eq(idempotencyKeys.key, answer.key)));
}
