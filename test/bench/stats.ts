/** The nearest-rank percentile `p` (0–100) of an ascending sample; undefined when it is empty. */
export function percentile(sorted: number[], p: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Latency percentiles (nearest rank) of a sample in milliseconds, rounded to 0.1 ms. */
export function latencySummary(values: number[]) {
  const sorted = values.toSorted((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p);
  const round = (n: number | undefined) => (n === undefined ? Number.NaN : Math.round(n * 10) / 10);
  return {
    count: sorted.length,
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    max: round(sorted.at(-1)),
  };
}

export type LatencySummary = ReturnType<typeof latencySummary>;

/**
 * Times `count` sequential runs of `run` (ms each). `prepare` runs before each and is not timed
 * (a cache key to delete, an order to create first).
 */
export async function timeSequential(
  count: number,
  run: (index: number) => Promise<unknown>,
  prepare: (index: number) => Promise<unknown> = async () => undefined,
): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < count; index += 1) {
    await prepare(index);
    const t0 = performance.now();
    await run(index);
    samples.push(performance.now() - t0);
  }
  return samples;
}

/**
 * Runs `run` `total` times from `concurrency` closed-loop clients: each client sends its next
 * request as soon as the previous one answered. Answers completed runs per second and their
 * latencies. `run` gets a global index (0 … total-1), each exactly once.
 */
export async function timeConcurrent(
  concurrency: number,
  total: number,
  run: (index: number) => Promise<unknown>,
): Promise<{ perSecond: number; samples: number[] }> {
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < total; index = next++) {
        const t0 = performance.now();
        await run(index);
        samples.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  return { perSecond: Math.round((total / elapsed) * 1000), samples };
}
