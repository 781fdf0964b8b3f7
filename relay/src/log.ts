import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { pino, type Level, type Logger } from 'pino';
import { loggableQueryError } from '../../db/query-errors.ts';

/** Where the relay also keeps its log: a file, rotated by size. */
export interface LogFileOptions {
  path: string;
  /** A file reaching this size is renamed `<path>.1` (older ones shift up) and a new one begun. */
  maxBytes: number;
  /** Rotated files kept besides the current one; older ones are deleted. */
  keep: number;
}

/**
 * The relay's logger: JSON lines on stdout at `level` and, with `file`, the same lines at INFO and
 * above in a size-rotated file (for hosts without a log collector). Writes are synchronous, so a
 * line logged just before `process.exit` is not lost. A failed query's data never reaches it.
 */
export function createLogger(level: string, file?: LogFileOptions): Logger {
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
      { level: fileLevel, stream: new RotatingFile(file) },
    ]),
  );
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

/** An append-only file that rotates itself once a line would take it past `maxBytes`. */
export class RotatingFile {
  #options: LogFileOptions;
  #fd: number;
  #size: number;

  constructor(options: LogFileOptions) {
    this.#options = options;
    this.#fd = openSync(options.path, 'a');
    this.#size = fstatSync(this.#fd).size;
  }

  write(line: string): boolean {
    const bytes = Buffer.byteLength(line);
    if (this.#size > 0 && this.#size + bytes > this.#options.maxBytes) this.#rotate();
    writeSync(this.#fd, line);
    this.#size += bytes;
    return true;
  }

  #rotate(): void {
    closeSync(this.#fd);
    const { path, keep } = this.#options;
    if (keep === 0) {
      rmSync(path, { force: true });
    } else {
      rmSync(`${path}.${keep}`, { force: true });
      for (let n = keep - 1; n >= 1; n -= 1) {
        if (existsSync(`${path}.${n}`)) renameSync(`${path}.${n}`, `${path}.${n + 1}`);
      }
      renameSync(path, `${path}.1`);
    }
    this.#fd = openSync(path, 'a');
    this.#size = 0;
  }
}
