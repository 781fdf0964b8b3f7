/**
 * The relay's link to RabbitMQ: one reconnecting session (AMQPSession), the topology of the event
 * contract, confirmed publishing of envelopes and the subscriptions the hub delivery and the image
 * worker consume.
 *
 * Topology (names from the namespace `ns`):
 * - `<ns>.events`, durable topic exchange; routing key `store.<store_id>.<type>`, header
 *   `hub-partition` = the store's delivery partition (see {@link hubPartitionOf});
 * - `<ns>.hub-delivery`, durable headers exchange bound to `<ns>.events` with `store.#`, routing
 *   each event by its `hub-partition` to
 * - `<ns>.hub-delivery.<p>` (p = 0 … partitions − 1), durable quorum queues with a single active
 *   consumer, so one relay at a time delivers a store's events, dead-lettering to
 * - `<ns>.events.dead`, durable topic exchange → `<ns>.hub-delivery.dead`, bound with `#`;
 * - `<ns>.image-jobs`, durable quorum queue bound with `store.*.menu.image_uploaded`,
 *   dead-lettering through the default exchange straight to `<ns>.image-jobs.dead`.
 */
import { createHash } from 'node:crypto';
import {
  AMQPClient,
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
    hubPartition: (partition: number) => `${namespace}.hub-delivery.${partition}`,
    hubDeliveryDead: `${namespace}.hub-delivery.dead`,
    imageJobs: `${namespace}.image-jobs`,
    imageJobsDead: `${namespace}.image-jobs.dead`,
  };
}

/** `store.<store_id>.<type>`, e.g. `store.4f….order.created`. */
export function routingKeyOf(envelope: Pick<Envelope, 'store_id' | 'type'>): string {
  return `store.${envelope.store_id}.${envelope.type}`;
}

/** The message header that names an event's delivery partition (a decimal string). */
export const PARTITION_HEADER = 'hub-partition';

/**
 * The delivery partition of a store: the first 32 bits of the MD5 of its id, modulo the
 * partition count. Stable across processes and versions, and computable in SQL to find a store's
 * queue: `('x' || left(md5(store_id::text), 8))::bit(32)::bigint % <partitions>`.
 */
export function hubPartitionOf(storeId: string, partitions: number): number {
  return createHash('md5').update(storeId).digest().readUInt32BE(0) % partitions;
}

/**
 * Arguments of each `<ns>.hub-delivery.<p>`. A single active consumer: every relay subscribes,
 * one receives, and the next takes over when it goes. RabbitMQ's `x-delivery-limit` counts
 * *re*deliveries (after a relay died holding the event): a limit of N dead-letters a message on
 * its (N+1)-th delivery, so `maxAttempts` deliveries need a limit of `maxAttempts - 1`.
 */
export function hubPartitionArguments(namespace: string, maxAttempts: number) {
  return {
    'x-queue-type': 'quorum',
    'x-single-active-consumer': true,
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
  /** Delivery partitions, `<ns>.hub-delivery.0` … (RELAY_PARTITIONS); every relay the same. */
  partitions: number;
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

/** One delivery partition as the broker sees it (see {@link Bus.hubPartitionStats}). */
export interface PartitionStats {
  partition: number;
  /** Messages waiting in `<ns>.hub-delivery.<p>`, not yet handed to a relay. */
  ready: number;
  /**
   * Its consumers as the broker counts them: with a single active consumer only the active one
   * (RabbitMQ 3.x), so 0 means no relay delivers the partition now.
   */
  consumers: number;
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
  #hubPartitions: AMQPQueue[] = [];
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
   * = event id, routing key `store.<store_id>.<type>`, header `hub-partition`. Resolves once the
   * broker confirmed it; rejects when it is not connected, the broker refused (nack) or no
   * confirm came within the publish timeout.
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
      headers: {
        [PARTITION_HEADER]: String(hubPartitionOf(envelope.store_id, this.#options.partitions)),
      },
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

  /**
   * One subscriber per partition queue (`<ns>.hub-delivery.<p>`), each with manual acks and its
   * own channel and prefetch; subscriptions survive reconnects. Active only while this relay is
   * the partition's single active consumer, standing by otherwise.
   */
  hubPartitionSubscribers(
    prefetch: number,
  ): ((handler: (message: AMQPMessage) => Promise<void>) => Promise<AMQPSubscription>)[] {
    return Array.from({ length: this.#options.partitions }, (_, partition) => (handler) => {
      const queue = this.#hubPartitions[partition];
      if (queue === undefined) throw new BrokerUnavailableError('bus not started');
      return queue.subscribe({ prefetch, manualAck: true }, handler);
    });
  }

  /**
   * Each partition queue's ready messages (waiting for a relay) and consumers, read from the
   * broker now over a short connection of its own (the session offers no channel for passive
   * declares). Rejects when the broker cannot be read.
   */
  async hubPartitionStats(): Promise<PartitionStats[]> {
    const url = new URL(this.#options.url);
    url.searchParams.set('name', `${this.#options.connectionName ?? 'relay'} (partition stats)`);
    const connection = await new AMQPClient(url.toString()).connect();
    try {
      const channel = await connection.channel();
      const names = topologyNames(this.#options.namespace);
      const stats: PartitionStats[] = [];
      for (let partition = 0; partition < this.#options.partitions; partition += 1) {
        const declared = await channel.queueDeclare(names.hubPartition(partition), {
          passive: true,
        });
        stats.push({ partition, ready: declared.messageCount, consumers: declared.consumerCount });
      }
      return stats;
    } finally {
      await connection.close().catch(() => {});
    }
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
    const hubDelivery = await session.exchange(names.hubDelivery, 'headers', { durable: true });
    await hubDelivery.bind(events, 'store.#');
    const hubPartitions: AMQPQueue[] = [];
    for (let partition = 0; partition < this.#options.partitions; partition += 1) {
      const queue = await session.queue(names.hubPartition(partition), {
        durable: true,
        arguments: hubPartitionArguments(
          this.#options.namespace,
          this.#options.maxDeliveryAttempts,
        ),
      });
      // Header values compare as strings: a number's AMQP type could differ between clients.
      await queue.bind(names.hubDelivery, '', {
        'x-match': 'all',
        [PARTITION_HEADER]: String(partition),
      });
      hubPartitions.push(queue);
    }
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
    this.#hubPartitions = hubPartitions;
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
