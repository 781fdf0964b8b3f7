/** Where the tests find the real services of this machine (overridable from the environment). */
export function testServices() {
  const databaseUrl =
    process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/table_order_test';
  const url = new URL(databaseUrl);
  return {
    databaseUrl,
    postgres: { host: url.hostname, port: Number(url.port || 5432) },
    redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    amqpUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    redisRestToken: 'test-redis-token',
  };
}
