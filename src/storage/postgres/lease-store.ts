import type { Lease, LeaseStore } from '../contracts/lease-store.js';
import { acquireSlot, holdsSlot, leaseOf, type LeaseSlot } from '../lease-rules.js';
import type { PostgresDatabase } from './database.js';

/** BIGINT columns arrive as text: Postgres' 64 bits are more than a JavaScript number holds. */
interface LeaseRow {
  key: string;
  holder: string | null;
  token: string;
  expires_at: string;
}

function toSlot(row: LeaseRow | undefined): LeaseSlot | undefined {
  return (
    row && {
      key: row.key,
      holder: row.holder,
      token: Number(row.token),
      expires_at: Number(row.expires_at),
    }
  );
}

/**
 * A {@link LeaseStore} in a Postgres schema, with the rules of `lease-rules.ts` applied in
 * transactions that lock the key's row. Expiry is judged by each process's wall clock, so
 * processes sharing a database should keep their clocks in sync (NTP).
 */
export function createPostgresLeaseStore(database: PostgresDatabase): LeaseStore {
  const leases = database.table('leases');
  const select = `SELECT * FROM ${leases} WHERE key = $1`;
  const write = `UPDATE ${leases} SET holder = $2, token = $3, expires_at = $4 WHERE key = $1`;

  return {
    async acquire(key, holder, ttlMs): Promise<Lease | undefined> {
      return database.transaction(async (client) => {
        // A free row (token 0) is put in place first, so there is always a row to lock:
        // racing first acquisitions queue on it instead of each seeing no lease.
        await client.query(
          `INSERT INTO ${leases} (key, holder, token, expires_at) VALUES ($1, NULL, 0, 0)
           ON CONFLICT (key) DO NOTHING`,
          [key],
        );
        const { rows } = await client.query<LeaseRow>(`${select} FOR UPDATE`, [key]);
        const lease = acquireSlot(toSlot(rows[0]), key, holder, ttlMs, Date.now());
        if (lease) {
          await client.query(write, [key, lease.holder, lease.token, lease.expires_at]);
        }
        return lease;
      });
    },

    async renew(key, holder, token, ttlMs) {
      return database.transaction(async (client) => {
        const now = Date.now();
        const { rows } = await client.query<LeaseRow>(`${select} FOR UPDATE`, [key]);
        const slot = toSlot(rows[0]);
        if (!slot || !holdsSlot(slot, holder, token, now)) return false;
        await client.query(write, [key, slot.holder, slot.token, now + ttlMs]);
        return true;
      });
    },

    async release(key, holder, token) {
      return database.transaction(async (client) => {
        const { rows } = await client.query<LeaseRow>(`${select} FOR UPDATE`, [key]);
        const slot = toSlot(rows[0]);
        if (!slot || !holdsSlot(slot, holder, token, Date.now())) return false;
        // The row stays, freed, so the next token still grows past this one.
        await client.query(write, [key, null, slot.token, 0]);
        return true;
      });
    },

    async get(key) {
      const { rows } = await database.read<LeaseRow>(select, [key]);
      return leaseOf(toSlot(rows[0]), Date.now());
    },
  };
}
