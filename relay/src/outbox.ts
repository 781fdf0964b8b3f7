/**
 * The outbox drain: moves committed `outbox` rows to the broker, at least once and never lost.
 *
 * Wakes on a NOTIFY (`OUTBOX_NOTIFY_CHANNEL`, sent by a trigger on commit), on a polling timer (a
 * missed notification) and when the broker comes back; each wake-up drains batch after batch until
 * one comes back short. A batch is one transaction that claims the oldest unpublished rows,
 * publishes them in id order, waits for every publisher confirm, and only then marks them
 * published. A failed batch rolls back, records the attempt and backs off. The relay never deletes
 * rows. Each published event, and each batch that failed, is logged with the events' ids and
 * `correlation_id`s (the requests that caused them).
 *
 * Replicas take turns: a batch first takes a transaction-scoped advisory lock, so one batch at a
 * time is claimed and published, and the next one claims only after the previous committed. Two
 * replicas publishing side by side could otherwise put a store's later rows (claimed by one)
 * into the broker before its earlier ones (claimed by the other). So for any two events of a
 * store, the one committed first is published first, unless their transactions overlapped and
 * one batch claimed both — then they go in id order.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { OUTBOX_NOTIFY_CHANNEL } from '../../db/schema.ts';
import { envelopeOf, type Envelope, type OutboxEvent } from '../../worker/contracts/events.ts';
import { pause, retryDelay } from './backoff.ts';
import type { RelayMetrics } from './metrics.ts';

/** Where envelopes go; `publish` resolves once the broker has confirmed the message. */
export interface EventPublisher {
  publish(envelope: Envelope): Promise<void>;
}

export interface OutboxDrainOptions {
  pool: pg.Pool;
  /** For the dedicated LISTEN connection (a pooled one would drop its LISTEN on release). */
  databaseUrl: string;
  publisher: EventPublisher;
  log: Logger;
  pollIntervalMs: number;
  batchSize: number;
  /** First wait after a failed batch or a lost LISTEN connection; doubles up to 30 s. */
  retryBaseMs?: number;
  metrics?: Pick<RelayMetrics, 'eventsPublished'>;
}

/** Held by the batch in flight, of whichever replica; released when it commits or rolls back. */
const TAKE_TURN = `select pg_advisory_xact_lock(hashtextextended('table_order outbox drain', 0))`;
// Columns named as the contract's `envelopeOf` reads them; `id`, a bigint, arrives as text.
const CLAIM_BATCH = `
  select id, store_id as "storeId", table_id as "tableId",
    table_session_id as "tableSessionId", type, payload, created_at as "createdAt",
    actor_role as "actorRole", actor_id as "actorId", correlation_id as "correlationId"
  from outbox where published_at is null
  order by id limit $1
  for update`;
const MARK_PUBLISHED = `
  update outbox set published_at = now(), attempts = attempts + 1 where id = any($1::bigint[])`;
const RECORD_FAILURE = `
  update outbox set attempts = attempts + 1, last_error = $2
  where id = any($1::bigint[]) and published_at is null`;

const MAX_ERROR_LENGTH = 1000;

/** A claimed batch the broker did not take: its events stay in the outbox for the next try. */
class UnpublishedBatch extends Error {
  override name = 'UnpublishedBatch';
  /** The rows of the batch, none of them marked published. */
  readonly events: OutboxEvent[];

  constructor(events: OutboxEvent[], cause: unknown) {
    super(`${events.length} events not published`, { cause });
    this.events = events;
  }
}

/**
 * How a log line names an event: its id (as the broker's message id, text), its type and the
 * request that caused it, so one order can be followed by its `X-Request-Id`.
 */
function eventFields(row: OutboxEvent) {
  return { eventId: String(row.id), type: row.type, correlation_id: row.correlationId };
}

/** Drains the outbox into the broker; see the file comment for the guarantees. */
export class OutboxDrain {
  #options: OutboxDrainOptions;
  #log: Logger;
  #retryBaseMs: number;
  #stopped = new AbortController();
  #wanted = false;
  #draining: Promise<void> | undefined;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #listener: pg.Client | undefined;
  #listening: Promise<void> | undefined;

