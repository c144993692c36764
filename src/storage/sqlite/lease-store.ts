import type { Lease, LeaseStore } from '../contracts/lease-store.js';
import { acquireSlot, holdsSlot, leaseOf, type LeaseSlot } from '../lease-rules.js';
import type { SqliteConnection } from './connection.js';

/**
 * A {@link LeaseStore} in a SQLite database. Expiry is judged by each process's wall
 * clock, so processes sharing a file should keep their clocks in sync (NTP).
 */
export function createSqliteLeaseStore({ database, writes }: SqliteConnection): LeaseStore {
  const select = database.prepare<[string], LeaseSlot>('SELECT * FROM leases WHERE key = ?');
  const upsert = database.prepare<[LeaseSlot]>(`
    INSERT INTO leases (key, holder, token, expires_at) VALUES (@key, @holder, @token, @expires_at)
    ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, token = excluded.token,
      expires_at = excluded.expires_at
  `);

  // Each runs in the batch's `BEGIN IMMEDIATE` transaction: the write lock is taken before the
  // slot is read, and the clock is read when it is applied.
  function acquire(key: string, holder: string, ttlMs: number): Lease | undefined {
    const lease = acquireSlot(select.get(key), key, holder, ttlMs, Date.now());
    if (lease) upsert.run(lease);
    return lease;
  }

  function renew(key: string, holder: string, token: number, ttlMs: number): boolean {
    const now = Date.now();
    const slot = select.get(key);
    if (!slot || !holdsSlot(slot, holder, token, now)) return false;
    upsert.run({ ...slot, expires_at: now + ttlMs });
    return true;
  }

  function release(key: string, holder: string, token: number): boolean {
    const slot = select.get(key);
    if (!slot || !holdsSlot(slot, holder, token, Date.now())) return false;
    // The row stays, freed, so the next token still grows past this one.
    upsert.run({ ...slot, holder: null, expires_at: 0 });
    return true;
  }

  return {
    async acquire(key, holder, ttlMs) {
      return writes.write(['leases', key], () => acquire(key, holder, ttlMs));
    },

    async renew(key, holder, token, ttlMs) {
      return writes.write(['leases', key], () => renew(key, holder, token, ttlMs));
    },

    async release(key, holder, token) {
      return writes.write(['leases', key], () => release(key, holder, token));
    },

    async get(key) {
      return leaseOf(
        writes.read(['leases', key], () => select.get(key)),
        Date.now(),
      );
    },
  };
}
