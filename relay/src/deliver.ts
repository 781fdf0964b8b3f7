/**
 * Hub delivery: consumes the partition queues `<ns>.hub-delivery.<p>` and POSTs each event,
 * signed, to the Worker's `/internal/events`, which hands it to the store's StoreHub. Each
 * partition has a single active consumer across all relays, so one store's events are in one
 * relay's hands at a time, in queue order (= the order the drain published them).
 *
 * Within this relay, one store's events go to its hub one after another; other stores of the
 * partition go on alongside (up to `prefetch` events in hand per partition). A 2xx acks the
 * message. A failure (5xx, 408, 429, no answer) is retried here, holding the message, after a
 * backoff that doubles per attempt: the store's later events wait behind it, so nothing
 * overtakes it. Requeueing it instead would put it behind them (and where a quorum queue puts a
 * requeued message has changed between RabbitMQ versions). After `maxAttempts` deliveries —
 * counting those of a relay that died holding it (`x-delivery-count`) — it is rejected to the
 * dead-letter queue and the store's next event goes. A refusal for good (a 4xx but 408 and 429:
 * a body it cannot read, a signature it will not take, a body too large) is dead-lettered at
 * once: the same bytes would be refused every time, and retrying would only hold up the store.
 * The dead-letter queue keeps it for an operator to move back once the cause is fixed.
 *
 * Every delivery and every failed attempt is logged with the event's id and `correlation_id`
 * (the request that caused it), so an operator can follow one order by its `X-Request-Id`.
 */
import type { AMQPMessage } from '@cloudamqp/amqp-client';
import type { Logger } from 'pino';
import { signEvent } from '../../worker/contracts/relay-signature.ts';
import { pause, refusedForGood, retryDelay } from './backoff.ts';
import type { Bus } from './bus.ts';
import type { RelayMetrics } from './metrics.ts';
import { QueueConsumer } from './queue-consumer.ts';

export interface HubDeliveryOptions {
  bus: Pick<Bus, 'hubPartitionSubscribers'>;
  workerUrl: string;
  secret: string;
  prefetch: number;
  /** Deliveries of one event before it is dead-lettered. */
  maxAttempts: number;
  timeoutMs: number;
  /** First wait before a retry; doubles per delivery up to 30 s. */
  retryBaseMs: number;
  log: Logger;
  metrics?: Pick<
    RelayMetrics,
    'eventsDelivered' | 'deliveryFailures' | 'deadLettered' | 'deliveryLatency'
  >;
}

/** What the Worker made of one delivery: a status, or the error that kept it from answering. */
type Outcome = { status: number; error?: undefined } | { status?: undefined; error: Error };

/** Forwards events from the delivery queue to the Worker; see the file comment. */
export class HubDelivery {
  #options: HubDeliveryOptions;
  #log: Logger;
  #endpoint: string;
  #consumer: QueueConsumer;
  /** The last delivery queued per store: the next one of that store waits for it. */
  #lanes = new Map<string, Promise<void>>();

  constructor(options: HubDeliveryOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'deliver' });
    this.#endpoint = `${options.workerUrl.replace(/\/+$/, '')}/internal/events`;
    this.#consumer = new QueueConsumer({
      name: 'hub delivery',
      subscribers: options.bus.hubPartitionSubscribers(options.prefetch),
      retryBaseMs: options.retryBaseMs,
      log: this.#log,
    });
  }

  /** Starts consuming once the bus is connected; retries until it can subscribe or stops. */
  start(): Promise<void> {
    return this.#consumer.start((message) => this.#enqueue(message));
  }

  /**
   * Starts no more deliveries and lets the ones in flight finish (up to `graceMs`). A message
   * waiting for its retry is given up at once; it and the ones behind it return to their
   * partition queue, in order, for whichever relay delivers that partition next.
   */
  stop(graceMs: number): Promise<void> {
    return this.#consumer.stop(graceMs);
  }

  #enqueue(message: AMQPMessage): Promise<void> {
    const store = message.routingKey.split('.')[1] ?? '';
    const previous = this.#lanes.get(store) ?? Promise.resolve();
    const delivery = previous.then(() => this.#deliver(message));
    this.#lanes.set(store, delivery);
    return this.#consumer.track(delivery).finally(() => {
      if (this.#lanes.get(store) === delivery) this.#lanes.delete(store);
    });
  }

  async #deliver(message: AMQPMessage): Promise<void> {
    const body = message.bodyString() ?? '';
    const event = factsOf(body);
    // Every line about this event names it, and the request that caused it.
    const log = this.#log.child({
      eventId: message.properties.messageId,
      correlation_id: event.correlationId,
    });
    const metrics = this.#options.metrics;
    // Deliveries this event had before a relay that held it died or lost its connection.
    const redeliveries = Number(message.properties.headers?.['x-delivery-count'] ?? 0);
    for (let attempt = redeliveries + 1; ; attempt += 1) {
      // Stopping, or the channel is gone: left unsettled, it returns to the queue in its place.
      if (this.#consumer.stopping.aborted || message.channel.closed) return;
      const outcome = await this.#post(body);
      if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) {
        metrics?.eventsDelivered.inc();
        if (event.occurredAt !== undefined) {
          // Clocks of the database and the relay: never below zero.
          metrics?.deliveryLatency.observe(Math.max(0, (Date.now() - event.occurredAt) / 1000));
        }
        log.info({ status: outcome.status, attempt }, 'event delivered');
        await message.ack().catch((error: unknown) => {
          // The channel is gone; the broker redelivers and the hub dedupes by id.
          log.warn({ err: error }, 'ack failed; the event will be redelivered');
        });
        return;
      }
      const refused = refusedForGood(outcome.status);
      const finalAttempt = refused || attempt >= this.#options.maxAttempts;
      metrics?.deliveryFailures.inc();
      const retryInMs = finalAttempt ? 0 : retryDelay(attempt - 1, this.#options.retryBaseMs);
      log[finalAttempt ? 'error' : 'warn'](
        { status: outcome.status, err: outcome.error, attempt, retryInMs },
        refused
          ? 'hub refused the delivery; dead-lettered without retrying'
          : finalAttempt
            ? 'hub delivery failed for the last time; dead-lettered'
            : 'hub delivery failed',
      );
      if (finalAttempt) {
        metrics?.deadLettered.inc();
        // Not requeued: the broker dead-letters it, and the store's next event goes.
        await message.nack(false).catch(() => {});
        return;
      }
      await pause(retryInMs, this.#consumer.stopping);
    }
  }

  async #post(body: string): Promise<Outcome> {
    try {
      const response = await fetch(this.#endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(await signEvent(this.#options.secret, body)),
        },
        body,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      await response.body?.cancel();
      return { status: response.status };
    } catch (error) {
      return { error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
}

/**
 * What the relay reads of an event it carries, which it otherwise passes on as bytes: when it
 * occurred (epoch ms, the outbox row's `created_at`) and the request that caused it. A body it
 * cannot read yields neither; the hub refuses such a body.
 */
function factsOf(body: string): { occurredAt?: number; correlationId: string | null } {
  try {
    const event = JSON.parse(body) as { occurred_at?: unknown; correlation_id?: unknown };
    const occurredAt = Date.parse(String(event.occurred_at));
    return {
      occurredAt: Number.isNaN(occurredAt) ? undefined : occurredAt,
      correlationId: typeof event.correlation_id === 'string' ? event.correlation_id : null,
    };
  } catch {
    return { correlationId: null };
  }
}
