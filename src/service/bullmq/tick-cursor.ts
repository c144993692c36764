import type { Redis } from 'ioredis';

/**
 * How long a cursor outlives its last move. It lets a process that (re)creates a schedule know
 * which ticks were already fired while their runs have not yet ended (the store learns of a tick
 * only when its run ends); after a week without ticks the store's `last_scheduled_at` knows.
 */
const CURSOR_TTL_MS = 7 * 24 * 3600 * 1000;

/** Moves the cursor forward only; answers what it held before (nil when absent). */
const ADVANCE = `
local previous = redis.call('GET', KEYS[1])
if (not previous) or tonumber(previous) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return previous
`;

/** Sets the cursor only while it holds what the caller read ('' for absent). */
const COMPARE_AND_SET = `
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

interface CursorCommands {
  nightshiftAdvanceCursor(key: string, value: string, ttl: number): Promise<string | null>;
  nightshiftCompareAndSetCursor(
    key: string,
    expected: string,
    value: string,
    ttl: number,
  ): Promise<number>;
}

/**
 * Per agent, the newest tick accounted for cluster-wide. Workers move it as they take ticks, so
 * that a tick is counted once however many processes see it: a tick at or before the cursor was
 * dealt with, and ticks between the cursor and a newer one were never delivered (BullMQ skips
 * the slots it could not fire in time) and are missed.
 */
export class TickCursor {
  readonly #client: Promise<Redis & CursorCommands>;
  readonly #keyOf: (agentId: string) => string;

  /** `client`: the scheduler's connection, once ioredis is loaded. */
  constructor(client: Promise<Redis>, keyOf: (agentId: string) => string) {
    this.#client = client.then((redis) => {
      redis.defineCommand('nightshiftAdvanceCursor', { numberOfKeys: 1, lua: ADVANCE });
      redis.defineCommand('nightshiftCompareAndSetCursor', {
        numberOfKeys: 1,
        lua: COMPARE_AND_SET,
      });
      return redis as Redis & CursorCommands;
    });
    // The scheduler reports a failure to load; each use fails with the same error.
    this.#client.catch(() => undefined);
    this.#keyOf = keyOf;
  }

  /** The cursor as stored ('' when absent), for {@link compareAndSet}. */
  async read(agentId: string): Promise<string> {
    return (await (await this.#client).get(this.#keyOf(agentId))) ?? '';
  }

  /** Moves the cursor to `toMs` unless it is already there or beyond; returns where it was. */
  async advance(agentId: string, toMs: number): Promise<number | undefined> {
    const previous = await (
      await this.#client
    ).nightshiftAdvanceCursor(this.#keyOf(agentId), String(toMs), CURSOR_TTL_MS);
    return previous === null ? undefined : Number(previous);
  }

  /** Sets the cursor to `toMs` if it still holds `expected` (from {@link read}); true when set. */
  async compareAndSet(agentId: string, expected: string, toMs: number): Promise<boolean> {
    const set = await (
      await this.#client
    ).nightshiftCompareAndSetCursor(this.#keyOf(agentId), expected, String(toMs), CURSOR_TTL_MS);
    return set === 1;
  }
}
