import type { Lease, LeaseStore } from '../contracts/lease-store.js';
import { acquireSlot, holdsSlot, leaseOf, type LeaseSlot } from '../lease-rules.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';

/**
 * A {@link LeaseStore} in Redis: one JSON slot per key, changed by compare-and-set under
 * the rules every backend shares. Slots carry no Redis expiry: a freed or expired slot
 * stays, so the next acquisition's fencing token still grows past every earlier one.
 * Expiry is judged by each process's wall clock, as in the other backends, so processes
 * sharing a Redis should keep their clocks in sync (NTP).
 */
export function createRedisLeaseStore(connection: RedisConnection, keys: RedisKeys): LeaseStore {
  async function readSlot(key: string): Promise<{ value: string | null; slot?: LeaseSlot }> {
    const value = await connection.run((client) => client.get(keys.lease(key)));
    return value === null ? { value } : { value, slot: JSON.parse(value) as LeaseSlot };
  }

  /** Writes the slot if it still holds `expected`; CONFLICT when another writer changed it. */
  async function writeSlot(key: string, expected: string | null, next: LeaseSlot) {
    const written = await connection.run(() =>
      connection.scripts.compareAndSet(keys.lease(key), expected, JSON.stringify(next)),
    );
    return written ? true : CONFLICT;
  }

  return {
    async acquire(key, holder, ttlMs): Promise<Lease | undefined> {
      return retryOnConflict(`acquiring lease ${key}`, async () => {
        const { value, slot } = await readSlot(key);
        const lease = acquireSlot(slot, key, holder, ttlMs, Date.now());
        if (!lease) return undefined;
        return (await writeSlot(key, value, lease)) === CONFLICT ? CONFLICT : lease;
      });
    },

    async renew(key, holder, token, ttlMs) {
      return retryOnConflict(`renewing lease ${key}`, async () => {
        const now = Date.now();
        const { value, slot } = await readSlot(key);
        if (!slot || !holdsSlot(slot, holder, token, now)) return false;
        return writeSlot(key, value, { ...slot, expires_at: now + ttlMs });
      });
    },

    async release(key, holder, token) {
      return retryOnConflict(`releasing lease ${key}`, async () => {
        const { value, slot } = await readSlot(key);
        if (!slot || !holdsSlot(slot, holder, token, Date.now())) return false;
        // The slot stays, freed, so the next token still grows past this one.
        return writeSlot(key, value, { ...slot, holder: null, expires_at: 0 });
      });
    },

    async get(key) {
      return leaseOf((await readSlot(key)).slot, Date.now());
    },
  };
}
