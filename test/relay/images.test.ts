/**
 * The image worker against the real broker: the test publishes `menu.image_uploaded` envelopes,
 * a stand-in for the Worker holds the originals and records the stored variants and the reports,
 * and the tests look at the variants themselves with sharp.
 */
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bus, topologyNames } from '../../relay/src/bus.ts';
import { ImageWorker } from '../../relay/src/images.ts';
import { relayMetrics } from '../../relay/src/metrics.ts';
import type { Envelope } from '../../worker/contracts/events.ts';
import { RELAY_SIGNATURE_HEADER } from '../../worker/contracts/relay-signature.ts';
import {
  imageUploaded,
  noisyJpeg,
  pixelBombPng,
  sidewaysJpeg,
  transparentPng,
  truncatedJpeg,
} from '../support/image-fixtures.ts';
import {
  capturedLogger,
  connectBroker,
  deleteTopology,
  randomNamespace,
  randomSecret,
  readyMessages,
  requestSignatureIsValid,
  sampleOf,
  startWorkerStandIn,
} from '../support/relay-fixtures.ts';
import { testServices } from '../support/services.ts';

const MAX_ATTEMPTS = 5;
const RETRY_BASE_MS = 20;
const MAX_INPUT_PIXELS = 40_000_000;
const secret = randomSecret();

let broker: Awaited<ReturnType<typeof connectBroker>>;
let worker: Awaited<ReturnType<typeof startWorkerStandIn>>;
const namespaces: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  broker = await connectBroker();
  worker = await startWorkerStandIn();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  worker.received.length = 0;
  worker.objects.clear();
  worker.answer(() => 200);
});

afterAll(async () => {
  await worker?.close();
  await broker?.close();
  await deleteTopology(namespaces);
});

/** A bus on a fresh namespace and an image worker consuming from it. */
async function startImageWorker() {
  const namespace = randomNamespace();
  namespaces.push(namespace);
  const logs = capturedLogger();
  const metrics = relayMetrics();
  const bus = new Bus({
    url: testServices().amqpUrl,
    namespace,
    maxDeliveryAttempts: MAX_ATTEMPTS,
    partitions: 2,
    log: logs.log,
  });
  expect(await bus.start()).toBe(true);
  const images = new ImageWorker({
    bus,
    workerUrl: worker.url,
    secret,
    prefetch: 2,
    maxAttempts: MAX_ATTEMPTS,
    timeoutMs: 5_000,
    retryBaseMs: RETRY_BASE_MS,
    maxInputPixels: MAX_INPUT_PIXELS,
    log: logs.log,
    metrics,
  });
  await images.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await images.stop(5_000);
    await bus.stop();
  };
  cleanups.push(stop);
  const names = topologyNames(namespace);
  /** Jobs done, as logged. */
  const done = () => logs.lines().filter((line) => line.msg === 'image job done');
  /** Once stopped: nothing left unacked or dead. */
  const queuesAreEmpty = async () =>
    (await readyMessages(broker.channel, names.imageJobs)) === 0 &&
    (await readyMessages(broker.channel, names.imageJobsDead)) === 0;
  return { bus, names, logs, metrics, stop, done, queuesAreEmpty };
}

/** Puts the original in the stand-in's store (as the upload did) and announces it. */
async function upload(
  relay: { bus: Bus },
  original: Buffer,
  contentType: string,
): Promise<ReturnType<typeof imageUploaded>> {
  const job = imageUploaded(original, contentType);
  worker.objects.set(job.originalKey, { bytes: original, contentType });
  await relay.bus.publish(job.envelope);
  return job;
}

function reportsOf(kind: 'image-ready' | 'image-failed') {
  return worker.requests('POST', `/${kind}`);
}

function storedVariant(key: string): Buffer {
  const object = worker.objects.get(key);
  expect(object, key).toBeDefined();
  expect(object!.contentType).toBe('image/webp');
  return object!.bytes;
}

