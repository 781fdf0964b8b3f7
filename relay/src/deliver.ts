/**
 * Hub delivery: consumes `<ns>.hub-delivery` and POSTs each event, signed, to the Worker's
 * `/internal/events`, which hands it to the store's StoreHub. A 2xx acks the message. A refusal
 * for good (a 4xx but 408 and 429: a body it cannot read, a signature it will not take, a body
 * too large) is dead-lettered at once: the same bytes would be refused on every attempt, and the
 * full backoff would only hold up the store's later events behind it. The dead-letter queue keeps
 * it for an operator to move back once the cause is fixed. Anything else (5xx, 408, 429, no
 * answer) waits a backoff that grows with the broker's `x-delivery-count` and is requeued, so the
 * broker dead-letters it once the delivery limit is reached.
 *
 * Up to `prefetch` events are in hand at once, but one store's events go to its hub one after
 * another, in queue order (= outbox id order), so a kitchen screen sees orders as they came.
 */
import type { AMQPMessage } from '@cloudamqp/amqp-client';
import type { Logger } from 'pino';
import { signEvent } from '../../worker/contracts/relay-signature.ts';
import { pause, refusedForGood, retryDelay } from './backoff.ts';
import type { Bus } from './bus.ts';
import type { RelayMetrics } from './metrics.ts';
import { QueueConsumer } from './queue-consumer.ts';

export interface HubDeliveryOptions {
  bus: Pick<Bus, 'subscribeToHubDelivery'>;
  workerUrl: string;
  secret: string;
  prefetch: number;
  /** Deliveries before the broker dead-letters; the last failure is requeued without waiting. */
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
      subscribe: (handler) => options.bus.subscribeToHubDelivery(options.prefetch, handler),
      retryBaseMs: options.retryBaseMs,
      log: this.#log,
    });
  }

  /** Starts consuming once the bus is connected; retries until it can subscribe or stops. */
  start(): Promise<void> {
    return this.#consumer.start((message) => this.#enqueue(message));
  }

  /**
   * Stops taking messages and lets deliveries in flight finish (up to `graceMs`). A message
   * waiting for its retry is requeued at once; unacked ones return to the queue.
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
    // Not started before a stop or a lost channel: unacked, the broker delivers it again.
    if (this.#consumer.stopping.aborted || message.channel.closed) return;
    const body = message.bodyString() ?? '';
    const eventId = message.properties.messageId;
    const previousDeliveries = Number(message.properties.headers?.['x-delivery-count'] ?? 0);
    const attempt = previousDeliveries + 1;
    const outcome = await this.#post(body);
    const metrics = this.#options.metrics;
    if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) {
      metrics?.eventsDelivered.inc();
      const age = secondsSinceOccurred(body);
      if (age !== undefined) metrics?.deliveryLatency.observe(age);
      await message.ack().catch((error: unknown) => {
        // The channel is gone; the broker redelivers and the hub dedupes by id.
        this.#log.warn({ eventId, err: error }, 'ack failed; the event will be redelivered');
      });
      return;
    }
    const refused = refusedForGood(outcome.status);
    const finalAttempt = refused || attempt >= this.#options.maxAttempts;
    metrics?.deliveryFailures.inc();
    if (finalAttempt) metrics?.deadLettered.inc();
    const retryInMs = finalAttempt ? 0 : retryDelay(previousDeliveries, this.#options.retryBaseMs);
    this.#log[finalAttempt ? 'error' : 'warn'](
      { eventId, status: outcome.status, err: outcome.error, attempt, retryInMs },
      refused
        ? 'hub refused the delivery; dead-lettered without retrying'
        : finalAttempt
          ? 'hub delivery failed for the last time; the broker dead-letters it'
          : 'hub delivery failed',
    );
    await pause(retryInMs, this.#consumer.stopping);
    // Not requeued, the broker dead-letters it now; a dead channel requeues it just the same.
    await message.nack(!refused).catch(() => {});
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

/** Seconds from the event's `occurred_at` (the outbox row's `created_at`) until now. */
function secondsSinceOccurred(body: string): number | undefined {
  try {
    const occurredAt = Date.parse((JSON.parse(body) as { occurred_at?: string }).occurred_at ?? '');
    if (Number.isNaN(occurredAt)) return undefined;
    return Math.max(0, (Date.now() - occurredAt) / 1000); // clocks of the database and the relay
  } catch {
    return undefined;
  }
}
