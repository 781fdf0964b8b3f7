/**
 * The relay's metrics, all named `table_order_relay_*`, kept and written in the Prometheus text
 * format by prom-client. Only the partition gauges have a label (`partition`, "0" … "N-1"). The dashboard and the alert rules
 * (relay/local/docker/) query these names.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PartitionStats } from './bus.ts';

const PREFIX = 'table_order_relay_';

/** From outbox commit to the hub's 2xx: 10 ms … 10 s. */
const DELIVERY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** One image job (fetch, decode, two variants, store, report): 50 ms … 30 s. */
const IMAGE_JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the gauges read at scrape time, rather than being kept up to date by every change. */
export interface ScrapeTimeSources {
  /** Whether the broker connection is up and its topology declared. */
  brokerConnected(): boolean;
  /** The unpublished outbox rows; a failed read leaves both outbox gauges as they were. */
  outbox(): Promise<{ backlog: number; oldestAgeSeconds: number }>;
  /** The delivery partitions as the broker sees them; a failed read leaves both gauges as they were. */
  partitions(): Promise<PartitionStats[]>;
}

/**
 * The relay's metrics on `registry`; components take what they update. Without `sources` the
 * scrape-time gauges stay 0 (component tests need only counters and histograms).
 */
export function relayMetrics(sources?: ScrapeTimeSources, registry = new Registry()) {
  const registers = [registry];
  // One read per scrape serves both outbox gauges (prom-client collects them concurrently).
  const outbox = sources ? oneReadAtATime(() => sources.outbox()) : undefined;
  const partitions = sources ? oneReadAtATime(() => sources.partitions()) : undefined;
  return {
    registry,
    outboxBacklog: new Gauge({
      name: `${PREFIX}outbox_backlog`,
      help: 'Outbox rows not yet published to the broker (read at scrape time).',
      registers,
      async collect() {
        await keepLastOnFailure(outbox, (read) => this.set(read.backlog));
      },
    }),
    outboxOldestAge: new Gauge({
      name: `${PREFIX}outbox_oldest_unpublished_age_seconds`,
      help: 'Age of the oldest unpublished outbox row; 0 when there is none (read at scrape time).',
      registers,
      async collect() {
        await keepLastOnFailure(outbox, (read) => this.set(read.oldestAgeSeconds));
      },
    }),
    eventsPublished: new Counter({
      name: `${PREFIX}events_published_total`,
      help: 'Events the broker confirmed and the drain marked published.',
      registers,
    }),
    eventsDelivered: new Counter({
      name: `${PREFIX}events_delivered_total`,
      help: 'Events the Worker acknowledged with a 2xx.',
      registers,
    }),
    deliveryFailures: new Counter({
      name: `${PREFIX}events_delivery_failures_total`,
      help: 'Deliveries to the Worker that failed (non-2xx, network error or timeout).',
      registers,
    }),
    deadLettered: new Counter({
      name: `${PREFIX}events_dead_lettered_total`,
      help: 'Events that failed their last delivery attempt and went to the dead-letter queue.',
      registers,
    }),
    deliveryLatency: new Histogram({
      name: `${PREFIX}delivery_latency_seconds`,
      help: 'From the outbox row being written to the Worker acknowledging the event.',
      buckets: DELIVERY_BUCKETS,
      registers,
    }),
    imageJobDuration: new Histogram({
      name: `${PREFIX}image_job_duration_seconds`,
      help: 'Duration of one image job attempt, success or failure.',
      buckets: IMAGE_JOB_BUCKETS,
      registers,
    }),
    imageJobsFailed: new Counter({
      name: `${PREFIX}image_jobs_failed_total`,
      help: 'Image jobs that ended without variants: a bad original, or the last attempt failed.',
      registers,
    }),
    partitionBacklog: new Gauge({
      name: `${PREFIX}partition_backlog`,
      help: 'Events waiting in each delivery partition queue for a relay (read at scrape time).',
      labelNames: ['partition'],
      registers,
      async collect() {
        await keepLastOnFailure(partitions, (read) => {
          for (const stats of read) this.set({ partition: String(stats.partition) }, stats.ready);
        });
      },
    }),
    partitionConsumerActive: new Gauge({
      name: `${PREFIX}partition_consumer_active`,
      help: '1 while a relay is the active consumer of the delivery partition, 0 while nobody delivers it (read at scrape time).',
      labelNames: ['partition'],
      registers,
      async collect() {
        await keepLastOnFailure(partitions, (read) => {
          for (const stats of read) {
            this.set({ partition: String(stats.partition) }, stats.consumers > 0 ? 1 : 0);
          }
        });
      },
    }),
    brokerConnected: new Gauge({
      name: `${PREFIX}broker_connected`,
      help: '1 while the broker connection is up and its topology declared, else 0.',
      registers,
      collect() {
        if (sources) this.set(sources.brokerConnected() ? 1 : 0);
      },
    }),
  };
}

/** The relay's metric set (see {@link relayMetrics}). */
export type RelayMetrics = ReturnType<typeof relayMetrics>;

/** Calls made while a read is in flight share it instead of starting another. */
function oneReadAtATime<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () =>
    (inFlight ??= read().finally(() => {
      inFlight = undefined;
    }));
}

/** Applies a fresh read; when the read fails the gauge keeps its value and the scrape goes on. */
async function keepLastOnFailure<T>(
  read: (() => Promise<T>) | undefined,
  apply: (value: T) => void,
): Promise<void> {
  if (read === undefined) return;
  try {
    apply(await read());
  } catch {
    // The last value stands: a database hiccup must not fail the whole scrape.
  }
}
