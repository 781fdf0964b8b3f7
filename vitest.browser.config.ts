import { defineConfig } from 'vitest/config';

/**
 * `npm run test:browser`: the whole stack driven from Debian's Chromium (test/browser). Kept out
 * of `npm test`, since a machine without Chromium cannot run it. The global setup is the one of
 * `npm test` (it makes sure the test database the stacks are managed from exists).
 */
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    include: ['test/browser/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
