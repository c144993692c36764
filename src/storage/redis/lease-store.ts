import type { Lease, LeaseStore } from '../contracts/lease-store.js';
import { acquireSlot, holdsSlot, leaseOf, type LeaseSlot } from '../lease-rules.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';
import { KnownValues } from './known-values.js';

/** The most leases a lease store remembers holding. */
const HELD_LEASES_KEPT = 10_000;

/**
 * A {@link LeaseStore} in Redis: one JSON slot per key, changed by compare-and-set under
 * the rules every backend shares. Slots carry no Redis expiry: a freed or expired slot
 * stays, so the next acquisition's fencing token still grows past every earlier one.
 * Expiry is judged by each process's wall clock, as in the other backends, so processes
 * sharing a Redis should keep their clocks in sync (NTP).
 */
export function createRedisLeaseStore(connection: RedisConnection, keys: RedisKeys): LeaseStore {
  /**
   * Slots this process holds, as it wrote them: renewing or releasing one sends no read first
   * (the compare-and-set still checks it). Acquiring reads: the slot's last writer may well be
   * another process.
   */
  const held = new KnownValues(HELD_LEASES_KEPT);

  function readValue(key: string): Promise<string | null> {
    return connection.run((client) => client.get(keys.lease(key)));
  }

  function slotOf(value: string | null): LeaseSlot | undefined {
    return value === null ? undefined : (JSON.parse(value) as LeaseSlot);
  }

  /** For each try: the slot as this process wrote it when it holds it, on the first; else read. */
  function heldThenRead(key: string) {
    const next = held.firstThenRead(key, () => readValue(key));
    return async () => {
      const { value, guessed } = await next();
      return { value, slot: slotOf(value), guessed };
    };
  }

  /** Writes the slot if it still holds `expected`; CONFLICT when another writer changed it. */
  async function writeSlot(key: string, expected: string | null, next: LeaseSlot) {
    const value = JSON.stringify(next);
    const written = await connection.run(() =>
      connection.scripts.compareAndSet(keys.lease(key), expected, value),
    );
    if (!written) return CONFLICT;
    if (next.holder === null) held.forget(key);
    else held.remember(key, value);
    return true;
  }

  return {
    async acquire(key, holder, ttlMs): Promise<Lease | undefined> {
      return retryOnConflict(`acquiring lease ${key}`, async () => {
        const value = await readValue(key);
        const slot = slotOf(value);
        const lease = acquireSlot(slot, key, holder, ttlMs, Date.now());
        if (!lease) return undefined;
        return (await writeSlot(key, value, lease)) === CONFLICT ? CONFLICT : lease;
      });
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
        if (!slot || !holdsSlot(slot, holder, token, Date.now())) return guessed ? CONFLICT : false;
        // The slot stays, freed, so the next token still grows past this one.
        return writeSlot(key, value, { ...slot, holder: null, expires_at: 0 });
      });
    },

    async get(key) {
      return leaseOf(slotOf(await readValue(key)), Date.now());
    },
  };
}
