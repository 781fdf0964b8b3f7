/**
 * `npm run check:bundle`: builds the production Worker exactly as `wrangler deploy` would
 * (`--dry-run`: bundled and minified, nothing uploaded), prints the size of what would be
 * uploaded, raw and gzipped, and fails when the gzipped size passes {@link GZIP_LIMIT_BYTES}.
 *
 * Workers Paid accepts 10 MB gzipped, but a bundle that size costs every cold start its parse
 * time; the bound is about twice the bundle as measured when it was set (261 KiB gzipped), so a
 * dependency that doubles it is noticed in review rather than in start-up latency.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { isolatedEnv } from '../support/child-env.ts';
import { repoRoot } from '../support/config-files.ts';

/** The most the gzipped upload may weigh. */
export const GZIP_LIMIT_BYTES = 512 * 1024;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const outdir = await mkdtemp(join(tmpdir(), 'table-order-bundle-'));
try {
  // `--env=""`: the top level (production), named explicitly; an ambient CLOUDFLARE_ENV stays out.
  await promisify(execFile)(
    process.execPath,
    ['node_modules/wrangler/bin/wrangler.js', 'deploy', '--dry-run', '--env=', '--outdir', outdir],
    { cwd: repoRoot, env: isolatedEnv({ WRANGLER_SEND_METRICS: 'false' }) },
  );
  // The modules wrangler would upload; source maps stay behind (upload_source_maps is off).
  const modules = (await readdir(outdir)).filter((name) => /\.(m?js|wasm)$/.test(name));
  if (modules.length === 0) throw new Error(`wrangler wrote no module to ${outdir}`);
  let raw = 0;
  let gzipped = 0;
  for (const name of modules) {
    const bytes = await readFile(join(outdir, name));
    raw += bytes.length;
    gzipped += gzipSync(bytes).length;
  }
  console.log(
    `bundle (${modules.join(', ')}): ${kib(raw)} raw, ${kib(gzipped)} gzipped ` +
      `(limit ${kib(GZIP_LIMIT_BYTES)} gzipped)`,
  );
  if (gzipped > GZIP_LIMIT_BYTES) {
    console.error(
      `check:bundle: the gzipped bundle is over the limit by ${kib(gzipped - GZIP_LIMIT_BYTES)}`,
    );
    process.exitCode = 1;
  }
} finally {
  await rm(outdir, { recursive: true, force: true });
}
