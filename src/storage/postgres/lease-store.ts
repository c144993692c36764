import type { Lease, LeaseStore } from '../contracts/lease-store.js';
import { acquireSlot, holdsSlot, leaseOf, type LeaseSlot } from '../lease-rules.js';
import {
  compareAndSet,
  KnownVersions,
  rowVersion,
  type Decision,
  type Versioned,
} from './compare-and-set.js';
import type { PostgresDatabase } from './connection.js';

/** Keys remembered for writing without a read (`compare-and-set.ts`). */
const KNOWN_LIMIT = 10_000;

/** BIGINT columns arrive as text: Postgres' 64 bits are more than a JavaScript number holds. */
interface LeaseRow {
  key: string;
  holder: string | null;
  token: string;
  expires_at: string;
}

function toSlot(row: LeaseRow): LeaseSlot {
  return {
    key: row.key,
    holder: row.holder,
    token: Number(row.token),
    expires_at: Number(row.expires_at),
  };
}

/**
 * A {@link LeaseStore} in a Postgres schema, with the rules of `lease-rules.ts` applied by
 * compare-and-set on the key's row (`compare-and-set.ts`). Expiry is judged by each
 * process's wall clock, so processes sharing a database should keep their clocks in sync (NTP).
 */
export function createPostgresLeaseStore(database: PostgresDatabase): LeaseStore {
  const leases = database.table('leases');
  const select = database.prepare(
    `SELECT ${rowVersion.column}, key, holder, token, expires_at FROM ${leases} WHERE key = $1`,
  );
  // A key never held has no row yet: of racing first writers, the first insert wins and
  // the others, finding no row inserted, read the winner's.
  const insert = database.prepare(`
    INSERT INTO ${leases} (key, holder, token, expires_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (key) DO NOTHING RETURNING ${rowVersion.column}
  `);
  const write = database.prepare(`
    UPDATE ${leases} SET holder = $2, token = $3, expires_at = $4
    WHERE key = $1 AND ${rowVersion.unchangedSince(5)} RETURNING ${rowVersion.column}
  `);
  const known = new KnownVersions<LeaseSlot>({ limit: KNOWN_LIMIT });

  /** Applies `decide` to the key's slot at this moment, and writes its decision. */
  function readModifyWrite<R>(
    key: string,
    decide: (slot: LeaseSlot | undefined, now: number) => Decision<LeaseSlot, R>,
  ): Promise<R> {
    return compareAndSet({
      what: `updating lease ${key}`,
      key,
      known,
      async read() {
        const { rows } = await database.read<LeaseRow & Versioned>(select, [key]);
        return rows[0] && { version: rows[0].row_version, value: toSlot(rows[0]) };
      },
      decide: (slot) => decide(slot, Date.now()),
      async write(next, version) {
        const values = [key, next.holder, next.token, next.expires_at];
        const { rows } = await (version === undefined
          ? database.write<Versioned>(insert, values)
          : database.write<Versioned>(write, [...values, version]));
        return rows[0]?.row_version;
      },
    });
  }

  return {
    async acquire(key, holder, ttlMs): Promise<Lease | undefined> {
      return readModifyWrite(key, (slot, now) => {
        const lease = acquireSlot(slot, key, holder, ttlMs, now);
        return lease ? { result: lease, write: lease } : { result: undefined };
      });
    },

    async renew(key, holder, token, ttlMs) {
      return readModifyWrite(key, (slot, now) => {
        if (!slot || !holdsSlot(slot, holder, token, now)) return { result: false };
        return { result: true, write: { ...slot, expires_at: now + ttlMs } };
      });
    },

    async release(key, holder, token) {
      return readModifyWrite(key, (slot, now) => {
        if (!slot || !holdsSlot(slot, holder, token, now)) return { result: false };
        // The row stays, freed, so the next token still grows past this one.
        return { result: true, write: { ...slot, holder: null, expires_at: 0 } };
      });
    },

    async get(key) {
      const { rows } = await database.read<LeaseRow & Versioned>(select, [key]);
      // Read before acquiring, most often.
      return leaseOf(known.fromRow(key, rows[0], toSlot), Date.now());
    },
  };
}
