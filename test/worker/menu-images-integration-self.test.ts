import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { menuImagePrefix } from '../../worker/contracts/image-keys.ts';
import { api, newMenu, newStore, newTable, outboxOf } from './support/fixtures.ts';
import {
  anotherPng,
  jpegHeader,
  call,
  finishJob,
  PNG_1X1,
  pngHeader,
  relayCall,
  relayHeaders,
  sha256Hex,
  signedRelayRequest,
  stored,
  uploadImage,
  WEBP_1X1,
} from './support/images.ts';

const MB = 1024 * 1024;

/** A store with one menu, its admin token and a tablet token. */
async function storeWithMenu() {
  const store = await newStore();
  const { menus } = await newMenu(store.id);
  const table = await newTable(store.id);
  return { store, menuId: menus[0]!.id, table };
}

/** Uploads `bytes` as the menu's image and runs the relay's job to the end. */
async function uploadAndFinish(storeId: string, token: string, menuId: string, bytes = PNG_1X1) {
  const upload = await uploadImage(token, menuId, bytes);
  expect(upload.status).toBe(202);
  const job = await finishJob(storeId, menuId, upload.body.original_key);
  expect(job.ready.body).toEqual({ updated: true });
  return { originalKey: upload.body.original_key as string, ...job };
}

describe('uploading a menu picture', () => {
  it('stores the original and queues its variants: 202, processing, one outbox event', async () => {
    const { store, menuId } = await storeWithMenu();
    const upload = await uploadImage(store.admin.token, menuId, PNG_1X1, { name: 'kimchi.png' });

    const sha = await sha256Hex(PNG_1X1);
    // Spelled out rather than built by the contract: the documented layout, checked on its own.
    const originalKey = `menus/${store.id}/${menuId}/${sha}/original`;
    expect(upload.status).toBe(202);
    expect(upload.body).toEqual({
      menu_id: menuId,
      image_status: 'processing',
      original_key: originalKey,
    });
    const object = await env.IMAGES.get(originalKey);
    expect(object?.httpMetadata?.contentType).toBe('image/png');
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(PNG_1X1);

    const menu = await api('GET', `/api/admin/menus/${menuId}`, { token: store.admin.token });
    expect(menu.body).toMatchObject({ image_status: 'processing', image: null });
    const events = (await outboxOf(store.id)).filter((e) => e.type === 'menu.image_uploaded');
    expect(events.map((e) => e.payload)).toEqual([
      { menu_id: menuId, original_key: originalKey, content_type: 'image/png', sha256: sha },
    ]);
  });

  it('takes JPEG and WebP too, recognised by their bytes whatever their names', async () => {
    const { store, menuId } = await storeWithMenu();
    const jpeg = await uploadImage(store.admin.token, menuId, jpegHeader(640, 480), {
      name: 'photo.png',
      type: 'image/png',
    });
    expect(jpeg.status).toBe(202);
    const jpegObject = await env.IMAGES.head(jpeg.body.original_key);
    expect(jpegObject?.httpMetadata?.contentType).toBe('image/jpeg');
    const webp = await uploadImage(store.admin.token, menuId, WEBP_1X1, { name: 'x.bin' });
    expect(webp.status).toBe(202);
    const webpObject = await env.IMAGES.head(webp.body.original_key);
    expect(webpObject?.httpMetadata?.contentType).toBe('image/webp');
  });

  it('refuses a text file named .jpg with 415, whatever type the browser claims', async () => {
    const { store, menuId } = await storeWithMenu();
    const text = new TextEncoder().encode('this is not a picture at all');
    const upload = await uploadImage(store.admin.token, menuId, text, {
      name: 'menu.jpg',
      type: 'image/jpeg',
    });
    expect(upload.status).toBe(415);
    expect(upload.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses an image whose header cannot be read with 415', async () => {
    const { store, menuId } = await storeWithMenu();
    const upload = await uploadImage(store.admin.token, menuId, PNG_1X1.slice(0, 10));
    expect(upload.status).toBe(415);
  });

  it('refuses a file over 10 MB with 413', async () => {
    const { store, menuId } = await storeWithMenu();
    const big = new Uint8Array(10 * MB + 1);
    big.set(PNG_1X1);
    const upload = await uploadImage(store.admin.token, menuId, big);
    expect(upload.status).toBe(413);
    expect(upload.body.error.code).toBe('PAYLOAD_TOO_LARGE');

    const huge = new Uint8Array(11 * MB);
    huge.set(PNG_1X1);
    expect((await uploadImage(store.admin.token, menuId, huge)).status).toBe(413);
  });

  it('refuses a picture declaring 20000×20000 pixels with 422, before any relay sees it', async () => {
    const { store, menuId } = await storeWithMenu();
    const upload = await uploadImage(store.admin.token, menuId, pngHeader(20000, 20000));
    expect(upload.status).toBe(422);
    expect(upload.body.error).toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      details: { width: 20000, height: 20000, max_pixels: 40_000_000 },
    });
    expect(upload.body.error.message).toMatch(/해상도/);
    const events = (await outboxOf(store.id)).filter((e) => e.type === 'menu.image_uploaded');
    expect(events).toEqual([]);
  });

  it('answers 400 without a file, 404 for another store’s menu, 403 to a tablet', async () => {
    const { store, menuId, table } = await storeWithMenu();
    const other = await newStore();
    expect((await uploadImage(store.admin.token, menuId, null)).status).toBe(400);
    const json = await api('POST', `/api/admin/menus/${menuId}/image`, {
      token: store.admin.token,
      body: { image: 'data:image/png;base64,AAAA' },
    });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('VALIDATION_ERROR');
    const foreign = await uploadImage(other.admin.token, menuId, PNG_1X1);
    expect(foreign.status).toBe(404);
    expect((await uploadImage(store.admin.token, crypto.randomUUID(), PNG_1X1)).status).toBe(404);
    expect((await uploadImage(table.token, menuId, PNG_1X1)).status).toBe(403);
    expect((await uploadImage(undefined, menuId, PNG_1X1)).status).toBe(401);
  });
});

