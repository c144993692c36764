import type { SqlParameter } from './sql-values.js';

/** What one `sql_archive` call moves, checked: names are validated identifiers. */
export interface ArchivePlan {
  /** The source table. */
  table: string;
  /** The SQL condition choosing the rows (trusted SQL, see `sql_archive`'s description). */
  where: string;
  parameters: readonly SqlParameter[];
  /** The key column rows move in order of (and by which the JSONL recovery finds them). */
  orderBy: string;
  batchSize: number;
  maxBatches: number;
  statementTimeoutMs: number;
  signal: AbortSignal;
  /**
   * Called after each batch commits. A SQLite archive runs in a child process, which reports
   * batches with it, so the parent's timeout applies per batch, as Postgres' does per statement.
   */
  onBatch?: () => void;
}

/** What a `sql_archive` call did. */
export interface ArchiveOutcome {
  /** Rows removed from the table and present in the destination. */
  moved: number;
  /** Transactions that moved at least one row. */
  batches: number;
  /** False when `max_batches` was reached with rows possibly left to move. */
  complete: boolean;
  /** Rows a crashed earlier run had already written to the file, now deleted (included in `moved`). */
  recovered?: number;
}

/** The `WHERE` condition as inserted into SQL: on its own lines, so a trailing `--` comment cannot swallow the rest. */
export const condition = (plan: ArchivePlan) => `(\n${plan.where}\n)`;
