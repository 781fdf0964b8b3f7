/**
 * The life of one queue consumer, shared by hub delivery and the image worker: subscribe once the
 * bus is connected (retrying with backoff), count the messages in hand, and on stop cancel the
 * consumer, let the work in flight finish (bounded) and then close the subscription.
 */
import type { AMQPMessage, AMQPSubscription } from '@cloudamqp/amqp-client';
import type { Logger } from 'pino';
import { pause, retryDelay, settlesWithin } from './backoff.ts';

export interface QueueConsumerOptions {
  /** The queue's name in log lines, e.g. "hub delivery". */
  name: string;
  subscribe(handler: (message: AMQPMessage) => Promise<void>): Promise<AMQPSubscription>;
  /** First wait before subscribing again; doubles per failure up to 30 s. */
  retryBaseMs: number;
  log: Logger;
}

/** Subscription, in-flight bookkeeping and graceful stop of one consumer; see the file comment. */
export class QueueConsumer {
  #options: QueueConsumerOptions;
  #subscription: AMQPSubscription | undefined;
  #inFlight = new Set<Promise<unknown>>();
  #stopping = new AbortController();

  constructor(options: QueueConsumerOptions) {
    this.#options = options;
  }

  /** Aborted once `stop()` began: waits end early and no new message is started. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Starts consuming once the bus is connected; retries until it can subscribe or stops. */
  async start(handler: (message: AMQPMessage) => Promise<void>): Promise<void> {
    for (let attempt = 0; !this.#stopping.signal.aborted; attempt += 1) {
      try {
        this.#subscription = await this.#options.subscribe(handler);
        return;
      } catch (error) {
        const delay = retryDelay(attempt, this.#options.retryBaseMs);
        this.#options.log.warn(
          { err: error, retryInMs: delay },
          `could not subscribe to ${this.#options.name}`,
        );
        await pause(delay, this.#stopping.signal);
      }
    }
  }

  /** Counts `work` as in flight until it settles, so that `stop()` waits for it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    return work.finally(() => this.#inFlight.delete(work));
  }

  /**
   * Stops taking messages, lets the work in flight finish (up to `graceMs`) and closes the
   * subscription. The consumer is cancelled first but its channel kept open, so work in flight
   * can still ack; unacked messages return to the queue when the channel closes.
   */
  async stop(graceMs: number): Promise<void> {
    const subscription = this.#subscription;
    if (subscription !== undefined) {
      await subscription.channel.basicCancel(subscription.consumerTag).catch(() => {});
    }
    this.#stopping.abort();
    await settlesWithin(Promise.allSettled([...this.#inFlight]), graceMs);
    await subscription?.cancel();
  }
}