describe('making the variants of an uploaded menu photo', () => {
  it('turns a 5 MB phone photo into a 300×300 thumbnail and a 1024 px display image, and reports them ready', async () => {
    const relay = await startImageWorker();
    const photo = await noisyJpeg();
    expect(photo.length).toBeGreaterThan(4_500_000);
    expect(photo.length).toBeLessThan(6_500_000);
    const job = await upload(relay, photo, 'image/jpeg');

    await expect.poll(() => reportsOf('image-ready').length).toBe(1);
    const [ready] = reportsOf('image-ready');
    expect(ready!.path).toBe(`/internal/menus/${job.menuId}/image-ready`);
    expect(JSON.parse(ready!.body)).toEqual({
      store_id: job.storeId,
      original_key: job.originalKey,
      thumbnail_key: `${job.prefix}/thumb.webp`,
      display_key: `${job.prefix}/display.webp`,
    });

    const thumbnail = await sharp(storedVariant(`${job.prefix}/thumb.webp`)).metadata();
    expect([thumbnail.format, thumbnail.width, thumbnail.height]).toEqual(['webp', 300, 300]);
    const display = await sharp(storedVariant(`${job.prefix}/display.webp`)).metadata();
    expect([display.format, display.width, display.height]).toEqual(['webp', 1024, 1024]);

    // GET the original, PUT two variants, POST ready — each signed per the contract.
    expect(worker.received.map((r) => r.method).sort()).toEqual(['GET', 'POST', 'PUT', 'PUT']);
    expect(worker.received.every((r) => requestSignatureIsValid(secret, r))).toBe(true);
    expect(worker.received.some((r) => requestSignatureIsValid('another-secret', r))).toBe(false);
    expect(worker.requests('GET')[0]!.path).toBe(`/internal/images/${job.originalKey}`);

    const [logged] = relay.done();
    expect(logged).toMatchObject({ outcome: 'ready', attempt: 1, menuId: job.menuId });
    console.info(`image job for a ${photo.length} byte JPEG took ${String(logged!.durationMs)} ms`);
    await relay.stop();
    expect(await relay.queuesAreEmpty()).toBe(true);
  });

  it('keeps the transparency of a PNG', async () => {
    const relay = await startImageWorker();
    const job = await upload(relay, await transparentPng(), 'image/png');

    await expect.poll(() => reportsOf('image-ready').length).toBe(1);
    for (const name of ['thumb.webp', 'display.webp']) {
      const variant = sharp(storedVariant(`${job.prefix}/${name}`));
      expect(await variant.metadata()).toMatchObject({ format: 'webp', hasAlpha: true });
      const { channels } = await variant.stats();
      expect(channels[3]!.min).toBe(0); // the transparent half stayed transparent
    }
  });

  it('stands a sideways phone photo upright and strips its EXIF', async () => {
    const relay = await startImageWorker();
    const photo = await sidewaysJpeg();
    expect(await sharp(photo).metadata()).toMatchObject({
      width: 200,
      height: 100,
      orientation: 6,
    });
    const job = await upload(relay, photo, 'image/jpeg');

    await expect.poll(() => reportsOf('image-ready').length).toBe(1);
    const display = await sharp(storedVariant(`${job.prefix}/display.webp`)).metadata();
    expect([display.width, display.height]).toEqual([100, 200]);
    expect(display.exif).toBeUndefined();
    expect(display.orientation).toBeUndefined();
    const thumbnail = await sharp(storedVariant(`${job.prefix}/thumb.webp`)).metadata();
    expect([thumbnail.width, thumbnail.height, thumbnail.exif]).toEqual([300, 300, undefined]);
  });
});

describe('an upload that cannot become a menu photo', () => {
  it('reports a corrupt JPEG as failed once, without retrying it', async () => {
    const relay = await startImageWorker();
    const job = await upload(relay, await truncatedJpeg(), 'image/jpeg');

    await expect.poll(() => reportsOf('image-failed').length).toBe(1);
    expect(JSON.parse(reportsOf('image-failed')[0]!.body)).toEqual({
      store_id: job.storeId,
      original_key: job.originalKey,
      reason: 'corrupt image',
    });
    await relay.stop();
    expect(await relay.queuesAreEmpty()).toBe(true);
    expect(worker.requests('GET')).toHaveLength(1);
    expect(worker.requests('PUT')).toHaveLength(0);
    expect(reportsOf('image-ready')).toHaveLength(0);
    expect(relay.done()).toMatchObject([
      { outcome: 'failed', reason: 'corrupt image', attempt: 1 },
    ]);
  });

  it('refuses a 20000×20000 pixel bomb from its header, without decoding it', async () => {
    const relay = await startImageWorker();
    const bomb = await pixelBombPng();
    expect(bomb.length).toBeLessThan(10_000);
    const job = await upload(relay, bomb, 'image/png');

    await expect.poll(() => reportsOf('image-failed').length).toBe(1);
    expect(JSON.parse(reportsOf('image-failed')[0]!.body)).toMatchObject({
      original_key: job.originalKey,
      reason: 'too many pixels',
    });
    const [logged] = relay.done();
    // Decoding 400 MP would take seconds and 1.2 GB; reading the header takes a millisecond.
    expect(logged!.durationMs).toBeLessThan(1_000);
    await relay.stop();
    expect(await relay.queuesAreEmpty()).toBe(true);
    expect(worker.requests('PUT')).toHaveLength(0);
  });

  it('reports a missing original as failed', async () => {
    const relay = await startImageWorker();
    const job = imageUploaded(await sidewaysJpeg(), 'image/jpeg'); // never stored
    await relay.bus.publish(job.envelope);

    await expect.poll(() => reportsOf('image-failed').length).toBe(1);
    expect(JSON.parse(reportsOf('image-failed')[0]!.body)).toMatchObject({
      reason: 'original missing',
    });
    await relay.stop();
    expect(await relay.queuesAreEmpty()).toBe(true);
  });
});

