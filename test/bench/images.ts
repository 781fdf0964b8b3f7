/**
 * `npm run bench:images`: a menu photo's upload → 202 and upload → `menu.image_ready` (as the
 * admin stream receives it) for 1 MB and 5 MB JPEGs through the local stack (Worker → R2 → outbox
 * → relay → sharp → Worker). Prints a table and writes test/bench/results/images-<date>.json.
 * BENCH_UPLOADS (default 10) per size.
 */
import { DEMO_STORE_ID } from '../../db/seed.ts';
import { listen } from '../support/event-stream.ts';
import { apiClient } from '../support/http.ts';
import { noisyJpeg } from '../support/photos.ts';
import { startStack } from '../support/stack.ts';
import { writeResults } from './results.ts';
import { latencySummary } from './stats.ts';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 10);
const stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: '1000000' } });
try {
  const call = apiClient(stack.workerUrl);
  const login = await call(
    'POST',
    '/api/admin/auth/login',
    undefined,
    { store_id: DEMO_STORE_ID, username: 'admin', password: 'admin1234' },
    { 'cf-connecting-ip': '198.18.0.4' },
  );
  const admin = login.body.access_token as string;
  const menuIds = (
    (await call('GET', '/api/admin/menus', admin)).body.menus as Array<{ id: string }>
  ).map((m) => m.id);
  const dashboard = listen(`${stack.workerUrl}/api/admin/orders/stream`, { token: admin });
  await dashboard.opened();

  const results = [];
  for (const megabytes of [1, 5]) {
    const photo = new Uint8Array(await noisyJpeg(megabytes));
    const accepted: number[] = [];
    const ready: number[] = [];
    for (let i = 0; i < UPLOADS; i += 1) {
      const menuId = menuIds[i % menuIds.length]!;
      const readyBefore = dashboard.received.filter((e) => e.type === 'menu.image_ready').length;
      const form = new FormData();
      form.append('image', new Blob([photo], { type: 'image/jpeg' }), 'photo.jpg');
      const t0 = performance.now();
      const res = await fetch(`${stack.workerUrl}/api/admin/menus/${menuId}/image`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}` },
        body: form,
      });
      accepted.push(performance.now() - t0);
      if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      const events = await dashboard.waitFor('menu.image_ready', readyBefore + 1, 60_000);
      ready.push(events.at(-1)!.at - t0);
    }
    results.push({
      photo_mb: Math.round((photo.length / 1048576) * 100) / 100,
      upload_202_ms: latencySummary(accepted),
      upload_to_ready_ms: latencySummary(ready),
    });
  }
  dashboard.close();
  console.log(`\nmenu photo upload (${UPLOADS} per size, ms), local stack`);
  console.table(
    results.map((r) => ({
      'photo MB': r.photo_mb,
      '202 p50': r.upload_202_ms.p50,
      '202 p95': r.upload_202_ms.p95,
      'ready p50': r.upload_to_ready_ms.p50,
      'ready p95': r.upload_to_ready_ms.p95,
      'ready max': r.upload_to_ready_ms.max,
    })),
  );
  console.log(`written ${writeResults('images-', { uploads: UPLOADS, results }).pathname}`);
} finally {
  await stack.stop();
}
