import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.ts';

/**
 * What a browser client may send: the bearer token, JSON, idempotent orders, stream resumption,
 * and its own request id (which its events carry as `correlation_id`).
 */
const ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'Last-Event-ID',
  'X-Request-Id',
];
/** What a browser client may read besides the CORS-safelisted headers. */
const EXPOSE_HEADERS = [
  'X-Request-Id',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'Retry-After',
  'Idempotent-Replayed',
];
/** Browsers cache a preflight this long (Chromium caps it at 2 h). */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * Allowed origins from `CORS_ORIGINS`: comma-separated exact origins (`https://admin.example`).
 * A wildcard is refused rather than honoured — every browser on the internet would be allowed —
 * so a `*` entry allows nothing (and says so in the log).
 */
export function allowedOrigins(setting: string | undefined): Set<string> {
  const origins = (setting ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (origins.some((origin) => origin.includes('*'))) {
    console.warn(
      JSON.stringify({ level: 'warn', msg: 'CORS_ORIGINS: wildcards are ignored', setting }),
    );
  }
  return new Set(origins.filter((origin) => !origin.includes('*')));
}

const allowCors = cors({
  // Reached only for an allowed origin (below), which is echoed back.
  origin: (origin) => origin,
  allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowHeaders: ALLOW_HEADERS,
  exposeHeaders: EXPOSE_HEADERS,
  maxAge: PREFLIGHT_MAX_AGE_S,
});

/**
 * CORS for the browser clients in `CORS_ORIGINS`: their preflights are answered (204) and their
 * responses name them in `Access-Control-Allow-Origin`. Any other origin gets no CORS header at
 * all — its preflight goes on to the routes like any OPTIONS request (there are none: 404) — so
 * the browser keeps the response from the page. Every response varies by `Origin`, since whether
 * it carries CORS headers depends on it.
 */
export const corsFromEnv = createMiddleware<AppEnv>(async function corsFromEnv(c, next) {
  const origin = c.req.header('origin');
  if (origin !== undefined && allowedOrigins(c.env.CORS_ORIGINS).has(origin)) {
    return allowCors(c, next);
  }
  await next();
  c.header('Vary', 'Origin', { append: true });
});
