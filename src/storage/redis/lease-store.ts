import type { Lease, LeaseStore } from '../contracts/lease-store.js';
import { holdsSlot, leaseOf, type LeaseSlot } from '../lease-rules.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';
import { KnownValues } from './known-values.js';
import { sendPrepared, type PreparedWrite } from './prepared-write.js';
import type { SlotAcquisition } from './scripts.js';

/** The most leases a lease store remembers holding. */
const HELD_LEASES_KEPT = 10_000;

/** A lease slot's acquisition, and what it leaves the store knowing once the script wrote it. */
export interface PreparedAcquisition {
  request: SlotAcquisition;
  /** Takes the slot the script wrote: remembers it as held, and answers the lease. */
  acquired(slot: string): Lease;
}

/** The lease writes a run's phases send along with others (see `run-phases.ts`). */
export interface RedisLeaseWrites {
  /** `holder` acquiring `key` now, for `ttlMs` (the rule is the scripts', ACQUIRE_SLOT_LUA). */
  acquisition(key: string, holder: string, ttlMs: number): PreparedAcquisition;
  /**
   * Giving the lease up, as a compare-and-set on the slot as this store wrote it, when it
   * remembers holding it with `token` (forgotten from now on); undefined otherwise, when
   * `release` is to judge it on a read.
   */
  guessedRelease(key: string, holder: string, token: number): PreparedWrite<boolean> | undefined;
}

/** A Redis {@link LeaseStore}, with the writes it prepares for a run's phases. */
export interface RedisLeaseStore {
  store: LeaseStore;
  writes: RedisLeaseWrites;
}

/**
 * A {@link LeaseStore} in Redis: one JSON slot per key, acquired by a script applying the
 * acquire rule, renewed and released by compare-and-set under the rules every backend shares.
 * Slots carry no Redis expiry: a freed or expired slot stays, so the next acquisition's
 * fencing token still grows past every earlier one. Expiry is judged by each process's wall
 * clock, as in the other backends, so processes sharing a Redis should keep their clocks in
 * sync (NTP).
 */
export function createRedisLeaseStore(
  connection: RedisConnection,
  keys: RedisKeys,
): RedisLeaseStore {
  /**
   * Slots this process holds, as it wrote them: renewing or releasing one sends no read first
   * (the compare-and-set still checks it).
   */
  const held = new KnownValues(HELD_LEASES_KEPT);

  function readValue(key: string): Promise<string | null> {
    return connection.run((client) => client.get(keys.lease(key)));
  }

  function slotOf(value: string | null): LeaseSlot | undefined {
    return value === null ? undefined : (JSON.parse(value) as LeaseSlot);
  }

  /** Remembers a slot this process wrote while it holds it. */
  function rememberSlot(key: string, value: string, slot: LeaseSlot): void {
    if (slot.holder === null) held.forget(key);
    else held.remember(key, value);
  }

  /** For each try: the slot as this process wrote it when it holds it, on the first; else read. */
  function heldThenRead(key: string) {
    const next = held.firstThenRead(key, () => readValue(key));
    return async () => {
      const { value, guessed } = await next();
      return { value, slot: slotOf(value), guessed };
    };
  }

  /** The write of `next` over the slot `expected`; once applied, it answers true. */
  function slotWrite(key: string, expected: string | null, next: LeaseSlot): PreparedWrite<true> {
    const value = JSON.stringify(next);
    return {
      write: { key: keys.lease(key), expected, next: value },
      applied() {
        rememberSlot(key, value, next);
        return true;
      },
    };
  }

  /** Writes the slot if it still holds `expected`; CONFLICT when another writer changed it. */
  function writeSlot(key: string, expected: string | null, next: LeaseSlot) {
    return sendPrepared(connection, slotWrite(key, expected, next));
  }

  /** The release of `slot` (stored as `value`), or undefined when `holder` does not hold it with `token`. */
  function releaseWrite(
    key: string,
    value: string | null,
    slot: LeaseSlot | undefined,
    holder: string,
    token: number,
  ): PreparedWrite<true> | undefined {
    if (!slot || !holdsSlot(slot, holder, token, Date.now())) return undefined;
    // The slot stays, freed, so the next token still grows past this one.
    return slotWrite(key, value, { ...slot, holder: null, expires_at: 0 });
  }

  const writes: RedisLeaseWrites = {
    acquisition(key, holder, ttlMs) {
      const now = Date.now();
      // The slot's JSON (a LeaseSlot, as JSON.stringify writes one) around its token.
      const before = `{"key":${JSON.stringify(key)},"holder":${JSON.stringify(holder)},"token":`;
      const after = `,"expires_at":${JSON.stringify(now + ttlMs)}}`;
      return {
        request: { key: keys.lease(key), holder, now, before, after },
        acquired(value) {
          const slot = JSON.parse(value) as LeaseSlot;
          rememberSlot(key, value, slot);
          return { key, holder, token: slot.token, expires_at: slot.expires_at };
        },
      };
    },

    guessedRelease(key, holder, token) {
      const value = held.take(key);
      if (value === undefined) return undefined;
      return releaseWrite(key, value, slotOf(value), holder, token);
    },
  };

  const store: LeaseStore = {
    async acquire(key, holder, ttlMs): Promise<Lease | undefined> {
      const acquisition = writes.acquisition(key, holder, ttlMs);
      const slot = await connection.run(() => connection.scripts.acquireSlot(acquisition.request));
      return slot === undefined ? undefined : acquisition.acquired(slot);
    },

    async renew(key, holder, token, ttlMs) {
      const current = heldThenRead(key);
      return retryOnConflict(`renewing lease ${key}`, async () => {
        const now = Date.now();
        const { value, slot, guessed } = await current();
        // Judged on the stored slot: a guess that does not hold is read before answering.
        if (!slot || !holdsSlot(slot, holder, token, now)) return guessed ? CONFLICT : false;
        return writeSlot(key, value, { ...slot, expires_at: now + ttlMs });
      });
    },

    async release(key, holder, token) {
      const current = heldThenRead(key);
      return retryOnConflict(`releasing lease ${key}`, async () => {
        const { value, slot, guessed } = await current();
        const release = releaseWrite(key, value, slot, holder, token);
        if (!release) return guessed ? CONFLICT : false;
        return sendPrepared(connection, release);
      });
    },

    async get(key) {
      return leaseOf(slotOf(await readValue(key)), Date.now());
    },
  };
  return { store, writes };
}