describe('the relay’s image worker', () => {
  it('reads the original, stores the variants and makes the menu show its picture', async () => {
    const { store, menuId, table } = await storeWithMenu();
    // A tablet reads the menu first: the cached copy must not hide the picture later.
    const before = await api('GET', '/api/customer/menus', { token: table.token });
    expect(before.body.categories[0].menus[0].image).toBeNull();
    const upload = await uploadImage(store.admin.token, menuId, PNG_1X1);
    const originalKey = upload.body.original_key as string;

    const original = await relayCall('GET', `/internal/images/${originalKey}`);
    expect(original.status).toBe(200);
    expect(original.headers.get('content-type')).toBe('image/png');
    expect(original.bytes).toEqual(PNG_1X1);

    const { ready, thumbnailKey, displayKey } = await finishJob(store.id, menuId, originalKey);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ updated: true });
    const image = {
      thumbnail_url: `/images/${thumbnailKey}`,
      display_url: `/images/${displayKey}`,
    };

    const admin = await api('GET', `/api/admin/menus/${menuId}`, { token: store.admin.token });
    expect(admin.body).toMatchObject({ image_status: 'ready', image });
    const guests = await api('GET', '/api/customer/menus', { token: table.token });
    expect(guests.body.categories[0].menus[0].image).toEqual(image);
    const events = (await outboxOf(store.id)).filter((e) => e.type === 'menu.image_ready');
    expect(events.map((e) => e.payload)).toEqual([{ menu_id: menuId, image }]);
  });

  it('accepts only variant names under menus/ for PUT, and WebP bytes', async () => {
    const { store, menuId } = await storeWithMenu();
    const folder = `${menuImagePrefix(store.id, menuId)}${'a'.repeat(64)}/`;
    const webp = { 'content-type': 'image/webp' };
    for (const key of [`${folder}original`, `${folder}other.webp`, `elsewhere/${'a'.repeat(64)}`]) {
      expect((await relayCall('PUT', `/internal/images/${key}`, WEBP_1X1, webp)).status).toBe(400);
    }
    const png = await relayCall('PUT', `/internal/images/${folder}thumb.webp`, PNG_1X1, {
      'content-type': 'image/webp',
    });
    expect(png.status).toBe(415);
    expect((await relayCall('GET', `/internal/images/${folder}original`)).status).toBe(404);
  });

  it('refuses unsigned, forged, stale or re-aimed requests with 401', async () => {
    const { store, menuId } = await storeWithMenu();
    const upload = await uploadImage(store.admin.token, menuId, PNG_1X1);
    const path = `/internal/images/${upload.body.original_key}`;
    const thumb = path.replace(/original$/, 'thumb.webp');
    const readyPath = `/internal/menus/${menuId}/image-ready`;

    const unsigned = await call('GET', path);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.code).toBe('SIGNATURE_INVALID');
    const forged = await relayHeaders('GET', path, '', { secret: 'not-the-secret' });
    expect((await call('GET', path, { headers: forged })).status).toBe(401);
    const stale = await relayHeaders('GET', path, '', { timestamp: Date.now() - 10 * 60_000 });
    expect((await call('GET', path, { headers: stale })).status).toBe(401);
    // Signed for one key, sent for another; signed for GET, sent as PUT; body swapped.
    const forOriginal = await relayHeaders('GET', path);
    expect((await call('GET', thumb, { headers: forOriginal })).status).toBe(401);
    const asPut = await relayHeaders('GET', thumb);
    expect(
      (
        await call('PUT', thumb, {
          headers: { ...asPut, 'content-type': 'image/webp' },
          body: WEBP_1X1,
        })
      ).status,
    ).toBe(401);
    const signedBody = JSON.stringify({ store_id: store.id, original_key: 'x', reason: 'a' });
    const headers = await relayHeaders('POST', readyPath.replace('ready', 'failed'), signedBody);
    const swapped = await call('POST', readyPath.replace('ready', 'failed'), {
      headers: { ...headers, 'content-type': 'application/json' },
      body: signedBody.replace('"a"', '"b"'),
    });
    expect(swapped.status).toBe(401);
    expect(await stored(thumb.slice('/internal/images/'.length))).toBe(false);
  });

  it('refuses the same signed request sent again (a replay) with 401, after answering it once', async () => {
    const { store, menuId } = await storeWithMenu();
    const upload = await uploadImage(store.admin.token, menuId, PNG_1X1);
    const originalKey = upload.body.original_key as string;
    const folder = originalKey.slice(0, -'original'.length);
    const report = { store_id: store.id, original_key: originalKey };
    const storeVariant = (name: string) =>
      signedRelayRequest('PUT', `/internal/images/${folder}${name}`, WEBP_1X1, {
        'content-type': 'image/webp',
      });
    const requests = [
      { sent: await signedRelayRequest('GET', `/internal/images/${originalKey}`), status: 200 },
      { sent: await storeVariant('thumb.webp'), status: 201 },
      { sent: await storeVariant('display.webp'), status: 201 },
      {
        sent: await signedRelayRequest('POST', `/internal/menus/${menuId}/image-ready`, {
          ...report,
          thumbnail_key: `${folder}thumb.webp`,
          display_key: `${folder}display.webp`,
        }),
        status: 200,
      },
      {
        sent: await signedRelayRequest('POST', `/internal/menus/${menuId}/image-failed`, {
          ...report,
          reason: 'sharp: unsupported image format',
        }),
        status: 200,
      },
    ];
    for (const { sent, status } of requests) {
      expect((await sent()).status).toBe(status);
      const replayed = await sent();
      expect(replayed.status).toBe(401);
      expect(replayed.body.error).toMatchObject({
        code: 'SIGNATURE_INVALID',
        details: { reason: 'replayed' },
      });
    }
  });

  it('marks the picture failed with the reason, and the menu shows none', async () => {
    const { store, menuId } = await storeWithMenu();
    const upload = await uploadImage(store.admin.token, menuId, PNG_1X1);
    const failed = await relayCall('POST', `/internal/menus/${menuId}/image-failed`, {
      store_id: store.id,
      original_key: upload.body.original_key,
      reason: 'sharp: unsupported image format',
    });
    expect(failed.status).toBe(200);
    expect(failed.body).toEqual({ updated: true });
    const menu = await api('GET', `/api/admin/menus/${menuId}`, { token: store.admin.token });
    expect(menu.body).toMatchObject({ image_status: 'failed', image: null });
  });
});

