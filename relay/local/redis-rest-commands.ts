/**
 * The Redis side of the dev-only REST bridge (see redis-rest-bridge.ts): checks the commands of a
 * request, runs them on ioredis with replies left exactly as Redis sent them, and encodes those
 * replies the way the Upstash client reads them.
 */
import { createHash } from 'node:crypto';
import { Command, ReplyError } from 'ioredis';
import type { Pipeline, Redis } from 'ioredis';

export type RedisCommand = [string, ...(string | number)[]];
export type Encoded = string | number | null | Encoded[];
export type Outcome = { result: Encoded } | { error: string };

/** A request the bridge refuses; `status` and `message` become the HTTP answer. */
export class BridgeError extends Error {
  override name = 'BridgeError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Commands that would change the state of the one connection every request shares. */
const CONNECTION_COMMANDS = new Set([
  ...['AUTH', 'CLIENT', 'HELLO', 'MONITOR', 'QUIT', 'RESET', 'SELECT'],
  ...['MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH'],
  ...['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE'],
]);

/**
 * Commands that reach keys by pattern or the whole database rather than by name: under a key
 * prefix they would read or wipe the other stacks' keys, so a prefixed bridge refuses them.
 */
const KEYSPACE_COMMANDS = new Set([
  'KEYS',
  'SCAN',
  'RANDOMKEY',
  'DBSIZE',
  'FLUSHDB',
  'FLUSHALL',
  'SWAPDB',
]);

/** Upstash's shebang flag (lock only the script's KEYS); upstream Redis rejects unknown flags. */
const UPSTASH_SCRIPT_FLAG = 'allow-key-locking';
/** SHA1 of a script as the client sent it → SHA1 of the script Redis really cached. */
const cachedScriptShas = new Map<string, string>();
const OK = Buffer.from('OK');

/**
 * A command whose reply is passed on as Redis sent it: ioredis reshapes some replies by command
 * name (HGETALL into an object, …), while Upstash answers the plain RESP2 arrays.
 */
class RawCommand extends Command {
  override transformReply(reply: Buffer | Buffer[]): Buffer | Buffer[] {
    return reply;
  }
}

/**
 * How one request's commands are run: `keyPrefix` goes in front of every key they name ('' for
 * none), `base64` says how string replies are sent back.
 */
export type Framing = { keyPrefix: string; base64: boolean };

/** Runs one command; a Redis error reply rejects with ioredis' `ReplyError`. */
export async function runSingle(redis: Redis, body: unknown, framing: Framing): Promise<Outcome> {
  const command = toRawCommand(toCommand(body, framing.keyPrefix), framing.keyPrefix);
  redis.sendCommand(command);
  return { result: encode(await command.promise, framing.base64) };
}

/**
 * Runs commands in one round trip, as a plain pipeline or as MULTI/EXEC (`redis.multi()`).
 * A failed command becomes its own `{ error }`; a failed connection rejects the whole batch.
 */
export async function runBatch(batch: Pipeline, body: unknown, framing: Framing) {
  if (!Array.isArray(body) || body.length === 0) {
    throw new BridgeError(400, 'ERR expected a non-empty JSON array of commands');
  }
  const commands = body.map((command) => toCommand(command, framing.keyPrefix));
  for (const command of commands) batch.sendCommand(toRawCommand(command, framing.keyPrefix));
  const replies = await batch.exec();
  if (replies === null) throw new BridgeError(400, 'EXECABORT Transaction aborted');
  return replies.map(([error, reply]): Outcome => {
    if (!error) return { result: encode(reply, framing.base64) };
    if (error instanceof ReplyError) return { error: error.message };
    throw error;
  });
}

function toCommand(value: unknown, keyPrefix: string): RedisCommand {
  const valid =
    Array.isArray(value) &&
    typeof value[0] === 'string' &&
    value.every((arg) => typeof arg === 'string' || typeof arg === 'number');
  if (!valid) {
    throw new BridgeError(400, 'ERR expected a command as a JSON array, e.g. ["SET","k","v"]');
  }
  const command = value as RedisCommand;
  const name = command[0].toUpperCase();
  if (CONNECTION_COMMANDS.has(name)) {
    throw new BridgeError(400, `ERR ${command[0]} is not supported by the REST bridge`);
  }
  if (keyPrefix !== '' && KEYSPACE_COMMANDS.has(name)) {
    throw new BridgeError(400, `ERR ${command[0]} is not supported with a key prefix`);
  }
  return withUpstreamScripts(command);
}

/**
 * ioredis puts `keyPrefix` in front of the arguments its command table marks as keys: the key of
 * GET, SET, INCR, EXPIRE, every key of DEL, and the KEYS of EVAL and EVALSHA (after numkeys).
 */
function toRawCommand([name, ...args]: RedisCommand, keyPrefix: string): RawCommand {
  return new RawCommand(name, args, { keyPrefix });
}

/**
 * Drops Upstash's script flag so upstream Redis accepts the script (EVAL, EVAL_RO, SCRIPT LOAD),
 * and remembers the changed SHA1 so that EVALSHA with the client's own hash still finds it —
 * @upstash/ratelimit tries EVALSHA first and only falls back to EVAL on NOSCRIPT.
 */
function withUpstreamScripts(command: RedisCommand): RedisCommand {
  const name = command[0].toUpperCase();
  if (name === 'EVALSHA' || name === 'EVALSHA_RO') {
    const cached = cachedScriptShas.get(String(command[1]).toLowerCase());
    return cached === undefined ? command : [command[0], cached, ...command.slice(2)];
  }
  const isLoad = name === 'SCRIPT' && String(command[1]).toUpperCase() === 'LOAD';
  const at = name === 'EVAL' || name === 'EVAL_RO' ? 1 : isLoad ? 2 : 0;
  const script = command[at];
  if (at === 0 || typeof script !== 'string') return command;
  const upstream = script.replace(/^#!lua\b[^\n]*/, (shebang) =>
    shebang
      .replace(/flags=(\S*)/, (_, flags: string) => {
        const kept = flags.split(',').filter((flag) => flag !== UPSTASH_SCRIPT_FLAG);
        return kept.length > 0 ? `flags=${kept.join(',')}` : '';
      })
      .trimEnd(),
  );
  if (upstream === script) return command;
  cachedScriptShas.set(sha1(script), sha1(upstream));
  return command.with(at, upstream) as RedisCommand;
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/**
 * Bulk and simple strings both arrive as Buffers. "OK" stays plain as Upstash sends it (the client
 * maps both "OK" and its base64 to "OK"); every other string is base64, because the client
 * base64-decodes every string but "OK" — a plain "PONG" would come out garbled.
 */
function encode(reply: unknown, base64: boolean): Encoded {
  if (reply === null || typeof reply === 'number') return reply;
  if (Array.isArray(reply)) return reply.map((item) => encode(item, base64));
  const bytes = Buffer.isBuffer(reply)
    ? reply
    : Buffer.from(reply instanceof Error ? reply.message : String(reply));
  return base64 && !bytes.equals(OK) ? bytes.toString('base64') : bytes.toString('utf8');
}
