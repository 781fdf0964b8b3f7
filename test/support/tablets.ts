/**
 * The tablets of the whole-stack suites and benchmarks: each table's tablet has a device id of
 * its own, the same every time it is asked for, as a real tablet keeps the id it made once. So a
 * suite that logs a table in twice logs in as the same tablet; a second id would meet the
 * table's lease (409 TABLE_IN_USE).
 */
import { createHash } from 'node:crypto';

/** The device id of the tablet at the table labelled `label`: a UUID (v4 in form) of the label. */
export function tabletDevice(label: string | number): string {
  const hex = createHash('sha256').update(`tablet:${label}`).digest('hex');
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `4${hex.slice(13, 16)}`,
    `8${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}
