/**
 * The relay's link to RabbitMQ: one reconnecting session (AMQPSession), the topology of the event
 * contract, confirmed publishing of envelopes and the subscriptions the hub delivery and the image
 * worker consume.
 *
 * Topology (names from the namespace `ns`):
 * - `<ns>.events`, durable topic exchange; routing key `store.<store_id>.<type>`;
 * - `<ns>.hub-delivery`, durable quorum queue bound with `store.#`, dead-lettering to
 * - `<ns>.events.dead`, durable topic exchange → `<ns>.hub-delivery.dead`, bound with `#`;
 * - `<ns>.image-jobs`, durable quorum queue bound with `store.*.menu.image_uploaded`,
 *   dead-lettering through the default exchange straight to `<ns>.image-jobs.dead`.
 */
import {
  AMQPSession,
  type AMQPExchange,
  type AMQPMessage,
  type AMQPQueue,
  type AMQPSubscription,
} from '@cloudamqp/amqp-client';
import type { Logger } from 'pino';
import type { Envelope } from '../../worker/contracts/events.ts';
import { pause, retryDelay } from './backoff.ts';

/** The exchange and queue names of one namespace. */
export function topologyNames(namespace: string) {
  return {
    events: `${namespace}.events`,
    deadEvents: `${namespace}.events.dead`,
    hubDelivery: `${namespace}.hub-delivery`,
    hubDeliveryDead: `${namespace}.hub-delivery.dead`,
    imageJobs: `${namespace}.image-jobs`,
    imageJobsDead: `${namespace}.image-jobs.dead`,
  };
}

/** `store.<store_id>.<type>`, e.g. `store.4f….order.created`. */
export function routingKeyOf(envelope: Pick<Envelope, 'store_id' | 'type'>): string {
  return `store.${envelope.store_id}.${envelope.type}`;
}

/**
 * Arguments of `<ns>.hub-delivery`. RabbitMQ's `x-delivery-limit` counts *re*deliveries: a limit
 * of N dead-letters a message on its (N+1)-th failed delivery. So `maxAttempts` deliveries need
 * a limit of `maxAttempts - 1`.
 */
export function hubDeliveryArguments(namespace: string, maxAttempts: number) {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': maxAttempts - 1,
    'x-dead-letter-exchange': topologyNames(namespace).deadEvents,
  };
}

/**
 * Arguments of `<ns>.image-jobs`: the same delivery limit as the hub delivery, but a dead job goes
 * to a queue of its own. Routing it through `<ns>.events.dead` would land it in
 * `<ns>.hub-delivery.dead` too (bound with `#`), mixing failed uploads with failed deliveries.
 */
export function imageJobsArguments(namespace: string, maxAttempts: number) {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': maxAttempts - 1,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': topologyNames(namespace).imageJobsDead,
  };
}

/** Routing pattern of the image jobs: every store's `menu.image_uploaded`. */
export const IMAGE_JOBS_BINDING = 'store.*.menu.image_uploaded';

/** A publish that the broker did not confirm, or that could not be attempted. */
export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
}

export interface BusOptions {
  url: string;
  namespace: string;
  /** Deliveries of one event before it is dead-lettered (DELIVERY_MAX_ATTEMPTS). */
  maxDeliveryAttempts: number;
  log: Logger;
  /** Shown by `rabbitmqctl list_connections client_properties`. */
  connectionName?: string;
  /**
   * AMQP heartbeat in seconds (AMQP_HEARTBEAT_SECONDS). The client drops a connection on which
   * nothing arrived for that long and the session reconnects: a broker that vanished without a
   * close (a dropped route, a stalled proxy) would otherwise hold the relay for good.
   * Default {@link DEFAULT_HEARTBEAT_SECONDS}.
   */
  heartbeatSeconds?: number;
  /** First wait before reconnecting; doubles up to 30 s. */
  reconnectIntervalMs?: number;
  /** How long a publish may wait for the broker's confirm. */
  publishTimeoutMs?: number;
  /** Called each time the bus is (re)connected and its topology is in place. */
  onConnected?: () => void;
}

/** Heartbeat when none is configured: a dead connection is noticed within 15 s. */
export const DEFAULT_HEARTBEAT_SECONDS = 15;
const MAX_RECONNECT_INTERVAL_MS = 30_000;
const JSON_CONTENT_TYPE = 'application/json';

/** One reconnecting broker connection with the contract's topology declared on it. */
export class Bus {
  #options: BusOptions;
  #log: Logger;
  #session: AMQPSession | undefined;
  #events: AMQPExchange | undefined;
  #hubDelivery: AMQPQueue | undefined;
  #imageJobs: AMQPQueue | undefined;
  #connected = false;
  #stopped = new AbortController();
  #firstAttempt = Promise.withResolvers<void>();

