/**
 * The image worker: consumes `<ns>.image-jobs` (every store's `menu.image_uploaded`) and, per job,
 * fetches the original from the Worker, makes the WebP variants (image-variants.ts), stores them
 * back through the Worker and reports `image-ready`. Every call is signed (`signRequest` of the
 * relay-signature contract).
 *
 * Two kinds of failure, handled apart:
 * - the original itself is bad (missing, corrupt, not an image, too many pixels): retrying cannot
 *   help, so the job reports `image-failed` with a short reason and is acked;
 * - the Worker did not answer 2xx (or not in time): the job waits a backoff that grows with the
 *   broker's `x-delivery-count` and is requeued, and the broker dead-letters it after the bounded
 *   attempts. Variant keys are content-addressed, so a job run twice stores the same objects.
 *   A refusal for good (a 4xx but 408 and 429, see `refusedForGood`) would come back on every
 *   attempt, so the job is reported failed and dead-lettered at once instead.
 */
import type { AMQPMessage } from '@cloudamqp/amqp-client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { sha256Hex } from '../../worker/contracts/encoding.ts';
import { imageKey, internalImagePath, VARIANTS } from '../../worker/contracts/image-keys.ts';
import { signRequest } from '../../worker/contracts/relay-signature.ts';
import { pause, refusedForGood, retryDelay } from './backoff.ts';
import type { Bus } from './bus.ts';
import { UndecodableImageError, makeVariants } from './image-variants.ts';
import type { RelayMetrics } from './metrics.ts';
import { QueueConsumer } from './queue-consumer.ts';

export interface ImageWorkerOptions {
  bus: Pick<Bus, 'subscribeToImageJobs'>;
  workerUrl: string;
  secret: string;
  /** Jobs in hand at once (IMAGE_PREFETCH). */
  prefetch: number;
  /** Deliveries before the broker dead-letters; the last failure is requeued without waiting. */
  maxAttempts: number;
  /** Limit of each call to the Worker. */
  timeoutMs: number;
  /** First wait before a retry; doubles per delivery up to 30 s. */
  retryBaseMs: number;
  /** IMAGE_MAX_INPUT_PIXELS. */
  maxInputPixels: number;
  log: Logger;
  metrics?: Pick<RelayMetrics, 'imageJobDuration' | 'imageJobsFailed'>;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const jobSchema = z.object({
  id: z.number(),
  type: z.literal('menu.image_uploaded'),
  store_id: z.string().min(1),
  data: z.object({
    menu_id: z.string().min(1),
    original_key: z.string(),
    content_type: z.string(),
    sha256: hex64,
  }),
});
type ImageJob = z.infer<typeof jobSchema>;

/** The Worker did not answer 2xx (or at all): the job is worth retrying. */
class WorkerCallFailed extends Error {
  override name = 'WorkerCallFailed';
  /** Which call failed, e.g. `store thumb.webp`. */
  readonly step: string;
  /** The Worker's status; undefined when it did not answer (network error, timeout). */
  readonly status: number | undefined;

  constructor(step: string, status?: number, options?: { cause?: unknown }) {
    super(`${step}: ${status === undefined ? 'no answer' : `answered ${status}`}`, options);
    this.step = step;
    this.status = status;
  }
}

/** Turns uploaded originals into variants; see the file comment. */
export class ImageWorker {
  #options: ImageWorkerOptions;
  #log: Logger;
  #origin: string;
  #consumer: QueueConsumer;

