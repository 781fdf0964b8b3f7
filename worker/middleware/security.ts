import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../api-error.ts';
import { IMAGE_URL_PREFIX, INTERNAL_IMAGE_PATH_PREFIX } from '../contracts/image-keys.ts';

const SWAGGER_CDN = 'https://cdn.jsdelivr.net';

/**
 * The API answers JSON and event streams, never pages: nothing may be loaded, framed or run from
 * its responses. (hono's defaults besides: nosniff, no referrer, HSTS, same-origin resource and
 * opener policies, no `X-Powered-By`.)
 */
const apiHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
  },
  xFrameOptions: 'DENY',
});

/**
 * `/docs` is Swagger UI: its script and styles come from the CDN, it starts with an inline
 * script (rendered by @hono/swagger-ui, which has no nonce option; the page shows no user data)
 * and it fetches `/openapi.json` — and, with "Try it out", the API — from this origin.
 */
const docsHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: [SWAGGER_CDN, "'unsafe-inline'"],
    styleSrc: [SWAGGER_CDN, "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', SWAGGER_CDN],
    fontSrc: [SWAGGER_CDN],
    connectSrc: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
  },
  xFrameOptions: 'DENY',
});

/**
 * Menu pictures (`/images/…`) are shown by tablets and admin screens served from other origins:
 * their resource policy is `cross-origin` (an `<img>` from another site is otherwise blocked),
 * everything else as for the API.
 */
const imageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
  },
  crossOriginResourcePolicy: 'cross-origin',
  xFrameOptions: 'DENY',
});

/**
 * Security headers on every response, errors included; `/docs` gets the policy its page needs,
 * `/images/` a cross-origin resource policy.
 */
export const securityHeaders = createMiddleware<AppEnv>(function securityHeaders(c, next) {
  if (c.req.path === '/docs') return docsHeaders(c, next);
  if (c.req.path.startsWith(IMAGE_URL_PREFIX)) return imageHeaders(c, next);
  return apiHeaders(c, next);
});

const MB = 1024 * 1024;

/**
 * Request body limits by path prefix (or pattern), first match wins: JSON bodies are small (an
 * order of 50 lines is a few kB), so 1 MB is generous. A route that takes more gets its own entry
 * above the catch-all: the admin's image upload (10 MB of file, plus room for the multipart
 * framing — the route itself refuses a file over 10 MB) and the relay's variants.
 */
export const BODY_LIMITS: ReadonlyArray<readonly [path: string | RegExp, maxBytes: number]> = [
  [/^\/api\/admin\/menus\/[^/]+\/image$/, 10 * MB + 64 * 1024],
  [INTERNAL_IMAGE_PATH_PREFIX, 16 * MB],
  ['/', 1 * MB],
];

const matches = (path: string, pattern: string | RegExp) =>
  typeof pattern === 'string' ? path.startsWith(pattern) : pattern.test(path);

const limiters = BODY_LIMITS.map(
  ([prefix, maxBytes]) =>
    [
      prefix,
      maxBytes,
      bodyLimit({
        maxSize: maxBytes,
        onError: () => {
          throw new ApiError(413, 'PAYLOAD_TOO_LARGE', '요청 본문이 너무 큽니다.', {
            details: { max_bytes: maxBytes },
          });
        },
      }),
    ] as const,
);

/**
 * Refuses a body over its path's limit with 413 PAYLOAD_TOO_LARGE, before anything reads it:
 * by `Content-Length` when given, else while streaming it in (chunked uploads).
 */
export const limitBodies = createMiddleware<AppEnv>(async function limitBodies(c, next) {
  const limiter = limiters.find(([pattern]) => matches(c.req.path, pattern));
  if (!limiter) return next();
  return limiter[2](c, next);
});
