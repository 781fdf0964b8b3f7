/**
 * The relay's metrics in the Prometheus text exposition format (version 0.0.4), without labels:
 * counters, gauges and histograms with fixed buckets — all the relay needs, so no client library.
 */

/** `Content-Type` of an exposition. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A number as Prometheus writes it. */
function sample(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Help text with backslashes and line breaks escaped, as the format requires. */
function escapeHelp(help: string): string {
  return help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

abstract class Metric {
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly name: string;
  readonly help: string;

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  /** The `# HELP`, `# TYPE` and sample lines. */
  expose(): string {
    const header = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    return header + this.samples().join('\n') + '\n';
  }

  protected abstract samples(): string[];
}

/** A count that only goes up (it restarts at 0 with the process). */
export class Counter extends Metric {
  readonly type = 'counter';
  #value = 0;

  inc(by = 1): void {
    if (by < 0) throw new RangeError(`counter ${this.name} cannot decrease`);
    this.#value += by;
  }

  get value(): number {
    return this.#value;
  }

  protected samples(): string[] {
    return [`${this.name} ${sample(this.#value)}`];
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric {
  readonly type = 'gauge';
  #value = 0;

  set(value: number): void {
    this.#value = value;
  }

  get value(): number {
    return this.#value;
  }

  protected samples(): string[] {
    return [`${this.name} ${sample(this.#value)}`];
  }
}

/** Observations counted into fixed, cumulative buckets (`le`), with their sum and count. */
export class Histogram extends Metric {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help);
    this.buckets = [...buckets].sort((a, b) => a - b);
    this.#counts = this.buckets.map(() => 0);
  }

  observe(value: number): void {
    this.buckets.forEach((bound, index) => {
      if (value <= bound) this.#counts[index]! += 1;
    });
    this.#sum += value;
    this.#count += 1;
  }

  get count(): number {
    return this.#count;
  }

  protected samples(): string[] {
    return [
      ...this.buckets.map(
        (bound, index) => `${this.name}_bucket{le="${sample(bound)}"} ${this.#counts[index]}`,
      ),
      `${this.name}_bucket{le="+Inf"} ${this.#count}`,
      `${this.name}_sum ${sample(this.#sum)}`,
      `${this.name}_count ${this.#count}`,
    ];
  }
}

/** Metrics by name, and the hooks that refresh gauges just before a scrape. */
export class Registry {
  #metrics = new Map<string, Metric>();
  #beforeScrape: (() => Promise<void> | void)[] = [];

  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }

  /** Runs `refresh` before every scrape (e.g. to read a gauge from the database). */
  beforeScrape(refresh: () => Promise<void> | void): void {
    this.#beforeScrape.push(refresh);
  }

  /** Refreshes, then writes every metric. A failed refresh leaves its gauges as they were. */
  async expose(): Promise<string> {
    await Promise.allSettled(this.#beforeScrape.map(async (refresh) => refresh()));
    return [...this.#metrics.values()].map((metric) => metric.expose()).join('');
  }

  #add<M extends Metric>(metric: M): M {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metric.name)) {
      throw new Error(`invalid metric name: ${metric.name}`);
    }
    if (this.#metrics.has(metric.name)) throw new Error(`metric ${metric.name} exists already`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}

const PREFIX = 'table_order_relay_';

/** From outbox commit to the hub's 2xx: 10 ms … 10 s. */
const DELIVERY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** One image job (fetch, decode, two variants, store, report): 50 ms … 30 s. */
const IMAGE_JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The relay's metrics, all named `table_order_relay_*`; components take what they update. */
export function relayMetrics(registry = new Registry()) {
  return {
    registry,
    outboxBacklog: registry.gauge(
      `${PREFIX}outbox_backlog`,
      'Outbox rows not yet published to the broker (read at scrape time).',
    ),
    outboxOldestAge: registry.gauge(
      `${PREFIX}outbox_oldest_unpublished_age_seconds`,
      'Age of the oldest unpublished outbox row; 0 when there is none (read at scrape time).',
    ),
    eventsPublished: registry.counter(
      `${PREFIX}events_published_total`,
      'Events the broker confirmed and the drain marked published.',
    ),
    eventsDelivered: registry.counter(
      `${PREFIX}events_delivered_total`,
      'Events the Worker acknowledged with a 2xx.',
    ),
    deliveryFailures: registry.counter(
      `${PREFIX}events_delivery_failures_total`,
      'Deliveries to the Worker that failed (non-2xx, network error or timeout).',
    ),
    deadLettered: registry.counter(
      `${PREFIX}events_dead_lettered_total`,
      'Events that failed their last delivery attempt and went to the dead-letter queue.',
    ),
    deliveryLatency: registry.histogram(
      `${PREFIX}delivery_latency_seconds`,
      'From the outbox row being written to the Worker acknowledging the event.',
      DELIVERY_BUCKETS,
    ),
    imageJobDuration: registry.histogram(
      `${PREFIX}image_job_duration_seconds`,
      'Duration of one image job attempt, success or failure.',
      IMAGE_JOB_BUCKETS,
    ),
    imageJobsFailed: registry.counter(
      `${PREFIX}image_jobs_failed_total`,
      'Image jobs that ended without variants: a bad original, or the last attempt failed.',
    ),
    brokerConnected: registry.gauge(
      `${PREFIX}broker_connected`,
      '1 while the broker connection is up and its topology declared, else 0.',
    ),
  };
}

/** The relay's metric set (see {@link relayMetrics}). */
export type RelayMetrics = ReturnType<typeof relayMetrics>;
