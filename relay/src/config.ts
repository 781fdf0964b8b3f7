import { z } from 'zod';
import { DEFAULT_HEARTBEAT_SECONDS } from './bus.ts';

const milliseconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/**
 * The most delivery partitions a namespace may have: each is a quorum queue, and a channel and a
 * consumer in every relay.
 */
export const MAX_PARTITIONS = 64;

const schema = z.object({
  DATABASE_URL: z.url().default('postgres://root@127.0.0.1:5432/table_order'),
  AMQP_URL: z.url().default('amqp://guest:guest@127.0.0.1:5672'),
  /**
   * AMQP heartbeat in seconds: a broker connection silent for this long is dropped and reopened
   * (the broker may ask for less). Never 0: without heartbeats a connection that dies without a
   * close is noticed only by the backlog.
   */
  AMQP_HEARTBEAT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(600)
    .default(DEFAULT_HEARTBEAT_SECONDS),
  WORKER_URL: z.url().default('http://127.0.0.1:8787'),
  RELAY_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  RELAY_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(8788),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /**
   * Also write the log (INFO and above) to numbered files named after this one (`relay.log`:
   * `relay.1.log`, `relay.2.log`, …), rotated by size; unset: stdout only. Give it a directory
   * of its own: numbering continues from the highest number of any file there.
   */
  LOG_FILE: z.string().min(1).optional(),
  /** Size at which the current log file is closed and the next number begun. */
  LOG_FILE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
  /** Older log files kept besides the current one. */
  LOG_FILE_KEEP: z.coerce.number().int().min(0).max(100).default(5),
  /** Limit of each `/readyz` check (database, broker, Worker). */
  READINESS_TIMEOUT_MS: milliseconds(2000),
  /** Signs every call to the Worker's internal endpoint; the Worker holds the same secret. */
  RELAY_HMAC_SECRET: z.string().min(8),
  /** Prefix of the exchange and queue names, so parallel stacks never share queues. */
  RELAY_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, ".", "_" and "-" only')
    .default('table_order'),
  /**
   * Delivery partitions (`<ns>.hub-delivery.0` …): a store's events all go through the one its
   * id hashes to, delivered by one relay at a time. Every relay of a namespace must use the same
   * count; change it only as the operations docs describe (docs/relay-ordering.md).
   */
  RELAY_PARTITIONS: z.coerce.number().int().min(1).max(MAX_PARTITIONS).default(8),
  /**
   * `off`: this relay publishes nothing from the outbox and only delivers what is queued — the
   * pause that changing RELAY_PARTITIONS needs while the partitions empty.
   */
  OUTBOX_DRAIN: z.enum(['on', 'off']).default('on'),
  /** How often the drain looks for events without being notified (a missed NOTIFY). */
  OUTBOX_POLL_INTERVAL_MS: milliseconds(1000),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
  /** First wait after a failed batch; it doubles per failure up to 30 s. */
  OUTBOX_RETRY_BASE_MS: milliseconds(500),
  /** Unacknowledged deliveries the relay holds at once per partition it delivers. */
  DELIVERY_PREFETCH: z.coerce.number().int().min(1).max(1000).default(20),
  /** Deliveries of one event before it is dead-lettered (a relay's retries and its deaths). */
  DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(5),
  DELIVERY_TIMEOUT_MS: milliseconds(5000),
  /** First wait before a failed delivery is retried; it doubles per attempt up to 30 s. */
  DELIVERY_RETRY_BASE_MS: milliseconds(1000),
  /** Image jobs the relay works on at once; each holds an original and its decoded pixels. */
  IMAGE_PREFETCH: z.coerce.number().int().min(1).max(64).default(2),
  /** Larger images (width × height, read from the header) fail without being decoded. */
  IMAGE_MAX_INPUT_PIXELS: z.coerce.number().int().min(1).default(40_000_000),
  /** Limit of each call to the Worker during an image job (fetching the original, storing variants). */
  IMAGE_TIMEOUT_MS: milliseconds(15_000),
});

/** The relay's settings, read once from the environment at boot. */
export type RelayConfig = z.infer<typeof schema>;

/** Parses the environment; throws one error naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid relay configuration:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