  constructor(options: BusOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'bus' });
  }

  /** Settles once `start()` has connected or failed for the first time (or the bus stopped). */
  get firstAttempt(): Promise<void> {
    return this.#firstAttempt.promise;
  }

  /** Whether the broker connection is up and the topology declared (for health and metrics). */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Connects, retrying with backoff until the broker answers (the session itself only reconnects
   * after a first success), then declares the topology. Resolves `true` once connected, `false`
   * if `stop()` came first.
   */
  async start(): Promise<boolean> {
    const baseMs = this.#options.reconnectIntervalMs ?? 1000;
    for (let attempt = 0; !this.#stopped.signal.aborted; attempt += 1) {
      try {
        this.#session = await AMQPSession.connect(this.#options.url, {
          name: this.#options.connectionName,
          heartbeat: this.#options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS,
          reconnectInterval: baseMs,
          maxReconnectInterval: MAX_RECONNECT_INTERVAL_MS,
          logger: libraryLogger(this.#log),
          onconnect: () => this.#reconnected(),
          ondisconnect: (error) => this.#disconnected(error),
          onrecoverfailed: (queue, error) =>
            this.#log.error({ err: error, queue }, 'consumer not recovered after reconnect'),
        });
        if (this.#stopped.signal.aborted) break;
        await this.#declareTopology(this.#session);
        if (this.#stopped.signal.aborted) break;
        this.#connected = true;
        this.#log.info({ namespace: this.#options.namespace }, 'broker connected');
        this.#firstAttempt.resolve();
        this.#options.onConnected?.();
        return true;
      } catch (error) {
        await this.#session?.stop().catch(() => {});
        this.#session = undefined;
        const delay = retryDelay(attempt, baseMs, MAX_RECONNECT_INTERVAL_MS);
        this.#log.warn({ err: error, retryInMs: delay }, 'broker connection failed');
        this.#firstAttempt.resolve();
        await pause(delay, this.#stopped.signal);
      }
    }
    await this.#session?.stop().catch(() => {});
    this.#firstAttempt.resolve();
    return false;
  }

  /**
   * Publishes one envelope, to be forwarded byte for byte to the Worker: persistent, `messageId`
   * = event id, routing key `store.<store_id>.<type>`. Resolves once the broker confirmed it;
   * rejects when it is not connected, the broker refused (nack) or no confirm came within the
   * publish timeout.
   */
  async publish(envelope: Envelope): Promise<void> {
    const events = this.#events;
    if (!this.#connected || events === undefined) {
      throw new BrokerUnavailableError('not connected to the broker');
    }
    const confirmed = events.publish(JSON.stringify(envelope), {
      routingKey: routingKeyOf(envelope),
      deliveryMode: 2,
      messageId: String(envelope.id),
      // The session has no codecs (bodies travel as raw bytes), so its typing admits no names.
      contentType: JSON_CONTENT_TYPE as never,
      confirm: true,
    });
    const timeoutMs = this.#options.publishTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new BrokerUnavailableError(`no publisher confirm within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    confirmed.catch(() => {}); // a confirm that loses the race must not go unhandled
    try {
      await Promise.race([confirmed, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Consumes `<ns>.hub-delivery` with manual acks; the subscription survives reconnects. */
  subscribeToHubDelivery(
    prefetch: number,
    handler: (message: AMQPMessage) => Promise<void>,
  ): Promise<AMQPSubscription> {
    if (this.#hubDelivery === undefined) throw new BrokerUnavailableError('bus not started');
    return this.#hubDelivery.subscribe({ prefetch, manualAck: true }, handler);
  }

  /** Consumes `<ns>.image-jobs` with manual acks; the subscription survives reconnects. */
  subscribeToImageJobs(
    prefetch: number,
    handler: (message: AMQPMessage) => Promise<void>,
  ): Promise<AMQPSubscription> {
    if (this.#imageJobs === undefined) throw new BrokerUnavailableError('bus not started');
    return this.#imageJobs.subscribe({ prefetch, manualAck: true }, handler);
  }

  /** Stops reconnecting and closes the connection (consumers are cancelled first). */
  async stop(): Promise<void> {
    this.#stopped.abort();
    this.#connected = false;
    await this.#session?.stop('relay stopping');
  }

  async #declareTopology(session: AMQPSession): Promise<void> {
    const names = topologyNames(this.#options.namespace);
    const events = await session.exchange(names.events, 'topic', { durable: true });
    const deadEvents = await session.exchange(names.deadEvents, 'topic', { durable: true });
    const dead = await session.queue(names.hubDeliveryDead, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await dead.bind(deadEvents, '#');
    const hubDelivery = await session.queue(names.hubDelivery, {
      durable: true,
      arguments: hubDeliveryArguments(this.#options.namespace, this.#options.maxDeliveryAttempts),
    });
    await hubDelivery.bind(events, 'store.#');
    await session.queue(names.imageJobsDead, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    const imageJobs = await session.queue(names.imageJobs, {
      durable: true,
      arguments: imageJobsArguments(this.#options.namespace, this.#options.maxDeliveryAttempts),
    });
    await imageJobs.bind(events, IMAGE_JOBS_BINDING);
    this.#events = events;
    this.#hubDelivery = hubDelivery;
    this.#imageJobs = imageJobs;
  }

  // The session recovers consumers by itself; durable topology outlives the connection.
  #reconnected(): void {
    if (this.#events === undefined || this.#stopped.signal.aborted) return; // first connect
    this.#connected = true;
    this.#log.info('broker reconnected');
    this.#options.onConnected?.();
  }

  #disconnected(error?: Error): void {
    this.#connected = false;
    if (this.#stopped.signal.aborted) return;
    this.#log.warn({ err: error }, 'broker disconnected; reconnecting');
  }
}

/** The client library logs with console-style arguments; pino wants one message. */
function libraryLogger(log: Logger) {
  const child = log.child({ component: 'amqp-client' });
  const line = (args: unknown[]) =>
    args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ');
  return {
    debug: (...args: unknown[]) => child.debug(line(args)),
    info: (...args: unknown[]) => child.debug(line(args)),
    warn: (...args: unknown[]) => child.warn(line(args)),
    error: (...args: unknown[]) => child.error(line(args)),
  };
}