describe('replacing a picture', () => {
  it('keeps showing nothing until the new variants are ready, then deletes the old objects', async () => {
    const { store, menuId } = await storeWithMenu();
    const first = await uploadAndFinish(store.id, store.admin.token, menuId);

    const second = await uploadImage(store.admin.token, menuId, anotherPng());
    const processing = await api('GET', `/api/admin/menus/${menuId}`, { token: store.admin.token });
    expect(processing.body).toMatchObject({ image_status: 'processing', image: null });
    for (const key of [first.originalKey, first.thumbnailKey, first.displayKey]) {
      expect(await stored(key)).toBe(true);
    }

    const job = await finishJob(store.id, menuId, second.body.original_key);
    expect(job.ready.body).toEqual({ updated: true });
    for (const key of [first.originalKey, first.thumbnailKey, first.displayKey]) {
      expect(await stored(key)).toBe(false);
    }
    for (const key of [second.body.original_key, job.thumbnailKey, job.displayKey]) {
      expect(await stored(key)).toBe(true);
    }
  });

  it('ignores a job a newer upload superseded, and deletes that job’s objects', async () => {
    const { store, menuId } = await storeWithMenu();
    const older = await uploadImage(store.admin.token, menuId, anotherPng());
    const newer = await uploadImage(store.admin.token, menuId, anotherPng());

    const late = await finishJob(store.id, menuId, older.body.original_key);
    expect(late.ready.status).toBe(200);
    expect(late.ready.body).toEqual({ updated: false });
    for (const key of [older.body.original_key, late.thumbnailKey, late.displayKey]) {
      expect(await stored(key)).toBe(false);
    }
    expect(await stored(newer.body.original_key)).toBe(true);
    const menu = await api('GET', `/api/admin/menus/${menuId}`, { token: store.admin.token });
    expect(menu.body).toMatchObject({ image_status: 'processing', image: null });

    const stale = await relayCall('POST', `/internal/menus/${menuId}/image-failed`, {
      store_id: store.id,
      original_key: older.body.original_key,
      reason: 'too late',
    });
    expect(stale.body).toEqual({ updated: false });
  });

  it('deletes the menu’s objects when the menu is deleted', async () => {
    const { store, menuId } = await storeWithMenu();
    const image = await uploadAndFinish(store.id, store.admin.token, menuId);
    const removed = await api('DELETE', `/api/admin/menus/${menuId}`, { token: store.admin.token });
    expect(removed.status).toBe(204);
    const left = await env.IMAGES.list({ prefix: menuImagePrefix(store.id, menuId) });
    expect(left.objects).toEqual([]);
    expect(await stored(image.displayKey)).toBe(false);
  });
});

