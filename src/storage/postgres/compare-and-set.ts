import { copyPlain } from '../../shared/copy-plain.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';

/**
 * Read-modify-writes of one row by optimistic compare-and-set: autocommit statements, and
 * no lock held between them. A row's `xmin` names the transaction that wrote its current
 * version, so every UPDATE changes it: the row is read with {@link ROW_VERSION}, its next
 * value computed by the shared rules, and written `WHERE … AND ${rowVersion.unchangedSince(n)}`. No
 * row written means another writer got there first (or the row is gone): read and decide
 * again. A writer that finds the row locked by another waits, then sees the other's new
 * version and misses, so of racing writers exactly one applies to each version.
 */

/**
 * A row's version in statements: `rowVersion.column` is the select-list (and RETURNING) item
 * that gives it as `row_version`; `rowVersion.unchangedSince(n)` the condition that the row is
 * still the version passed as statement parameter `$n`.
 */
export const rowVersion = {
  column: 'xmin::text AS row_version',
  unchangedSince: (index: number): string => `xmin::text = $${index}`,
} as const;

/**
 * A compare-and-set UPDATE of one row, as text and parameters apart, so that it can be run on
 * its own or as one part of a larger statement (`run-phases.ts`).
 */
export interface VersionedUpdate<T> {
  /**
   * `UPDATE … WHERE <key> = $1 AND <row unchanged since the last parameter> RETURNING
   * row_version`, with `also` (an SQL condition) added to its WHERE when given.
   */
  text(also?: string): string;
  /** Its parameters, to write `next` over the row's `version` (undefined matches no row). */
  parameters(next: T, version: string | undefined): unknown[];
}

/** How {@link versionedUpdate} writes one table's rows. */
export interface VersionedUpdateSpec<T> {
  /** The schema-qualified, quoted table. */
  table: string;
  /** The key column, matched to `$1`. */
  key: string;
  /** The SET list, its values `$2` onwards. */
  assignments: string;
  /** How many values the SET list takes. */
  assigned: number;
  /** The key's value, then the SET list's, for `next`. */
  values(next: T): unknown[];
}

/** The {@link VersionedUpdate} of one table's rows: every store's compare-and-set write. */
export function versionedUpdate<T>(spec: VersionedUpdateSpec<T>): VersionedUpdate<T> {
  const where = `${spec.key} = $1 AND ${rowVersion.unchangedSince(spec.assigned + 2)}`;
  return {
    text: (also) =>
      `UPDATE ${spec.table} SET ${spec.assignments} WHERE ${where}${also === undefined ? '' : ` AND ${also}`} RETURNING ${rowVersion.column}`,
    parameters: (next, version) => [...spec.values(next), version],
  };
}

/** A row read or written with {@link rowVersion}. */
export interface Versioned {
  row_version: string;
}

/** A row's value as of one version. */
export interface VersionedValue<T> {
  version: string;
  value: T;
}

/** Settings of {@link KnownVersions}. */
export interface KnownVersionsOptions<T> {
  /** Most rows remembered; the longest unwritten are forgotten first. */
  limit: number;
  /** Whether a value is worth remembering: false for rows not written again (a finished run). */
  keep?: (value: T) => boolean;
}

/**
 * The rows this process last wrote (or read one by one), with their versions, so that the
 * next change of one can be written at once, without reading it first: one round trip
 * instead of two. Only a guess: when another writer changed the row since, the write
 * misses and the row is read. Values are copies, never shared with callers.
 */
export class KnownVersions<T> {
  readonly #rows = new Map<string, VersionedValue<T>>();
  readonly #limit: number;
  readonly #keep: (value: T) => boolean;

  constructor(options: KnownVersionsOptions<T>) {
    this.#limit = options.limit;
    this.#keep = options.keep ?? (() => true);
  }

  /** The row's value as last known, if remembered. */
  get(key: string): VersionedValue<T> | undefined {
    return this.#rows.get(key);
  }

  /** Remembers a copy of `value` as the row's `version`. */
  remember(key: string, version: string, value: T): void {
    this.#rows.delete(key);
    if (!this.#keep(value)) return;
    this.#rows.set(key, { version, value: copyPlain(value) });
    if (this.#rows.size > this.#limit) {
      const oldest = this.#rows.keys().next();
      if (!oldest.done) this.#rows.delete(oldest.value);
    }
  }

  /**
   * The value of a row read with its version (undefined: no row), remembered: most reads of
   * one row come before a change of it, which can then skip its own read.
   */
  fromRow<Row extends Versioned>(
    key: string,
    row: Row | undefined,
    toValue: (row: Row) => T,
  ): T | undefined {
    if (!row) return undefined;
    const value = toValue(row);
    this.remember(key, row.row_version, value);
    return value;
  }

  /** Forgets the row if it is still remembered as `version` (another call may know a newer one). */
  forget(key: string, version: string): void {
    if (this.#rows.get(key)?.version === version) this.#rows.delete(key);
  }
}

/** What a read-modify-write makes of a row: the result for the caller, and what to write. */
export interface Decision<T, R> {
  result: R;
  /** The row's next value; none to leave it as it is. */
  write?: T;
}

/** One read-modify-write of one row, for {@link compareAndSet}. */
export interface CompareAndSet<T, R> {
  /** Names the row in the error when contention never lets the write through. */
  what: string;
  key: string;
  known: KnownVersions<T>;
  /** Reads the row's current version, or undefined when there is no row. */
  read(): Promise<VersionedValue<T> | undefined>;
  /** Applies the shared rules to the row's value (undefined: no row). */
  decide(current: T | undefined): Decision<T, R>;
  /**
   * Writes `next` if the row is still at `version` (inserts it when `version` is undefined:
   * there was no row), returning the new version, or undefined when it was not written.
   */
  write(next: T, version: string | undefined): Promise<string | undefined>;
}

/**
 * Applies `decide` to the row and writes its decision by compare-and-set, repeated until
 * no other writer comes in between. The first attempt starts from the row as this process
 * last knew it, when it does; a decision not to write made on that guess is checked against
 * the row as read, since the guess may be out of date.
 */
export function compareAndSet<T, R>(step: CompareAndSet<T, R>): Promise<R> {
  const { key, known } = step;
  let guess = known.get(key);
  return retryOnConflict(step.what, async () => {
    const guessed = guess !== undefined;
    const current = guess ?? (await step.read());
    guess = undefined;
    const { result, write: next } = step.decide(current?.value);
    if (next === undefined) return guessed ? CONFLICT : result;
    const version = await step.write(next, current?.version);
    if (version === undefined) {
      if (current) known.forget(key, current.version);
      return CONFLICT;
    }
    known.remember(key, version, next);
    return result;
  });
}
