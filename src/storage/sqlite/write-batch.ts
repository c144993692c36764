import type Database from 'better-sqlite3';
import { warnOnError } from '../report-error.js';

/** Most writes committed in one transaction; a longer queue commits in several. */
export const MAX_BATCH_WRITES = 1_000;

/**
 * What a write may change, or what a read depends on: one record of a domain
 * (`['agents', agentId]`), or the whole domain (`['agents']`). A read commits the pending
 * writes first when one of them may change what it reads.
 */
export type Scope = readonly [domain: string, key?: string];

/** How one queued write is committed. */
export interface WriteOptions {
  /**
   * Sync its commit to disk (`synchronous = FULL` for the whole batch) before it resolves:
   * for what the API acknowledges. The connection otherwise runs with `synchronous = NORMAL`.
   */
  durable?: boolean;
  /**
   * Runs after a commit that included this write, before its caller resumes. Passed by several
   * writes of a batch, one function runs once. It should not throw (an error is only reported).
   */
  afterCommit?: () => void;
}

/**
 * Group commit for one connection: the writes of every store on it, issued in the same turn
 * of the event loop, commit together in one transaction.
 */
export interface WriteBatcher {
  /**
   * Queues a write that changes at most `scope`, committed at the end of this turn. `operation`
   * runs then, in call order, inside the batch's `BEGIN IMMEDIATE` transaction and a SAVEPOINT
   * of its own: what it reads no other process can change before it writes, and its failure
   * undoes only itself. Resolves with its result once the batch has committed; rejects with its
   * own error, or the batch's.
   */
  write<T>(scope: Scope, operation: () => T, options?: WriteOptions): Promise<T>;
  /**
   * Runs a query that depends on at most `scope`, after committing the pending writes when one
   * of them may change its result: a read sees every write issued before it.
   */
  read<T>(scope: Scope, query: () => T): T;
  /** Commits every pending write now. */
  flush(): void;
}

interface QueuedWrite {
  operation: () => unknown;
  options: WriteOptions;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Creates the batcher of a connection. Every store and event log on the connection must write
 * through it: a write of its own would land inside or between the batch's transactions.
 *
 * The batch commits in `setImmediate`, after the turn's timers, I/O callbacks and their promise
 * continuations, so runs that resume together from one batch put their next writes in the next
 * one. (A microtask would commit after the first continuation, a write or two per batch.)
 */
export function createWriteBatcher(database: Database.Database): WriteBatcher {
  const begin = database.prepare('BEGIN IMMEDIATE');
  const commit = database.prepare('COMMIT');
  const rollback = database.prepare('ROLLBACK');
  // Called while the batch's transaction is open, better-sqlite3 runs it in a SAVEPOINT.
  const inSavepoint = database.transaction((operation: () => unknown) => operation());

  let queue: QueuedWrite[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  /** What the queued writes may change: domains, domains written as a whole, and records. */
  const pending = {
    domains: new Set<string>(),
    wholeDomains: new Set<string>(),
    records: new Set<string>(),
  };

  function mark([domain, key]: Scope): void {
    pending.domains.add(domain);
    if (key === undefined) pending.wholeDomains.add(domain);
    else pending.records.add(recordOf(domain, key));
  }

  function mayChange([domain, key]: Scope): boolean {
    if (key === undefined) return pending.domains.has(domain);
    return pending.wholeDomains.has(domain) || pending.records.has(recordOf(domain, key));
  }

  function flush(): void {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    // Writes queued meanwhile (by an afterCommit callback) commit in a next batch, in this loop.
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH_WRITES);
      queue = queue.slice(batch.length);
      commitBatch(batch);
    }
    pending.domains.clear();
    pending.wholeDomains.clear();
    pending.records.clear();
  }

  function commitBatch(batch: readonly QueuedWrite[]): void {
    const durable = batch.some((write) => write.options.durable === true);
    let outcomes: Outcome[];
    try {
      if (durable) database.pragma('synchronous = FULL');
      try {
        outcomes = applyAndCommit(batch);
      } finally {
        if (durable) database.pragma('synchronous = NORMAL');
      }
    } catch (error) {
      // BEGIN (busy past the timeout) or COMMIT failed: nothing of the batch stands.
      if (database.inTransaction) rollback.run();
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    // Writes not tried (see applyAndCommit) go first in the next batch.
    queue = [...batch.slice(outcomes.length), ...queue];
    settle(batch, outcomes);
  }

  /**
   * Applies the batch in one transaction and commits it; returns the outcome of each write
   * tried. Some errors (disk full, I/O) make SQLite roll back the whole transaction: then the
   * writes before the one that failed are gone with it, and those after it are not tried.
   */
  function applyAndCommit(batch: readonly QueuedWrite[]): Outcome[] {
    begin.run();
    const outcomes: Outcome[] = [];
    for (const write of batch) {
      try {
        outcomes.push({ ok: true, value: inSavepoint(write.operation) });
      } catch (error) {
        outcomes.push({ ok: false, error });
        if (!database.inTransaction) {
          return outcomes.map((outcome) => (outcome.ok ? { ok: false, error } : outcome));
        }
      }
    }
    commit.run();
    return outcomes;
  }

  /** Settles the writes that have an outcome, then runs their afterCommit callbacks. */
  function settle(batch: readonly QueuedWrite[], outcomes: readonly Outcome[]): void {
    const afterCommit = new Set<() => void>();
    for (const [index, outcome] of outcomes.entries()) {
      const write = batch[index]!;
      if (outcome.ok) {
        write.resolve(outcome.value);
        if (write.options.afterCommit) afterCommit.add(write.options.afterCommit);
      } else {
        write.reject(outcome.error);
      }
    }
    // Callers resume only after this flush returns, so they see what these callbacks did.
    for (const callback of afterCommit) {
      try {
        callback();
      } catch (error) {
        warnOnError(error);
      }
    }
  }

  return {
    write<T>(scope: Scope, operation: () => T, options: WriteOptions = {}): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ operation, options, resolve, reject });
        mark(scope);
        scheduled ??= setImmediate(flush);
      });
    },

    read(scope, query) {
      if (mayChange(scope)) flush();
      return query();
    },

    flush,
  };
}

function recordOf(domain: string, key: string): string {
  return `${domain}\u0000${key}`;
}
