import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BUDGET_DIMENSIONS } from '../contracts/budget-store.js';
import type { RedisKeys } from './keys.js';
import { EVENT_FIELD, TYPE_FIELD } from './stream-entry.js';

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
 * The compare-and-set every scripted read-modify-write ends with, as a Lua function. The
 * write's value key is `KEYS[k]`, then the index sets it leaves, then those it enters;
 * `ARGV[a]` onwards: the value the caller read ('' for absent), the next value, the index
 * member, how many sets it leaves, how many it enters. It sets the value only when the key
 * still holds what the caller read, moving the member in the same step, and answers whether
 * it did, then where the next write's keys and arguments start. The change itself is computed
 * in TypeScript by the rules every backend shares, so Lua never re-encodes a record (cjson
 * would round numbers and turn empty arrays into objects).
 */
const COMPARE_AND_SET_LUA = `
local function compare_and_set(k, a)
  local removals, additions = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local next_k, next_a = k + 1 + removals + additions, a + 5
  if (redis.call('GET', KEYS[k]) or '') ~= ARGV[a] then return false, next_k, next_a end
  redis.call('SET', KEYS[k], ARGV[a + 1])
  for index = 1, removals do redis.call('ZREM', KEYS[k + index], ARGV[a + 2]) end
  for index = 1, additions do redis.call('ZADD', KEYS[k + removals + index], 0, ARGV[a + 2]) end
  return true, next_k, next_a
end`;

/** One compare-and-set (see COMPARE_AND_SET_LUA): the write half of every read-modify-write. */
const COMPARE_AND_SET = `
${COMPARE_AND_SET_LUA}
return compare_and_set(1, 1) and '1' or '0'
`;

/**
 * Compare-and-sets in a row: the first; only when it applied, each of the others, each on its
 * own. Answers a '1' or '0' per write, in order ('0' alone when the first did not apply).
 */
const COMPARE_AND_SET_CHAIN = `
${COMPARE_AND_SET_LUA}
local applied, k, a = compare_and_set(1, 1)
if not applied then return '0' end
local answers = {'1'}
while k <= #KEYS do
  applied, k, a = compare_and_set(k, a)
  answers[#answers + 1] = applied and '1' or '0'
end
return table.concat(answers)
`;

/**
 * The lease rule of the Redis backend (`acquireSlot` of `lease-rules.ts`, which the other
 * backends apply), as a Lua function: the slot at `KEYS[k]` after the holder `ARGV[a]` acquires
 * it at `ARGV[a + 1]` (ms). Held by another (taken, not expired): false, nothing written. Held
 * by the same holder: its token is kept; else the token grows by one. Written as
 * `ARGV[a + 2] .. token .. ARGV[a + 3]` (the caller's JSON around the token, so Lua never
 * encodes it); answers the value written.
 */
const ACQUIRE_SLOT_LUA = `
local function acquire_slot(k, a)
  local holder, now = ARGV[a], tonumber(ARGV[a + 1])
  local current = redis.call('GET', KEYS[k])
  local token = 1
  if current then
    local slot = cjson.decode(current)
    if slot.holder ~= cjson.null and slot.expires_at > now then
      if slot.holder ~= holder then return false end
      token = slot.token
    else
      token = slot.token + 1
    end
  end
  local value = ARGV[a + 2] .. string.format('%d', token) .. ARGV[a + 3]
  redis.call('SET', KEYS[k], value)
  return value
end`;

/** Acquires a lease slot (see ACQUIRE_SLOT_LUA): 'A' and the slot written, or 'H' (held). */
const ACQUIRE_LEASE = `
${ACQUIRE_SLOT_LUA}
local value = acquire_slot(1, 1)
if not value then return 'H' end
return 'A' .. value
`;

/**
 * Inserts a run with the lease it takes. KEYS: the lease slot, then the run's insert (a
 * compare-and-set from absent, with its index sets). ARGV: the slot's acquisition, then the
 * insert's. A run that exists answers 'E' and one held by another 'H', writing nothing; else
 * both are written, answering 'C' and the slot written.
 */
const CLAIM_LEASED = `
${ACQUIRE_SLOT_LUA}
${COMPARE_AND_SET_LUA}
if redis.call('EXISTS', KEYS[2]) == 1 then return 'E' end
local value = acquire_slot(1, 1)
if not value then return 'H' end
compare_and_set(2, 5)
return 'C' .. value
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

/**
 * Appends a value to a list unless its id is already in the companion set; returns the list's
 * new length ('0': the id was there).
 */
const APPEND_UNIQUE = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return '0' end
return tostring(redis.call('RPUSH', KEYS[2], ARGV[2]))
`;