  constructor(options: OutboxDrainOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'outbox' });
    this.#retryBaseMs = options.retryBaseMs ?? 500;
  }

  /** Starts listening, polling and a first drain. */
  start(): void {
    this.#listening = this.#listen();
    this.#pollTimer = setInterval(() => this.wake(), this.#options.pollIntervalMs);
    this.wake();
  }

  /** Asks for a drain; while backing off after a failure, the drain waits for its timer. */
  wake(): void {
    if (this.#stopped.signal.aborted) return;
    this.#wanted = true;
    if (this.#draining !== undefined || this.#retryTimer !== undefined) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  /** Ends a backoff at once (the broker is back): drains now. */
  retryNow(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#failures = 0;
    this.wake();
  }

  /** Stops claiming batches, waits for the one in flight to commit or roll back, stops LISTEN. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    clearInterval(this.#pollTimer);
    clearTimeout(this.#retryTimer);
    await this.#draining;
    await this.#listener?.end().catch(() => {});
    await this.#listening;
  }

  async #drain(): Promise<void> {
    while (this.#wanted && !this.#stopped.signal.aborted) {
      this.#wanted = false;
      try {
        let published: number;
        do {
          published = await this.#publishBatch();
          this.#failures = 0;
        } while (published === this.#options.batchSize && !this.#stopped.signal.aborted);
      } catch (error) {
        const delay = retryDelay(this.#failures, this.#retryBaseMs);
        this.#failures += 1;
        const unpublished = error instanceof UnpublishedBatch ? error : undefined;
        this.#log.warn(
          {
            err: unpublished?.cause ?? error,
            retryInMs: delay,
            events: unpublished?.events.map(eventFields),
          },
          'outbox batch failed',
        );
        this.#wanted = true;
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.wake();
        }, delay);
        return;
      }
    }
  }

  /** One transaction: claim, publish, await confirms, mark. Returns how many rows it published. */
  async #publishBatch(): Promise<number> {
    const client = await this.#options.pool.connect();
    let claimed: OutboxEvent[] = [];
    try {
      await client.query('begin');
      await client.query(TAKE_TURN);
      claimed = (await client.query<OutboxEvent>(CLAIM_BATCH, [this.#options.batchSize])).rows;
      if (claimed.length > 0) {
        // Started in id order on one confirm channel, so they reach the broker in that order.
        const confirms = await Promise.allSettled(
          claimed.map((row) => this.#options.publisher.publish(envelopeOf(row))),
        );
        const refused = confirms.find((result) => result.status === 'rejected');
        if (refused !== undefined) throw refused.reason;
        await client.query(MARK_PUBLISHED, [claimed.map((row) => row.id)]);
      }
      await client.query('commit');
      client.release();
      this.#options.metrics?.eventsPublished.inc(claimed.length);
      for (const row of claimed) this.#log.info(eventFields(row), 'event published');
      return claimed.length;
    } catch (error) {
      const rolledBack = await client.query('rollback').then(
        () => true,
        () => false,
      );
      client.release(!rolledBack); // a connection that cannot roll back is not reused
      if (claimed.length === 0) throw error;
      await this.#recordFailure(claimed, error);
      throw new UnpublishedBatch(claimed, error);
    }
  }

  async #recordFailure(rows: OutboxEvent[], error: unknown): Promise<void> {
    const message = (error instanceof Error ? error.message : String(error)).slice(
      0,
      MAX_ERROR_LENGTH,
    );
    const ids = rows.map((row) => row.id);
    await this.#options.pool.query(RECORD_FAILURE, [ids, message]).catch((recordError) => {
      this.#log.error({ err: recordError, ids }, 'could not record the failed publish');
    });
  }

  /** Keeps one connection LISTENing; after it drops, reconnects with backoff and drains. */
  async #listen(): Promise<void> {
    let failures = 0;
    while (!this.#stopped.signal.aborted) {
      const client = new pg.Client({ connectionString: this.#options.databaseUrl });
      const lost = new Promise<unknown>((resolve) => {
        client.on('error', resolve);
        client.on('end', () => resolve(undefined));
      });
      client.on('notification', () => this.wake());
      try {
        this.#listener = client;
        await client.connect();
        await client.query(`listen ${OUTBOX_NOTIFY_CHANNEL}`);
        failures = 0;
        this.#log.debug('listening for outbox notifications');
        this.wake(); // rows committed while nobody listened
        const error = await lost;
        if (!this.#stopped.signal.aborted) {
          this.#log.warn({ err: error }, 'outbox LISTEN connection lost');
        }
      } catch (error) {
        if (!this.#stopped.signal.aborted) {
          this.#log.warn({ err: error }, 'outbox LISTEN connection failed');
        }
      } finally {
        await client.end().catch(() => {});
      }
      const delay = retryDelay(failures, this.#retryBaseMs);
      failures += 1;
      await pause(delay, this.#stopped.signal);
    }
  }
}
