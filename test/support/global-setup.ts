/**
 * Vitest global setup (Node): prepares the test database and starts the dev bridges on ephemeral
 * ports, then hands their addresses to every project through `provide` (the Worker project feeds
 * them into its Miniflare bindings; Node tests read them with `inject`).
 */
import type { TestProject } from 'vitest/node';
import { ensureDatabase, migrate } from '../../db/migrate.ts';
import { redisKeyPrefixOf, startBridges } from '../../relay/local/bridges.ts';
import { generateSigningKey } from '../../relay/local/dev-keys.ts';
import { createScratchDatabase } from './db-fixtures.ts';
import { testServices } from './services.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = testServices();
  await ensureDatabase(services.databaseUrl);
  await migrate(services.databaseUrl);
  const bridges = await startBridges({
    postgres: services.postgres,
    pgProxyPort: 0,
    redisUrl: services.redisUrl,
    redisRestPort: 0,
    redisRestToken: services.redisRestToken,
    redisKeyPrefix: redisKeyPrefixOf(services.databaseUrl),
  });
  // The retention job acts on every row of its database, so its tests get a database of their
  // own: in the shared one they would remove (and count) rows other test files rely on.
  const retention = await createScratchDatabase();
  const signingKey = await generateSigningKey();
  project.provide('databaseUrl', services.databaseUrl);
  project.provide('jwtPrivateKey', signingKey.privateJwk);
  project.provide('jwtKeyId', signingKey.kid);
  project.provide('relayHmacSecret', `test-relay-secret-${crypto.randomUUID()}`);
  project.provide('neonWsProxy', bridges.neonWsProxy);
  project.provide('redisRestUrl', bridges.redisRestUrl);
  project.provide('redisRestToken', services.redisRestToken);
  project.provide('retentionDatabaseUrl', retention.url);
  return async () => {
    await bridges.close();
    await retention.drop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    neonWsProxy: string;
    redisRestUrl: string;
    redisRestToken: string;
    jwtPrivateKey: string;
    jwtKeyId: string;
    relayHmacSecret: string;
    /** A migrated database that only the retention job's tests use. */
    retentionDatabaseUrl: string;
  }
}