describe('when the Worker stumbles', () => {
  it('retries a job whose variants could not be stored and reports it ready once', async () => {
    const relay = await startImageWorker();
    let thumbnailPuts = 0;
    worker.answer((request) =>
      request.method === 'PUT' && request.path.endsWith('/thumb.webp') && thumbnailPuts++ < 2
        ? 500
        : 200,
    );
    const job = await upload(relay, await transparentPng(), 'image/png');

    await expect.poll(() => reportsOf('image-ready').length).toBe(1);
    const failures = relay.logs.lines().filter((line) => line.msg === 'image job failed');
    expect(failures.map((line) => [line.step, line.status, line.attempt])).toEqual([
      ['store thumb.webp', 500, 1],
      ['store thumb.webp', 500, 2],
    ]);
    expect(relay.done()).toMatchObject([{ outcome: 'ready', attempt: 3 }]);
    expect(worker.objects.has(`${job.prefix}/thumb.webp`)).toBe(true);
    // Signed afresh each time: the Worker refuses a signature it has seen as a replay.
    const thumbnailCalls = worker.requests('PUT', '/thumb.webp');
    expect(thumbnailCalls).toHaveLength(3);
    const signatures = new Set(thumbnailCalls.map((call) => call.headers[RELAY_SIGNATURE_HEADER]));
    expect(signatures.size).toBe(3);
    await relay.stop();
    expect(reportsOf('image-ready')).toHaveLength(1);
    expect(await relay.queuesAreEmpty()).toBe(true);
  });

  it(`dead-letters a job after ${MAX_ATTEMPTS} attempts, telling the Worker it gave up`, async () => {
    const relay = await startImageWorker();
    worker.answer((request) => (request.method === 'GET' ? 503 : 200));
    const job = await upload(relay, await sidewaysJpeg(), 'image/jpeg');

    await expect.poll(() => readyMessages(broker.channel, relay.names.imageJobsDead)).toBe(1);
    expect(worker.requests('GET')).toHaveLength(MAX_ATTEMPTS);
    expect(JSON.parse(reportsOf('image-failed')[0]!.body)).toMatchObject({
      original_key: job.originalKey,
      reason: `gave up after ${MAX_ATTEMPTS} attempts`,
    });
    const dead = await broker.channel.basicGet(relay.names.imageJobsDead, { noAck: true });
    expect((JSON.parse(dead!.bodyString()!) as Envelope).id).toBe(job.envelope.id);
    // The hub delivery's dead letters are kept apart.
    expect(await readyMessages(broker.channel, relay.names.hubDeliveryDead)).toBe(0);
  });
});

describe('when the Worker refuses a call for good', () => {
  it.each([400, 401, 413])(
    'gives the job up at once on %i: reports it failed, dead-letters it, logs and counts it',
    async (status) => {
      const relay = await startImageWorker();
      worker.answer((request) => (request.path.endsWith('/image-ready') ? status : 200));
      const job = await upload(relay, await sidewaysJpeg(), 'image/jpeg');

      await expect.poll(() => readyMessages(broker.channel, relay.names.imageJobsDead)).toBe(1);
      // In the dead-letter queue it is out of the job queue: no retry can follow.
      expect(worker.requests('GET')).toHaveLength(1);
      expect(worker.requests('PUT')).toHaveLength(2);
      expect(reportsOf('image-ready')).toHaveLength(1);
      expect(reportsOf('image-failed').map((report) => JSON.parse(report.body))).toEqual([
        {
          store_id: job.storeId,
          original_key: job.originalKey,
          reason: `refused by the Worker: report ready: answered ${status}`,
        },
      ]);
      const dead = await broker.channel.basicGet(relay.names.imageJobsDead, { noAck: true });
      expect(dead!.properties.headers?.['x-first-death-reason']).toBe('rejected');
      expect(relay.logs.lines().filter((line) => line.menuId === job.menuId)).toMatchObject([
        {
          level: 50,
          msg: 'image job refused by the Worker; dead-lettered without retrying',
          step: 'report ready',
          status,
          attempt: 1,
        },
      ]);
      expect(await sampleOf(relay.metrics.imageJobsFailed)).toBe(1);
    },
  );
});
