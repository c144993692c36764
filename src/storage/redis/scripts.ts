import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { EVENT_FIELD } from './stream-entry.js';

/**
 * How long a write's receipt is kept. ioredis resends a command whose reply a dropped
 * connection lost, and gives up on it after its reconnection attempts (seconds); a
 * minute covers that with room to spare.
 */
const RECEIPT_TTL_MS = 60_000;

/**
 * Wraps a script body so each call is applied at most once. The caller passes a fresh
 * receipt key first: a resend of the same call finds the receipt and returns the first
 * outcome instead of writing again (a compare-and-set retried after its reply was lost
 * would otherwise apply its change twice). Bodies see their own keys and arguments from
 * `KEYS[1]` and `ARGV[1]`, and return a string.
 */
function applyOnce(body: string): string {
  return `
local receipt_key = table.remove(KEYS, 1)
local receipt_ttl = table.remove(ARGV, 1)
local receipt = redis.call('GET', receipt_key)
if receipt then return receipt end
local result = (function() ${body} end)()
redis.call('SET', receipt_key, result, 'PX', receipt_ttl)
return result
`;
}

/**
 * Sets a value only when it still holds what the caller read ('' for absent), and moves an
 * index member between sorted sets in the same step. It is the write half of every
 * read-modify-write: the change itself is computed in TypeScript by the rules every
 * backend shares, so Lua never re-encodes a record (cjson would round numbers and turn
 * empty arrays into objects).
 */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return '0' end
redis.call('SET', KEYS[1], ARGV[2])
local removals = tonumber(ARGV[4])
for index = 2, #KEYS do
  if index - 1 <= removals then
    redis.call('ZREM', KEYS[index], ARGV[3])
  else
    redis.call('ZADD', KEYS[index], 0, ARGV[3])
  end
end
return '1'
`;

/** Deletes a value and its entry in a sorted-set index. */
const DELETE_INDEXED = `
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return tostring(deleted)
`;

/** Appends values to a list, all in one step. */
const APPEND_ALL = `
for index = 1, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[index]) end
return '1'
`;

/** Appends a value to a list unless its id is already in the companion set. */
const APPEND_UNIQUE = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return '0' end
redis.call('RPUSH', KEYS[2], ARGV[2])
return '1'
`;

/** Replaces one list item only when it still holds what the caller read. */
const SET_LIST_ITEM_IF_UNCHANGED = `
if redis.call('LINDEX', KEYS[1], ARGV[1]) ~= ARGV[2] then return '0' end
redis.call('LSET', KEYS[1], ARGV[1], ARGV[3])
return '1'
`;

/**
 * Adds an event to the fleet stream, then to its agent's stream under the id the fleet
 * stream gave it, so one id names the event in both. Every id of an agent stream is a
 * fleet id, and each fleet id is larger than the last, so the explicit id is always new.
 */
const APPEND_EVENT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[2], '*', '${EVENT_FIELD}', ARGV[3])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], ARGV[2], id, '${EVENT_FIELD}', ARGV[3])
return id
`;

/** Sorted-set index entries to move along with a value. */
export interface IndexMove {
  member: string;
  /** Sets to take the member out of. */
  remove: readonly string[];
  /** Sets to put the member in (score 0: members sort by their bytes). */
  add: readonly string[];
}

/** How a stream is trimmed on each append. */
export interface StreamTrim {
  maxLength: number;
  /** `~` trims whole stream nodes (cheap, keeps a little more); `=` keeps exactly maxLength. */
  mode: '~' | '=';
}

/**
 * The writes of the Redis backend, each one Lua script (atomic, sent by EVALSHA) applied
 * at most once even when ioredis resends it after a dropped connection.
 */
export interface RedisScripts {
  /** Writes `next` when the key holds `expected` (null: when it is absent); false otherwise. */
  compareAndSet(
    key: string,
    expected: string | null,
    next: string,
    index?: IndexMove,
  ): Promise<boolean>;
  /** Deletes a value and its member in `indexKey`; false when there was no value. */
  deleteIndexed(key: string, indexKey: string, member: string): Promise<boolean>;
  /** Appends every value to a list, or (when the call fails) none. */
  appendAll(listKey: string, values: readonly string[]): Promise<void>;
  /** Appends `value` to `listKey` unless `id` is in `idsKey` already; false when it is. */
  appendUnique(idsKey: string, listKey: string, id: string, value: string): Promise<boolean>;
  /** Replaces item `position` of a list when it still holds `expected`; false otherwise. */
  setListItemIfUnchanged(
    listKey: string,
    position: number,
    expected: string,
    next: string,
  ): Promise<boolean>;
  /** Appends an event to both streams; returns its id. */
  appendEvent(fleetKey: string, agentKey: string, trim: StreamTrim, event: string): Promise<string>;
}

type ScriptMethod = (numberOfKeys: number, ...keysAndArguments: string[]) => Promise<unknown>;

/** Defines the backend's scripts on `client` (no round trip until one is called). */
export function defineScripts(client: Redis, keys: RedisKeys): RedisScripts {
  function define(name: string, body: string) {
    client.defineCommand(name, { lua: applyOnce(body) });
    // ioredis adds defined scripts as methods it cannot type.
    const method = (client as unknown as Record<string, ScriptMethod>)[name]!.bind(client);
    return async (scriptKeys: readonly string[], values: readonly string[]) => {
      const receipt = keys.receipt(randomUUID());
      const keysAndArguments = [receipt, ...scriptKeys, String(RECEIPT_TTL_MS), ...values];
      return String(await method(scriptKeys.length + 1, ...keysAndArguments));
    };
  }
  const compareAndSet = define('nightshiftCompareAndSet', COMPARE_AND_SET);
  const deleteIndexed = define('nightshiftDeleteIndexed', DELETE_INDEXED);
  const appendAll = define('nightshiftAppendAll', APPEND_ALL);
  const appendUnique = define('nightshiftAppendUnique', APPEND_UNIQUE);
  const setListItem = define('nightshiftSetListItemIfUnchanged', SET_LIST_ITEM_IF_UNCHANGED);
  const appendEvent = define('nightshiftAppendEvent', APPEND_EVENT);

  return {
    async compareAndSet(key, expected, next, index) {
      const remove = index?.remove ?? [];
      const add = index?.add ?? [];
      const written = await compareAndSet(
        [key, ...remove, ...add],
        [expected ?? '', next, index?.member ?? '', String(remove.length)],
      );
      return written === '1';
    },

    async deleteIndexed(key, indexKey, member) {
      return (await deleteIndexed([key, indexKey], [member])) === '1';
    },

    async appendAll(listKey, values) {
      await appendAll([listKey], values);
    },

    async appendUnique(idsKey, listKey, id, value) {
      return (await appendUnique([idsKey, listKey], [id, value])) === '1';
    },

    async setListItemIfUnchanged(listKey, position, expected, next) {
      return (await setListItem([listKey], [String(position), expected, next])) === '1';
    },

    async appendEvent(fleetKey, agentKey, trim, event) {
      return appendEvent([fleetKey, agentKey], [trim.mode, String(trim.maxLength), event]);
    },
  };
}
