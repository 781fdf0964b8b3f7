import { mkdirSync, writeFileSync } from 'node:fs';

/** test/bench/results/, where every bench writes what it measured. */
export const RESULTS_DIR = new URL('./results/', import.meta.url);

/** `<prefix><UTC date and time>` with `:` replaced, safe as a file name on every system. */
export function resultName(prefix: string, at = new Date()): string {
  return `${prefix}${at.toISOString().replaceAll(':', '-').slice(0, 19)}`;
}

/** Writes `{ measured_at, ...body }` to results/<prefix><date>.json and answers its URL. */
export function writeResults(prefix: string, body: Record<string, unknown>, at = new Date()): URL {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = new URL(`${resultName(prefix, at)}.json`, RESULTS_DIR);
  writeFileSync(file, `${JSON.stringify({ measured_at: at.toISOString(), ...body }, null, 2)}\n`);
  return file;
}