describe('serving pictures', () => {
  it('serves the variants publicly, immutable, with an ETag and 304 on If-None-Match', async () => {
    const { store, menuId } = await storeWithMenu();
    const { thumbnailKey } = await uploadAndFinish(store.id, store.admin.token, menuId);

    const picture = await call('GET', `/images/${thumbnailKey}`);
    expect(picture.status).toBe(200);
    expect(picture.headers.get('content-type')).toBe('image/webp');
    expect(picture.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(picture.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(picture.bytes).toEqual(WEBP_1X1);
    const etag = picture.headers.get('etag');
    expect(etag).toMatch(/^"[^"]+"$/);

    const again = await call('GET', `/images/${thumbnailKey}`, {
      headers: { 'if-none-match': etag! },
    });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
    expect(again.headers.get('etag')).toBe(etag);
    const changed = await call('GET', `/images/${thumbnailKey}`, {
      headers: { 'if-none-match': '"something-else"' },
    });
    expect(changed.status).toBe(200);
  });

  it('never serves an original or a missing picture: 404', async () => {
    const { store, menuId } = await storeWithMenu();
    const { originalKey, displayKey } = await uploadAndFinish(store.id, store.admin.token, menuId);
    const original = await call('GET', `/images/${originalKey}`);
    expect(original.status).toBe(404);
    expect(original.body.error.code).toBe('NOT_FOUND');
    const missing = displayKey.replace(/[0-9a-f]{64}/, 'b'.repeat(64));
    expect((await call('GET', `/images/${missing}`)).status).toBe(404);
    expect((await call('GET', '/images/../secrets')).status).toBe(404);
  });
});

describe('the API description', () => {
  it('documents the upload as multipart and keeps the relay’s image endpoints out', async () => {
    const { body } = await api('GET', '/openapi.json');
    const upload = body.paths['/api/admin/menus/{id}/image'].post;
    expect(upload.requestBody.content['multipart/form-data'].schema.properties.image).toMatchObject(
      {
        type: 'string',
        format: 'binary',
      },
    );
    expect(Object.keys(upload.responses)).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '404', '413', '415', '422']),
    );
    expect(Object.keys(body.paths).filter((path) => path.startsWith('/internal'))).toEqual([]);
  });
});
