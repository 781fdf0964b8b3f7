/**
 * The relay: boots from the environment and runs the real-time pipeline — the outbox drain
 * (PostgreSQL → RabbitMQ) and the hub delivery (RabbitMQ → the Worker) — and the image worker
 * (menu photos → WebP variants) beside its HTTP endpoints. SIGTERM/SIGINT (a container stop or Ctrl-C) stop it cleanly: no new batches or
 * deliveries, the ones in flight finish within a bounded wait, then the broker, the database and
 * HTTP close and the process exits 0.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { settlesWithin } from './backoff.ts';
import { Bus } from './bus.ts';
import { loadConfig } from './config.ts';
import { HubDelivery } from './deliver.ts';
import { readinessOf, startHttp } from './http.ts';
import { ImageWorker } from './images.ts';
import { createLogger } from './log.ts';
import { relayMetrics } from './metrics.ts';
import { OutboxDrain } from './outbox.ts';

/** Time the batch and deliveries in flight get to finish; under Docker's 10 s stop timeout. */
const SHUTDOWN_GRACE_MS = 8_000;
/** The backlog gauges, read at scrape time (the partial index on unpublished rows serves it). */
const OUTBOX_BACKLOG = `
  select count(*)::int as backlog, extract(epoch from now() - min(created_at))::float8 as age
  from outbox where published_at is null`;

const config = loadConfig();
const log = await createLogger(
  config.LOG_LEVEL,
  config.LOG_FILE === undefined
    ? undefined
    : { path: config.LOG_FILE, maxBytes: config.LOG_FILE_MAX_BYTES, keep: config.LOG_FILE_KEEP },
);

const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 });
// An idle client whose connection dies emits here; the next checkout simply opens a new one.
pool.on('error', (error) => log.warn({ err: error }, 'idle database connection lost'));

const bus = new Bus({
  url: config.AMQP_URL,
  heartbeatSeconds: config.AMQP_HEARTBEAT_SECONDS,
  namespace: config.RELAY_NAMESPACE,
  maxDeliveryAttempts: config.DELIVERY_MAX_ATTEMPTS,
  partitions: config.RELAY_PARTITIONS,
  connectionName: `table-order-relay ${config.RELAY_NAMESPACE} ${hostname()}:${process.pid}`,
  log,
  onConnected: () => drain?.retryNow(),
});
const metrics = relayMetrics({
  brokerConnected: () => bus.connected,
  outbox: async () => {
    const { rows } = await pool.query<{ backlog: number; age: number | null }>(OUTBOX_BACKLOG);
    return { backlog: rows[0]!.backlog, oldestAgeSeconds: Math.max(0, rows[0]!.age ?? 0) };
  },
  partitions: () => bus.hubPartitionStats(),
});
// Off while the partition count changes: this relay then only delivers.
const drain =
  config.OUTBOX_DRAIN === 'off'
    ? undefined
    : new OutboxDrain({
        pool,
        databaseUrl: config.DATABASE_URL,
        publisher: bus,
        log,
        pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
        batchSize: config.OUTBOX_BATCH_SIZE,
        retryBaseMs: config.OUTBOX_RETRY_BASE_MS,
        metrics,
      });
const delivery = new HubDelivery({
  bus,
  workerUrl: config.WORKER_URL,
  secret: config.RELAY_HMAC_SECRET,
  prefetch: config.DELIVERY_PREFETCH,
  maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
  timeoutMs: config.DELIVERY_TIMEOUT_MS,
  retryBaseMs: config.DELIVERY_RETRY_BASE_MS,
  log,
  metrics,
});

const images = new ImageWorker({
  bus,
  workerUrl: config.WORKER_URL,
  secret: config.RELAY_HMAC_SECRET,
  prefetch: config.IMAGE_PREFETCH,
  maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
  timeoutMs: config.IMAGE_TIMEOUT_MS,
  retryBaseMs: config.DELIVERY_RETRY_BASE_MS,
  maxInputPixels: config.IMAGE_MAX_INPUT_PIXELS,
  log,
  metrics,
});

const { server, port } = await startHttp(config.RELAY_HTTP_HOST, config.RELAY_HTTP_PORT, {
  registry: metrics.registry,
  readiness: readinessOf({
    pool,
    brokerConnected: () => bus.connected,
    workerUrl: config.WORKER_URL,
    timeoutMs: config.READINESS_TIMEOUT_MS,
  }),
  log,
});

let stopping = false;
let delivering = false;
void bus.start().then((connected) => {
  if (!connected || stopping) return;
  delivering = true;
  return Promise.all([delivery.start(), images.start()]);
});
// Draining before the first connection attempt would only record "not connected" on every row.
void bus.firstAttempt.then(() => {
  if (!stopping) drain?.start();
});
log.info(
  {
    host: config.RELAY_HTTP_HOST,
    port,
    namespace: config.RELAY_NAMESPACE,
    partitions: config.RELAY_PARTITIONS,
    outboxDrain: config.OUTBOX_DRAIN,
  },
  'relay started',
);

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'relay stopping');
  let exitCode = 0;
  try {
    const draining = drain?.stop() ?? Promise.resolve();
    const inFlight = [
      draining,
      delivering ? delivery.stop(SHUTDOWN_GRACE_MS) : undefined,
      delivering ? images.stop(SHUTDOWN_GRACE_MS) : undefined,
    ];
    const finished = await settlesWithin(Promise.all(inFlight), SHUTDOWN_GRACE_MS);
    if (!finished) log.warn('work in flight did not finish in time; it will be retried');
    // Closing the broker fails a batch still waiting for confirms, which then rolls back.
    await bus.stop();
    await settlesWithin(draining, SHUTDOWN_GRACE_MS);
    await settlesWithin(pool.end(), SHUTDOWN_GRACE_MS);
  } catch (error) {
    log.error({ err: error }, 'relay did not stop cleanly');
    exitCode = 1;
  }
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  log.info('relay stopped');
  process.exit(exitCode);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