  constructor(options: ImageWorkerOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'images' });
    this.#origin = options.workerUrl.replace(/\/+$/, '');
    this.#consumer = new QueueConsumer({
      name: 'image jobs',
      subscribers: [(handler) => options.bus.subscribeToImageJobs(options.prefetch, handler)],
      retryBaseMs: options.retryBaseMs,
      log: this.#log,
    });
  }

  /** Starts consuming once the bus is connected; retries until it can subscribe or stops. */
  start(): Promise<void> {
    return this.#consumer.start((message) => this.#consumer.track(this.#run(message)));
  }

  /** Stops taking jobs and lets the ones in flight finish (up to `graceMs`). */
  stop(graceMs: number): Promise<void> {
    return this.#consumer.stop(graceMs);
  }

  async #run(message: AMQPMessage): Promise<void> {
    // Not started before a stop or a lost channel: unacked, the broker delivers it again.
    if (this.#consumer.stopping.aborted || message.channel.closed) return;
    const job = parseJob(message.bodyString() ?? '');
    if (job === undefined) {
      this.#log.error({ eventId: message.properties.messageId }, 'malformed image job');
      await message.nack(false).catch(() => {}); // straight to the dead-letter queue
      return;
    }
    const started = performance.now();
    const context = { eventId: job.id, menuId: job.data.menu_id, key: job.data.original_key };
    const previousDeliveries = Number(message.properties.headers?.['x-delivery-count'] ?? 0);
    const attempt = previousDeliveries + 1;
    try {
      const outcome = await this.#process(job);
      const durationMs = Math.round(performance.now() - started);
      this.#options.metrics?.imageJobDuration.observe(durationMs / 1000);
      if (outcome.outcome === 'failed') this.#options.metrics?.imageJobsFailed.inc();
      this.#log.info({ ...context, ...outcome, attempt, durationMs }, 'image job done');
      await message.ack().catch((error: unknown) => {
        this.#log.warn({ ...context, err: error }, 'ack failed; the job will run again');
      });
      return;
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      const failure = error instanceof WorkerCallFailed ? error : undefined;
      const refused = refusedForGood(failure?.status);
      const finalAttempt = refused || attempt >= this.#options.maxAttempts;
      this.#options.metrics?.imageJobDuration.observe(durationMs / 1000);
      if (finalAttempt) this.#options.metrics?.imageJobsFailed.inc();
      const retryInMs = finalAttempt
        ? 0
        : retryDelay(previousDeliveries, this.#options.retryBaseMs);
      this.#log[finalAttempt ? 'error' : 'warn'](
        {
          ...context,
          step: failure?.step,
          status: failure?.status,
          err: error,
          attempt,
          retryInMs,
          durationMs,
        },
        refused
          ? 'image job refused by the Worker; dead-lettered without retrying'
          : finalAttempt
            ? 'image job failed for the last time; the broker dead-letters it'
            : 'image job failed',
      );
      // Left as is, the menu would show "processing" for good; tell the Worker if it listens.
      if (finalAttempt) {
        const reason = refused
          ? `refused by the Worker: ${failure!.message}`
          : `gave up after ${attempt} attempts`;
        await this.#reportFailed(job, reason).catch(() => {});
      }
      await pause(retryInMs, this.#consumer.stopping);
      // Not requeued, the broker dead-letters it now; a dead channel requeues it just the same.
      await message.nack(!refused).catch(() => {});
    }
  }

  /** One job end to end; throws WorkerCallFailed when a call to the Worker should be retried. */
  async #process(
    job: ImageJob,
  ): Promise<{ outcome: 'ready' | 'failed'; reason?: string; updated?: boolean }> {
    const { original_key: originalKey, sha256 } = job.data;
    const fetched = await this.#call('GET', internalImagePath(originalKey));
    if (fetched.status === 404) {
      await fetched.body?.cancel();
      return this.#failed(job, 'original missing');
    }
    if (!fetched.ok) {
      await fetched.body?.cancel();
      throw new WorkerCallFailed('fetch original', fetched.status);
    }
    const original = new Uint8Array(await fetched.arrayBuffer());
    if ((await sha256Hex(original)) !== sha256) {
      return this.#failed(job, 'original does not match its checksum');
    }

    let variants;
    try {
      variants = await makeVariants(original, this.#options.maxInputPixels);
    } catch (error) {
      if (error instanceof UndecodableImageError) return this.#failed(job, error.reason);
      throw error;
    }

    // Beside the original, in its content-addressed folder.
    const thumbnailKey = imageKey(job.store_id, job.data.menu_id, sha256, VARIANTS.thumbnail);
    const displayKey = imageKey(job.store_id, job.data.menu_id, sha256, VARIANTS.display);
    await Promise.all([
      this.#store(thumbnailKey, variants.thumbnail),
      this.#store(displayKey, variants.display),
    ]);
    const ready = await this.#postJson(
      `/internal/menus/${encodeURIComponent(job.data.menu_id)}/image-ready`,
      {
        store_id: job.store_id,
        original_key: originalKey,
        thumbnail_key: thumbnailKey,
        display_key: displayKey,
      },
    );
    if (!ready.ok) throw new WorkerCallFailed('report ready', ready.status);
    const answer = (await ready.json().catch(() => ({}))) as { updated?: unknown };
    // `updated: false`: a newer upload superseded this one; the Worker dropped these variants.
    return { outcome: 'ready', updated: answer.updated === true };
  }

  async #failed(job: ImageJob, reason: string) {
    await this.#reportFailed(job, reason);
    return { outcome: 'failed' as const, reason };
  }

  async #reportFailed(job: ImageJob, reason: string): Promise<void> {
    const response = await this.#postJson(
      `/internal/menus/${encodeURIComponent(job.data.menu_id)}/image-failed`,
      { store_id: job.store_id, original_key: job.data.original_key, reason },
    );
    await response.body?.cancel();
    if (!response.ok) throw new WorkerCallFailed('report failed', response.status);
  }

  async #store(key: string, bytes: Buffer): Promise<void> {
    const response = await this.#call('PUT', internalImagePath(key), bytes, 'image/webp');
    await response.body?.cancel();
    if (!response.ok)
      throw new WorkerCallFailed(`store ${key.slice(key.lastIndexOf('/') + 1)}`, response.status);
  }

  #postJson(path: string, value: unknown): Promise<Response> {
    return this.#call('POST', path, JSON.stringify(value), 'application/json');
  }

  /** One signed call to the Worker; a network error or timeout becomes WorkerCallFailed. */
  async #call(
    method: string,
    path: string,
    body?: Uint8Array | string,
    contentType?: string,
  ): Promise<Response> {
    const headers: Record<string, string> = {
      ...(await signRequest(this.#options.secret, { method, path, body })),
    };
    if (contentType !== undefined) headers['content-type'] = contentType;
    try {
      return await fetch(`${this.#origin}${path}`, {
        method,
        headers,
        body: body as BodyInit | undefined,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (error) {
      throw new WorkerCallFailed(`${method} ${path}`, undefined, { cause: error });
    }
  }
}

/**
 * The envelope, if it is a well-formed job whose original key is the one the contract prescribes:
 * `menus/<store_id>/<menu_id>/<sha256>/original` — the variants are stored beside it.
 */
function parseJob(body: string): ImageJob | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = jobSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const { store_id, data } = parsed.data;
  const expected = imageKey(store_id, data.menu_id, data.sha256, 'original');
  return data.original_key === expected ? parsed.data : undefined;
}
