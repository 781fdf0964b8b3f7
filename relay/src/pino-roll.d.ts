/** Types for pino-roll, which ships none: the options the relay uses, and the stream it opens. */
declare module 'pino-roll' {
  import type { SonicBoom, SonicBoomOpts } from 'sonic-boom';

  export interface PinoRollOptions extends Omit<SonicBoomOpts, 'dest' | 'fd'> {
    /** `dir/name.ext` is written as `dir/name.1.ext`, `dir/name.2.ext`, … (the newest last). */
    file: string;
    /** A file reaching this size is closed and the next begun: `'10m'`, `'512k'`, `'4096b'`. */
    size?: string | number;
    /** `count`: files kept, the current one included when `removeOtherLogFiles` is set. */
    limit?: { count: number; removeOtherLogFiles?: boolean };
  }

  /** Opens the newest numbered file (appending to it) and rolls over to the next by size. */
  export default function pinoRoll(options: PinoRollOptions): Promise<SonicBoom>;
}