/** Removes up to ARGV[2] items from a list's head, keeping at least its newest ARGV[1]. */
const TRIM_LIST_HEAD = `
local excess = redis.call('LLEN', KEYS[1]) - tonumber(ARGV[1])
local due = math.min(excess, tonumber(ARGV[2]))
if due <= 0 then return '0' end
redis.call('LTRIM', KEYS[1], due, -1)
return tostring(due)
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
/**
 * Appends a batch of events to the fleet stream and each to its agent's stream, in the order
 * given. KEYS: the fleet stream, then each event's agent stream. ARGV: the trim mode and
 * length, then per event its type and its JSON. Returns the ids, space-separated. The type is
 * a field of its own, so a reader can pass over events nobody listens to without decoding them.
 */
const APPEND_EVENTS = `
local ids = {}
for index = 2, #KEYS do
  local at = 3 + (index - 2) * 2
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[2], '*',
    '${TYPE_FIELD}', ARGV[at], '${EVENT_FIELD}', ARGV[at + 1])
  redis.call('XADD', KEYS[index], 'MAXLEN', ARGV[1], ARGV[2], id,
    '${TYPE_FIELD}', ARGV[at], '${EVENT_FIELD}', ARGV[at + 1])
  ids[#ids + 1] = id
end
return table.concat(ids, ' ')
`;

/**
 * The budget dimensions as a Lua table, in {@link BUDGET_DIMENSIONS} order. Amounts travel
 * and are written as decimal text (HINCRBY takes it as a 64-bit integer); Lua compares them
 * as doubles, exact for the whole numbers a budget holds, as in JavaScript.
 */
const BUDGET_DIMENSIONS_LUA = `local dims = {${BUDGET_DIMENSIONS.map((dimension) => `'${dimension}'`).join(', ')}}
local dimensions = #dims`;

/**
 * Holds a budget amount against every counter, or against none. KEYS: the hold, the run's set
 * of hold ids, then the counters. ARGV: the hold (JSON), its id, the amounts, the number of
 * lines, per line its counter (1 for the first) and its limits ('' where none), then per
 * counter its `resets_at` and when it may be dropped (ms). An id already held answers with
 * that hold; a line it would cross answers `R<line> <dimension> <spent> <held> <granted>`
 * (the first, in the order given, and its first dimension); else it holds and answers with
 * the hold.
 */
const HOLD_BUDGET = `
${BUDGET_DIMENSIONS_LUA}
local existing = redis.call('GET', KEYS[1])
if existing then return 'H' .. existing end
local at = 4 + dimensions
for line = 1, tonumber(ARGV[3 + dimensions]) do
  local key = KEYS[2 + tonumber(ARGV[at])]
  for index = 1, dimensions do
    local limit = ARGV[at + index]
    if limit ~= '' then
      local dim = dims[index]
      local counter = redis.call('HMGET', key, 'spent_' .. dim, 'held_' .. dim, 'granted_' .. dim)
      local spent, held, granted = counter[1] or '0', counter[2] or '0', counter[3] or '0'
      if tonumber(spent) + tonumber(held) + tonumber(ARGV[2 + index])
          > tonumber(limit) + tonumber(granted) then
        return 'R' .. line .. ' ' .. index .. ' ' .. spent .. ' ' .. held .. ' ' .. granted
      end
    end
  end
  at = at + 1 + dimensions
end
for counter = 3, #KEYS do
  local key = KEYS[counter]
  if redis.call('HSETNX', key, 'resets_at', ARGV[at]) == 1 then
    redis.call('PEXPIREAT', key, ARGV[at + 1])
  end
  for index = 1, dimensions do
    local amount = ARGV[2 + index]
    if amount ~= '0' then redis.call('HINCRBY', key, 'held_' .. dims[index], amount) end
  end
  at = at + 2
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 'H' .. ARGV[1]
`;

/**
 * Ends a hold, if it is still the one the caller read. KEYS: the hold, the run's set of hold
 * ids, then its counters. ARGV: the hold as read (JSON), its id, its amounts, then what to add
 * to `spent`. Answers '0' when there is no hold, 'C' when it is not the one read. A counter
 * gone meanwhile (dropped when its window was long over) is not made again.
 */
const SETTLE_BUDGET = `
${BUDGET_DIMENSIONS_LUA}
local current = redis.call('GET', KEYS[1])
if not current then return '0' end
if current ~= ARGV[1] then return 'C' end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
for counter = 3, #KEYS do
  local key = KEYS[counter]
  if redis.call('EXISTS', key) == 1 then
    for index = 1, dimensions do
      local held = ARGV[2 + index]
      if held ~= '0' then redis.call('HINCRBY', key, 'held_' .. dims[index], '-' .. held) end
      local spent = ARGV[2 + dimensions + index]
      if spent ~= '0' then redis.call('HINCRBY', key, 'spent_' .. dims[index], spent) end
    end
  end
end
return '1'
`;

/**
 * Grants budget: adds to a counter's granted amounts, creating it when absent, and appends the
 * grant to the ledger; a grant id in the ledger already changes nothing. KEYS: the counter, the
 * ledger (a sorted set of grant ids), the grant, the grants still to expire (a sorted set).
 * ARGV: the counter's `resets_at`, when it may be dropped (ms), the grant (JSON), its id, its
 * `granted_at` (ms), its `expires_at` (ms; '' for none), the amounts, then the counter's
 * fields to answer with. Answers with those fields (see BUDGET_COUNTER_FIELDS) as a JSON array
 * of strings (false where unset). The counter is written first: an amount HINCRBY refuses (past
 * 64 bits) leaves no grant in the ledger. The ledger and the grant never expire.
 */
const GRANT_BUDGET = `
${BUDGET_DIMENSIONS_LUA}
if redis.call('EXISTS', KEYS[3]) == 0 then
  if redis.call('HSETNX', KEYS[1], 'resets_at', ARGV[1]) == 1 then
    redis.call('PEXPIREAT', KEYS[1], ARGV[2])
  end
  for index = 1, dimensions do
    local amount = ARGV[6 + index]
    if amount ~= '0' then redis.call('HINCRBY', KEYS[1], 'granted_' .. dims[index], amount) end
  end
  redis.call('SET', KEYS[3], ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
  if ARGV[6] ~= '' then redis.call('ZADD', KEYS[4], ARGV[6], ARGV[4]) end
end
return cjson.encode(redis.call('HMGET', KEYS[1], unpack(ARGV, 7 + dimensions)))
`;

/**
 * Expires one grant, once: taking its id out of the grants still to expire is the guard, so of
 * sweeps racing on it only the first changes anything. KEYS: the grants still to expire, the
 * grant, its counter. ARGV: the grant's id, the grant as it is now (JSON, `expired_at` set),
 * '1' to take its amounts out of the counter's granted ones ('0' for a grant that lapsed with
 * its window), then the amounts. Each granted amount drops by the grant's, never below 0; a
 * counter gone meanwhile is not made again. Answers '1' when it expired the grant, '0' when it
 * was expired already.
 */
const EXPIRE_BUDGET_GRANT = `
${BUDGET_DIMENSIONS_LUA}
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return '0' end
redis.call('SET', KEYS[2], ARGV[2])
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then
  for index = 1, dimensions do
    local amount = ARGV[3 + index]
    if amount ~= '0' then
      local field = 'granted_' .. dims[index]
      local granted = redis.call('HGET', KEYS[3], field) or '0'
      if tonumber(granted) >= tonumber(amount) then
        redis.call('HINCRBY', KEYS[3], field, '-' .. amount)
      else
        redis.call('HSET', KEYS[3], field, '0')
      end
    end
  end
end
return '1'
`;

/** The fields of a budget counter hash, in the order reads return them. */
export const BUDGET_COUNTER_FIELDS: readonly string[] = [
  'resets_at',
  ...['spent', 'held', 'granted'].flatMap((kind) =>
    BUDGET_DIMENSIONS.map((dimension) => `${kind}_${dimension}`),
  ),
];

/** One line of a budget hold, as {@link RedisScripts.holdBudget} checks it. */
export interface BudgetScriptLine {
  /** The place of its counter in `counterKeys` (0 for the first). */
  counter: number;
  /** Its limit of each dimension, in {@link BUDGET_DIMENSIONS} order ('' where none). */
  limits: readonly string[];
}

/** What {@link RedisScripts.holdBudget} is asked; amounts are decimal text, in dimension order. */
export interface BudgetHoldRequest {
  holdKey: string;
  runHoldsKey: string;
  /** Every counter the hold writes, each once. */
  counterKeys: readonly string[];
  /** The hold record, as stored. */
  hold: string;
  holdId: string;
  amounts: readonly string[];
  lines: readonly BudgetScriptLine[];
  /** Of each counter in `counterKeys`: its window's end and when it may be dropped (ms). */
  counters: readonly { resetsAt: string; dropAfter: number }[];
}

/** What {@link RedisScripts.grantBudget} is asked; amounts are decimal text, in dimension order. */
export interface BudgetGrantRequest {
  counterKey: string;
  ledgerKey: string;
  grantKey: string;
  /** The grants still to expire: a grant with `expiresAtMs` joins it. */
  expiriesKey: string;
  /** The grant record, as stored. */
  grant: string;
  grantId: string;
  /** Its `granted_at`, in ms since the epoch: its score in the ledger. */
  grantedAtMs: number;
  /** Its `expires_at`, in ms since the epoch (its score among those to expire); null for none. */
  expiresAtMs: number | null;
  amounts: readonly string[];
  /** The counter's window end, and when it may be dropped (ms), should the grant create it. */
  resetsAt: string;
  dropAfter: number;
}

/** What {@link RedisScripts.expireBudgetGrant} is asked; amounts are decimal text, in dimension order. */
export interface BudgetExpiryRequest {
  expiriesKey: string;
  grantKey: string;
  counterKey: string;
  grantId: string;
  /** The grant record as it is once expired (`expired_at` set). */
  grant: string;
  /** Take `amounts` out of the counter's granted ones (it expired before its window ended). */
  ungrant: boolean;
  amounts: readonly string[];
}

/**
 * What {@link RedisScripts.holdBudget} did: held (now, or earlier under the same id), or
 * refused at a line (0 for the first) and dimension (its place in {@link BUDGET_DIMENSIONS}),
 * with that counter's amounts in that dimension as decimal text.
 */
export type BudgetHoldReply =
  | { held: true; hold: string }
  | {
      held: false;
      line: number;
      dimension: number;
      spent: string;
      heldNow: string;
      granted: string;
    };

/** Sorted-set index entries to move along with a value. */
export interface IndexMove {
  member: string;
  /** Sets to take the member out of. */
  remove: readonly string[];
  /** Sets to put the member in (score 0: members sort by their bytes). */
  add: readonly string[];
}

/**
 * One compare-and-set: `next` written at `key` when it holds `expected` (null: when it is
 * absent), moving `index` with it.
 */
export interface CompareAndSetWrite {
  key: string;
  expected: string | null;
  next: string;
  index?: IndexMove;
}

/**
 * A lease slot's acquisition by `holder` at `now` (ms), under the rule the scripts apply. The
 * token is the script's to choose, so the slot it writes is `before`, the token, `after`.
 */
export interface SlotAcquisition {
  /** The slot's key. */
  key: string;
  holder: string;
  now: number;
  before: string;
  after: string;
}

/** What {@link RedisScripts.claimLeased} did; `slot` is the lease slot as written. */
export type LeasedClaimReply =
  { outcome: 'claimed'; slot: string } | { outcome: 'exists' } | { outcome: 'lease_held' };

/** How a stream is trimmed on each append. */
/** One event to append: its agent's stream, its type and its JSON. */
export interface StreamEvent {
  agentKey: string;
  type: string;
  value: string;
}

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
  /**
   * Applies `first` as {@link RedisScripts.compareAndSet} does and, only when it applied, each
   * of `then` on its own: whether each applied, `first`'s first.
   */
  compareAndSetChain(
    first: CompareAndSetWrite,
    then: readonly CompareAndSetWrite[],
  ): Promise<boolean[]>;
  /** Acquires a lease slot: the slot as written, or undefined when another holder has it. */
  acquireSlot(acquisition: SlotAcquisition): Promise<string | undefined>;
  /**
   * Inserts a run (`run`: a compare-and-set from absent) with the lease slot it acquires, or
   * writes nothing: when the run exists (judged first), or another holder has the slot.
   */
  claimLeased(run: CompareAndSetWrite, slot: SlotAcquisition): Promise<LeasedClaimReply>;
  /** Deletes a value and its member in `indexKey`; false when there was no value. */
  deleteIndexed(key: string, indexKey: string, member: string): Promise<boolean>;
  /** Appends every value to a list, or (when the call fails) none. */
  appendAll(listKey: string, values: readonly string[]): Promise<void>;
  /**
   * Appends `value` to `listKey` unless `id` is in `idsKey` already: the position it took, or
   * undefined when the id was there.
   */
  appendUnique(
    idsKey: string,
    listKey: string,
    id: string,
    value: string,
  ): Promise<number | undefined>;
  /** Removes up to `limit` of a list's oldest items beyond its newest `keep`; returns how many. */
  trimListHead(listKey: string, keep: number, limit: number): Promise<number>;
  /** Replaces item `position` of a list when it still holds `expected`; false otherwise. */
  setListItemIfUnchanged(
    listKey: string,
    position: number,
    expected: string,
    next: string,
  ): Promise<boolean>;
  /** Appends events, in order, to the fleet stream and each to its agent's; returns their ids. */
  appendEvents(
    fleetKey: string,
    trim: StreamTrim,
    events: readonly StreamEvent[],
  ): Promise<string[]>;
  /** Holds a budget amount against every counter of a hold, or refuses and changes nothing. */
  holdBudget(request: BudgetHoldRequest): Promise<BudgetHoldReply>;
  /**
   * Ends the hold at `holdKey` if it still holds `expected`: its `amounts` leave `held` and
   * `spent` is added, on each counter. 'settled', 'absent', or 'changed' (not the hold read).
   */
  settleBudget(
    holdKey: string,
    runHoldsKey: string,
    counterKeys: readonly string[],
    expected: string,
    holdId: string,
    amounts: readonly string[],
    spent: readonly string[],
  ): Promise<'settled' | 'absent' | 'changed'>;
  /**
   * Adds `request.amounts` to a counter's granted amounts, creating it with `resetsAt` when
   * absent, and appends the grant to the ledger; nothing when its id is there already. Returns
   * the counter's {@link BUDGET_COUNTER_FIELDS} after (null where unset).
   */
  grantBudget(request: BudgetGrantRequest): Promise<(string | null)[]>;
  /**
   * Expires one grant if it is still to expire: writes `request.grant` and, with `ungrant`, takes
   * its amounts out of the counter's granted ones (never below 0). False when it was expired
   * already (by a racing sweep): nothing changes then.
   */
  expireBudgetGrant(request: BudgetExpiryRequest): Promise<boolean>;
}

