import { loggableQueryError } from '../db/query-errors.ts';
import { pruneExpiredRows } from './domain/retention.ts';
import { openDatabase } from './platform/database.ts';

/**
 * The Cron Trigger (`[triggers] crons` in wrangler.toml): runs the retention job and logs one
 * JSON line of what it removed. A failure is logged and rethrown, so that the run shows as failed
 * in the Worker's cron history; the next run picks up where it stopped.
 */
export async function scheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const { db, pool } = openDatabase(env);
  const started = Date.now();
  try {
    const removed = await pruneExpiredRows(db);
    console.log(
      JSON.stringify({
        level: 'info',
        msg: 'retention',
        cron: controller.cron,
        duration_ms: Date.now() - started,
        ...removed,
      }),
    );
  } catch (error) {
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'retention failed',
        cron: controller.cron,
        error:
          error instanceof Error
            ? (loggableQueryError(error) ?? { name: error.name, message: error.message })
            : String(error),
      }),
    );
    throw error;
  } finally {
    await pool.end();
  }
}
