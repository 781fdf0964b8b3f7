/**
 * The life of one queue consumer, shared by hub delivery (one subscription per partition queue)
 * and the image worker (one queue): subscribe once the bus is connected (retrying each queue with
 * backoff), count the messages in hand, and on stop let the work in flight finish (bounded), then
 * close the subscriptions, which hands every unsettled message back to its queue.
 */
import type { AMQPMessage, AMQPSubscription } from '@cloudamqp/amqp-client';
import type { Logger } from 'pino';
import { pause, retryDelay, settlesWithin } from './backoff.ts';

/** Subscribes one queue with a handler; the subscription survives reconnects. */
export type Subscribe = (
  handler: (message: AMQPMessage) => Promise<void>,
) => Promise<AMQPSubscription>;

export interface QueueConsumerOptions {
  /** The queue's name in log lines, e.g. "hub delivery". */
  name: string;
  /** One per queue consumed with the same handler. */
  subscribers: Subscribe[];
  /** First wait before subscribing again; doubles per failure up to 30 s. */
  retryBaseMs: number;
  log: Logger;
}

/** Subscriptions, in-flight bookkeeping and graceful stop of one consumer; see the file comment. */
export class QueueConsumer {
  #options: QueueConsumerOptions;
  #subscriptions: AMQPSubscription[] = [];
  #inFlight = new Set<Promise<unknown>>();
  #stopping = new AbortController();

  constructor(options: QueueConsumerOptions) {
    this.#options = options;
  }

  /** Aborted once `stop()` began: waits end early and no new message is started. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Starts consuming once the bus is connected; retries each queue until it subscribes or stops. */
  async start(handler: (message: AMQPMessage) => Promise<void>): Promise<void> {
    await Promise.all(
      this.#options.subscribers.map((subscribe) => this.#keepTrying(subscribe, handler)),
    );
  }

  /** Counts `work` as in flight until it settles, so that `stop()` waits for it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    return work.finally(() => this.#inFlight.delete(work));
  }

  /**
   * Stops starting messages, lets the work in flight finish (up to `graceMs`) and closes the
   * subscriptions. The consumers stay registered until then: cancelling one first would let a
   * single-active-consumer queue hand the next messages to another relay while this one still
   * holds earlier ones. Unsettled messages return to their queue, in order, when the channels
   * close.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping.abort();
    await settlesWithin(Promise.allSettled([...this.#inFlight]), graceMs);
    await Promise.all(this.#subscriptions.map((subscription) => subscription.cancel()));
  }

  async #keepTrying(
    subscribe: Subscribe,
    handler: (message: AMQPMessage) => Promise<void>,
  ): Promise<void> {
    for (let attempt = 0; !this.#stopping.signal.aborted; attempt += 1) {
      try {
        this.#subscriptions.push(await subscribe(handler));
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
}
