/**
 * How an id is written on the wire — a contract shared by the Worker, the relay and the tests.
 * Plain zod, so the relay can read it without the Worker's HTTP layer.
 */
import { z } from 'zod';

/**
 * Every id a request gives (path, query or body), as a uuid read in lower case: the database
 * compares uuids whatever their case, but cache keys, throttle buckets, tokens and the store's
 * hub name use the text, so an id has one spelling from the edge on. A malformed id is refused.
 */
export const Uuid = z.uuid().overwrite((id) => id.toLowerCase());
