import type { Lease, LeaseStore } from '../contracts/lease-store.js';
import { acquireSlot, holdsSlot, leaseOf, type LeaseSlot } from '../lease-rules.js';
import {
  compareAndSet,
  KnownVersions,
  rowVersion,
  versionedUpdate,
  type Decision,
  type Versioned,
  type VersionedUpdate,
} from './compare-and-set.js';
import type { PostgresDatabase } from './connection.js';

/** Keys remembered for writing without a read (`compare-and-set.ts`). */
const KNOWN_LIMIT = 10_000;

/** BIGINT columns arrive as text: Postgres' 64 bits are more than a JavaScript number holds. */
export interface LeaseRow {
  key: string;
  holder: string | null;
  token: string;
  expires_at: string;
}

/** The slot a row of `leases` holds. */
export function toSlot(row: LeaseRow): LeaseSlot {
  return {
    key: row.key,
    holder: row.holder,
    token: Number(row.token),
    expires_at: Number(row.expires_at),
  };
}

/**
 * The slot after `holder` gives up the lease it holds with `token` at `now`, or undefined when
 * it no longer holds it (nothing to write): the rule of `leases.release`, also on a run
 * phase's guess (`run-phases.ts`). The row stays, freed, so the next token still grows past this one.
 */
export function releasedSlot(
  slot: LeaseSlot | undefined,
  holder: string,
  token: number,
  now: number,
): LeaseSlot | undefined {
  if (!slot || !holdsSlot(slot, holder, token, now)) return undefined;
  return { ...slot, holder: null, expires_at: 0 };
}

/** How leases' rows are written: shared by the lease store and the run phases (`run-phases.ts`). */
export interface PostgresLeaseRows {
  /** The keys this process last wrote or read, with their versions. */
  readonly known: KnownVersions<LeaseSlot>;
  /** A key's compare-and-set UPDATE. */
  readonly update: VersionedUpdate<LeaseSlot>;
  /**
   * `acquireSlot` (`lease-rules.ts`) as one statement, for a write that must go with another
   * in the same statement: holder `$2` takes key `$1` at `$3` (ms) for `$4` ms, only `when`
   * (an SQL condition); RETURNING row_version and the slot's columns, no row when another holds
   * it (or not `when`). Racing writers of the key's row queue on it, each judging the version
   * the one before wrote.
   */
  acquireText(when: string): string;
}

/** The {@link PostgresLeaseRows} of the `leases` table in `database`'s schema. */
export function postgresLeaseRows(database: PostgresDatabase): PostgresLeaseRows {
  const table = database.table('leases');
  return {
    known: new KnownVersions<LeaseSlot>({ limit: KNOWN_LIMIT }),
    update: versionedUpdate({
      table,
      key: 'key',
      assignments: 'holder = $2, token = $3, expires_at = $4',
      assigned: 3,
      values: (next) => [next.key, next.holder, next.token, next.expires_at],
    }),
    // As acquireSlot: a key never held starts at token 1; a free or expired one is taken
    // under the next token; one the same holder has is extended, its token kept.
    acquireText: (when) => `
      INSERT INTO ${table} AS slot (key, holder, token, expires_at)
        SELECT $1, $2, 1, $3::bigint + $4::bigint WHERE ${when}
      ON CONFLICT (key) DO UPDATE SET
        holder = EXCLUDED.holder,
        token = CASE WHEN slot.holder IS NULL OR slot.expires_at <= $3::bigint
          THEN slot.token + 1 ELSE slot.token END,
        expires_at = EXCLUDED.expires_at
      WHERE slot.holder IS NULL OR slot.expires_at <= $3::bigint OR slot.holder = EXCLUDED.holder
      RETURNING ${rowVersion.column}, key, holder, token, expires_at`,
  };
}

/**
 * A {@link LeaseStore} in a Postgres schema, with the rules of `lease-rules.ts` applied by
 * compare-and-set on the key's row (`compare-and-set.ts`). Expiry is judged by each
 * process's wall clock, so processes sharing a database should keep their clocks in sync (NTP).
 * `leaseRows` shared with the store's run phases, so that each knows the versions the other wrote.
 */
export function createPostgresLeaseStore(
  database: PostgresDatabase,
  leaseRows: PostgresLeaseRows = postgresLeaseRows(database),
): LeaseStore {
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
  const write = database.prepare(leaseRows.update.text());
  const { known } = leaseRows;

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
        const { rows } = await (version === undefined
          ? database.write<Versioned>(insert, [key, next.holder, next.token, next.expires_at])
          : database.write<Versioned>(write, leaseRows.update.parameters(next, version)));
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
        const next = releasedSlot(slot, holder, token, now);
        return next ? { result: true, write: next } : { result: false };
      });
    },

    async get(key) {
      const { rows } = await database.read<LeaseRow & Versioned>(select, [key]);
      // Read before acquiring, most often.
      return leaseOf(known.fromRow(key, rows[0], toSlot), Date.now());
    },
  };
}
