/** Latency percentiles (nearest rank) of a sample in milliseconds, rounded to 0.1 ms. */
export function latencySummary(values: number[]) {
  const sorted = values.toSorted((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const round = (n: number | undefined) => (n === undefined ? Number.NaN : Math.round(n * 10) / 10);
  return {
    count: sorted.length,
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    max: round(sorted.at(-1)),
  };
}
