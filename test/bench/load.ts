/**
 * The load run: more and more tablets ordering at once, each sending its next order as soon as
 * the previous one was answered, until order-create p95 passes the limit. The knee is the last
 * stage that stayed within it.
 */
import { randomUUID } from 'node:crypto';
import { apiClient } from '../support/http.ts';
import { latencySummary, type LatencySummary } from './stats.ts';

export type LoadStage = {
  tablets: number;
  orders: number;
  errors: number;
  orders_per_s: number;
  latency_ms: LatencySummary;
};

export async function rampTablets(run: {
  workerUrl: string;
  /** Tablet tokens; tablet n orders as tokens[n % length]. */
  tokens: string[];
  menuIds: string[];
  stages: number[];
  stageMs: number;
  p95LimitMs: number;
}): Promise<{ stages: LoadStage[]; knee: LoadStage | undefined }> {
  const call = apiClient(run.workerUrl);
  const stages: LoadStage[] = [];
  for (const tablets of run.stages) {
    const samples: number[] = [];
    let errors = 0;
    const started = performance.now();
    const deadline = started + run.stageMs;
    await Promise.all(
      Array.from({ length: tablets }, async (_, tablet) => {
        for (let n = 0; performance.now() < deadline; n += 1) {
          const t0 = performance.now();
          const res = await call(
            'POST',
            '/api/customer/orders',
            run.tokens[tablet % run.tokens.length],
            { items: [{ menu_id: run.menuIds[(tablet + n) % run.menuIds.length], quantity: 1 }] },
            { 'idempotency-key': randomUUID() },
          );
          samples.push(performance.now() - t0);
          if (res.status !== 201) errors += 1;
        }
      }),
    );
    const elapsed = performance.now() - started;
    const stage = {
      tablets,
      orders: samples.length,
      errors,
      orders_per_s: Math.round((samples.length / elapsed) * 1000),
      latency_ms: latencySummary(samples),
    };
    stages.push(stage);
    console.log(
      `load: ${tablets} tablets → ${stage.orders_per_s} orders/s, p95 ${stage.latency_ms.p95} ms, ` +
        `${errors} errors`,
    );
    if (stage.latency_ms.p95 > run.p95LimitMs) break;
  }
  const knee = stages.filter((stage) => stage.latency_ms.p95 <= run.p95LimitMs).at(-1);
  return { stages, knee };
}