/** A compare-and-set's keys and arguments, as COMPARE_AND_SET_LUA reads them. */
function writeParts(write: CompareAndSetWrite): { keys: string[]; values: string[] } {
  const remove = write.index?.remove ?? [];
  const add = write.index?.add ?? [];
  return {
    keys: [write.key, ...remove, ...add],
    values: [
      write.expected ?? '',
      write.next,
      write.index?.member ?? '',
      String(remove.length),
      String(add.length),
    ],
  };
}

/** A slot acquisition's keys and arguments, as ACQUIRE_SLOT_LUA reads them. */
function slotParts(acquisition: SlotAcquisition): { keys: string[]; values: string[] } {
  return {
    keys: [acquisition.key],
    values: [acquisition.holder, String(acquisition.now), acquisition.before, acquisition.after],
  };
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
  const compareAndSetChain = define('nightshiftCompareAndSetChain', COMPARE_AND_SET_CHAIN);
  const acquireSlot = define('nightshiftAcquireLease', ACQUIRE_LEASE);
  const claimLeased = define('nightshiftClaimLeased', CLAIM_LEASED);
  const deleteIndexed = define('nightshiftDeleteIndexed', DELETE_INDEXED);
  const appendAll = define('nightshiftAppendAll', APPEND_ALL);
  const appendUnique = define('nightshiftAppendUnique', APPEND_UNIQUE);
  const setListItem = define('nightshiftSetListItemIfUnchanged', SET_LIST_ITEM_IF_UNCHANGED);
  const trimListHead = define('nightshiftTrimListHead', TRIM_LIST_HEAD);
  const appendEvents = define('nightshiftAppendEvents', APPEND_EVENTS);
  const holdBudget = define('nightshiftHoldBudget', HOLD_BUDGET);
  const settleBudget = define('nightshiftSettleBudget', SETTLE_BUDGET);
  const grantBudget = define('nightshiftGrantBudget', GRANT_BUDGET);
  const expireBudgetGrant = define('nightshiftExpireBudgetGrant', EXPIRE_BUDGET_GRANT);

  return {
    async compareAndSet(key, expected, next, index) {
      const write = writeParts({ key, expected, next, index });
      return (await compareAndSet(write.keys, write.values)) === '1';
    },

    async compareAndSetChain(first, then) {
      const writes = [first, ...then].map(writeParts);
      const answers = await compareAndSetChain(
        writes.flatMap((write) => write.keys),
        writes.flatMap((write) => write.values),
      );
      return writes.map((_write, position) => answers[position] === '1');
    },

    async acquireSlot(acquisition) {
      const slot = slotParts(acquisition);
      const reply = await acquireSlot(slot.keys, slot.values);
      return reply.startsWith('A') ? reply.slice(1) : undefined;
    },

    async claimLeased(run, acquisition) {
      const slot = slotParts(acquisition);
      const insert = writeParts(run);
      const reply = await claimLeased(
        [...slot.keys, ...insert.keys],
        [...slot.values, ...insert.values],
      );
      if (reply.startsWith('C')) return { outcome: 'claimed', slot: reply.slice(1) };
      return { outcome: reply === 'E' ? 'exists' : 'lease_held' };
    },

    async deleteIndexed(key, indexKey, member) {
      return (await deleteIndexed([key, indexKey], [member])) === '1';
    },

    async appendAll(listKey, values) {
      await appendAll([listKey], values);
    },

    async appendUnique(idsKey, listKey, id, value) {
      const length = Number(await appendUnique([idsKey, listKey], [id, value]));
      return length > 0 ? length - 1 : undefined;
    },

    async trimListHead(listKey, keep, limit) {
      return Number(await trimListHead([listKey], [String(keep), String(limit)]));
    },

    async setListItemIfUnchanged(listKey, position, expected, next) {
      return (await setListItem([listKey], [String(position), expected, next])) === '1';
    },

    async appendEvents(fleetKey, trim, events) {
      const ids = await appendEvents(
        [fleetKey, ...events.map((event) => event.agentKey)],
        [
          trim.mode,
          String(trim.maxLength),
          ...events.flatMap((event) => [event.type, event.value]),
        ],
      );
      return ids.split(' ');
    },

    async holdBudget(request) {
      const reply = await holdBudget(
        [request.holdKey, request.runHoldsKey, ...request.counterKeys],
        [
          request.hold,
          request.holdId,
          ...request.amounts,
          String(request.lines.length),
          ...request.lines.flatMap((line) => [String(line.counter + 1), ...line.limits]),
          ...request.counters.flatMap((counter) => [counter.resetsAt, String(counter.dropAfter)]),
        ],
      );
      if (reply.startsWith('H')) return { held: true, hold: reply.slice(1) };
      const [line = '', dimension = '', spent = '', heldNow = '', granted = ''] = reply
        .slice(1)
        .split(' ');
      return {
        held: false,
        line: Number(line) - 1,
        dimension: Number(dimension) - 1,
        spent,
        heldNow,
        granted,
      };
    },

    async settleBudget(holdKey, runHoldsKey, counterKeys, expected, holdId, amounts, spent) {
      const reply = await settleBudget(
        [holdKey, runHoldsKey, ...counterKeys],
        [expected, holdId, ...amounts, ...spent],
      );
      return reply === '1' ? 'settled' : reply === '0' ? 'absent' : 'changed';
    },

    async grantBudget(request) {
      const reply = await grantBudget(
        [request.counterKey, request.ledgerKey, request.grantKey, request.expiriesKey],
        [
          request.resetsAt,
          String(request.dropAfter),
          request.grant,
          request.grantId,
          String(request.grantedAtMs),
          request.expiresAtMs === null ? '' : String(request.expiresAtMs),
          ...request.amounts,
          ...BUDGET_COUNTER_FIELDS,
        ],
      );
      // An unset field is false in Lua, which cjson writes as false.
      return (JSON.parse(reply) as (string | false)[]).map((value) =>
        value === false ? null : value,
      );
    },

    async expireBudgetGrant(request) {
      const reply = await expireBudgetGrant(
        [request.expiriesKey, request.grantKey, request.counterKey],
        [request.grantId, request.grant, request.ungrant ? '1' : '0', ...request.amounts],
      );
      return reply === '1';
    },
  };
}
