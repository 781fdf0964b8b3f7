import { defineConfig } from 'drizzle-kit';

/** drizzle-kit: `npx drizzle-kit generate --name <change>` writes SQL into db/migrations. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
  dbCredentials: {
    url: process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/table_order',
  },
  strict: true,
  verbose: true,
});
