import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/**
 * Two projects share one global setup (test database, dev bridges on ephemeral ports):
 * - `worker`: Worker code inside workerd (Cloudflare's vitest integration), bindings aimed at the
 *   bridges, so the Worker talks to the real PostgreSQL and Redis;
 * - `node`: the relay, the bridges, the database schema and (later) the whole stack end to end.
 */
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            // The local environment (wrangler.toml's top level is production).
            wrangler: { configPath: './wrangler.toml', environment: 'dev' },
            miniflare: {
              bindings: {
                DATABASE_URL: inject('databaseUrl'),
                NEON_WS_PROXY: inject('neonWsProxy'),
                UPSTASH_REDIS_REST_URL: inject('redisRestUrl'),
                UPSTASH_REDIS_REST_TOKEN: inject('redisRestToken'),
                JWT_PRIVATE_KEY: inject('jwtPrivateKey'),
                JWT_KEY_ID: inject('jwtKeyId'),
                JWT_PREVIOUS_PUBLIC_KEYS: '',
                RELAY_HMAC_SECRET: inject('relayHmacSecret'),
                // Low, so a test can fill a store's streams (each test has a store of its own).
                STREAM_LIMIT_PER_STORE: '10',
              },
            },
          })),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'node',
          include: ['test/relay/**/*.test.ts', 'test/db/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          // These tests wait on real processes (a relay booting, a broker reconnecting) that a
          // loaded CI machine makes slow; the 1 s default turns a slow start into a failure.
          expect: { poll: { timeout: 10_000 } },
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
