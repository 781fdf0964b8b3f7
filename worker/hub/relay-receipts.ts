import type { RelayReceipt } from '../contracts/relay-signature.ts';

/** Extra time a receipt is kept, in case the Worker that checked the window runs a clock ahead. */
const CLOCK_MARGIN_MS = 60_000;

/**
 * The relay deliveries this store's hub has accepted, kept while their timestamp is inside the
 * signature window: a captured request sent again within the window is refused as a replay,
 * and after the window its timestamp alone refuses it. Kept in the hub (not a cache) so the
 * check and the delivery are one strongly consistent step.
 */
export class RelayReceipts {
  #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`
      CREATE TABLE IF NOT EXISTS relay_receipts (
        signature TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS relay_receipts_expires_at ON relay_receipts (expires_at);
    `);
  }

  /** Records a delivery; false when the same signed request was accepted before (a replay). */
  accept(receipt: RelayReceipt, now: number): boolean {
    this.#sql.exec('DELETE FROM relay_receipts WHERE expires_at < ?', now - CLOCK_MARGIN_MS);
    const inserted = this.#sql
      .exec(
        `INSERT INTO relay_receipts (signature, expires_at) VALUES (?, ?)
         ON CONFLICT (signature) DO NOTHING
         RETURNING signature`,
        receipt.signature,
        receipt.expiresAt,
      )
      .toArray();
    return inserted.length === 1;
  }
}
