import { pino, type Level, type Logger } from 'pino';
import pinoRoll from 'pino-roll';
import { loggableQueryError } from '../../db/query-errors.ts';

/** Where the relay also keeps its log: numbered files, rolled over by size. */
export interface LogFileOptions {
  /**
   * `dir/relay.log` is written as `dir/relay.1.log`, `dir/relay.2.log`, … (the newest last); `dir`
   * holds nothing else, as pino-roll numbers on from the highest number of any file there.
   */
  path: string;
  /** A file that reaches this size is closed and the next number begun. */
  maxBytes: number;
  /** Older files kept besides the current one; older ones (earlier runs' too) are deleted. */
  keep: number;
}

/**
 * The relay's logger: JSON lines on stdout at `level` and, with `file`, the same lines at INFO and
 * above in size-rotated files (for hosts without a log collector). Writes are synchronous, so a
 * line logged just before `process.exit` is not lost. A failed query's data never reaches it.
 */
export async function createLogger(level: string, file?: LogFileOptions): Promise<Logger> {
  const base = { service: 'relay' };
  const serializers = { err: serializeError };
  if (file === undefined) return pino({ level, base, serializers });
  const stdoutLevel = level as Level;
  const fileLevel: Level = 'info';
  const lowest = pino.levels.values[stdoutLevel]! < pino.levels.values.info! ? stdoutLevel : 'info';
  return pino(
    { level: lowest, base, serializers },
    pino.multistream([
      { level: stdoutLevel, stream: pino.destination({ dest: 1, sync: true }) },
      { level: fileLevel, stream: await openLogFile(file) },
    ]),
  );
}

/**
 * The log file as a stream: pino-roll appends to the newest numbered file and, after a write that
 * takes it to `maxBytes`, moves on to the next number and deletes all but the newest `keep + 1`.
 */
export function openLogFile(file: LogFileOptions): ReturnType<typeof pinoRoll> {
  return pinoRoll({
    file: file.path,
    size: `${file.maxBytes}b`,
    limit: { count: file.keep + 1, removeOtherLogFiles: true },
    sync: true,
    mkdir: true,
  });
}

/**
 * `err` as pino writes it, except a failed query: that is logged by its shape and SQLSTATE, never
 * the data PostgreSQL quotes in its message and detail (see db/query-errors.ts).
 */
function serializeError(error: unknown): unknown {
  const query = loggableQueryError(error);
  if (query) return { type: (error as Error).constructor.name, ...query };
  return pino.stdSerializers.err(error as Error); // anything not an error passes as it is
}
