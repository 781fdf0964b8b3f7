import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { apiClient } from '../support/http.ts';
import { noisyJpeg } from '../support/photos.ts';
import { startStack, type Stack } from '../support/stack.ts';

let stack: Stack;
let call: ReturnType<typeof apiClient>;
let admin: string;
let menuId: string;

beforeAll(async () => {
  stack = await startStack();
  call = apiClient(stack.workerUrl);
  const login = await call(
    'POST',
    '/api/admin/auth/login',
    undefined,
    { store_id: DEMO_STORE_ID, username: 'admin', password: 'admin1234' },
    { 'cf-connecting-ip': '203.0.113.9' },
  );
  admin = login.body.access_token;
  menuId = (await call('GET', '/api/admin/menus', admin)).body.menus[0].id;
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function upload(photo: Buffer): Promise<Response> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  return fetch(`${stack.workerUrl}/api/admin/menus/${menuId}/image`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}` },
    body: form,
  });
}

describe('a menu photo uploaded by the admin', () => {
  it('becomes a cacheable 300×300 thumbnail within seconds', async () => {
    const photo = await noisyJpeg(5);
    expect(photo.length).toBeGreaterThan(4 * 1024 * 1024);
    const started = Date.now();
    const accepted = await upload(photo);
    expect(accepted.status, await accepted.clone().text()).toBe(202);
    expect(await accepted.json()).toMatchObject({ menu_id: menuId, image_status: 'processing' });

    let menu: any;
    await expect
      .poll(
        async () => {
          menu = (await call('GET', `/api/admin/menus/${menuId}`, admin)).body;
          return menu.image_status;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe('ready');
    const readyAfter = Date.now() - started;
    expect(readyAfter).toBeLessThan(15_000);

    const thumb = await fetch(`${stack.workerUrl}${menu.image.thumbnail_url}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(thumb.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const bytes = Buffer.from(await thumb.arrayBuffer());
    expect(await sharp(bytes).metadata()).toMatchObject({
      width: 300,
      height: 300,
      format: 'webp',
    });

    const again = await fetch(`${stack.workerUrl}${menu.image.thumbnail_url}`, {
      headers: { 'if-none-match': thumb.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
    await again.arrayBuffer();
  });
});
