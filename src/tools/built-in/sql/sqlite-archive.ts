import type Database from 'better-sqlite3';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { condition, type ArchiveOutcome, type ArchivePlan } from './archive-plan.js';
import { tailKeys, type JsonlArchiveFile } from './jsonl-archive-file.js';
import { columnName } from './sql-identifier.js';
import { jsonRow, sqliteParameters } from './sql-values.js';

/**
 * Moves rows into `archiveTable` (created with the source's columns when missing), one
 * `BEGIN IMMEDIATE` transaction per batch that copies and deletes the same rowids.
 */
export async function archiveSqliteToTable(
  database: Database.Database,
  plan: ArchivePlan,
  archiveTable: string,
): Promise<ArchiveOutcome> {
  database.exec(
    `CREATE TABLE IF NOT EXISTS ${archiveTable} AS SELECT * FROM ${plan.table} WHERE 0`,
  );
  const select = database
    .prepare(
      `SELECT rowid FROM ${plan.table} WHERE ${condition(plan)} ORDER BY ${plan.orderBy} LIMIT ?`,
    )
    .pluck();
  const copy = database.prepare(
    `INSERT INTO ${archiveTable} SELECT * FROM ${plan.table} WHERE rowid IN (SELECT value FROM json_each(?))`,
  );
  const remove = database.prepare(
    `DELETE FROM ${plan.table} WHERE rowid IN (SELECT value FROM json_each(?))`,
  );
  const parameters = sqliteParameters(plan.parameters);
  const batch = database.transaction(() => {
    const rowids = select.all(...parameters, plan.batchSize);
    if (rowids.length === 0) return 0;
    const list = JSON.stringify(rowids);
    copy.run(list);
    return remove.run(list).changes;
  });
  const outcome: ArchiveOutcome = { moved: 0, batches: 0, complete: false };
  while (outcome.batches < plan.maxBatches) {
    plan.signal.throwIfAborted();
    const moved = batch.immediate();
    if (moved === 0) return { ...outcome, complete: true };
    outcome.moved += moved;
    outcome.batches += 1;
    plan.onBatch?.();
    // Each batch runs synchronously; between batches the rest of the process gets a turn.
    await nextTurn();
  }
  return outcome;
}

/**
 * Moves rows into a JSONL file with the crash-safe protocol described on
 * {@link JsonlArchiveFile}. The write lock (`BEGIN IMMEDIATE`) is held from selecting a batch
 * until its delete commits, so the rows written are exactly the rows deleted; the file is
 * written synchronously meanwhile, so the lock is never held across a turn of the event loop.
 */
export async function archiveSqliteToFile(
  database: Database.Database,
  plan: ArchivePlan,
  file: JsonlArchiveFile,
): Promise<ArchiveOutcome> {
  const remove = database.prepare(
    `DELETE FROM ${plan.table} WHERE rowid IN (SELECT value FROM json_each(?))`,
  );
  const rowsOf = (statement: Database.Statement, parameters: unknown[]) => {
    statement.raw(true).safeIntegers(true);
    const columns = statement
      .columns()
      .slice(1)
      .map((column) => column.name);
    return (statement.all(...parameters) as unknown[][]).map((values) => ({
      rowid: Number(values[0]),
      line: JSON.stringify(jsonRow(columns, values.slice(1))),
    }));
  };
  const outcome: ArchiveOutcome = { moved: 0, batches: 0, complete: false };

  const keys = tailKeys(file.tail, columnName(plan.orderBy));
  if (keys.length > 0) {
    const archived = new Set(file.tail);
    const recovered = database
      .transaction(() => {
        const candidates = database.prepare(
          `SELECT rowid, * FROM ${plan.table} WHERE ${plan.orderBy} IN (SELECT value FROM json_each(?))`,
        );
        const done = rowsOf(candidates, [JSON.stringify(keys)]).filter((row) =>
          archived.has(row.line),
        );
        return done.length === 0
          ? 0
          : remove.run(JSON.stringify(done.map((row) => row.rowid))).changes;
      })
      .immediate();
    if (recovered > 0) Object.assign(outcome, { moved: recovered, recovered });
    plan.onBatch?.();
  }

  const select = database.prepare(
    `SELECT rowid, * FROM ${plan.table} WHERE ${condition(plan)} ORDER BY ${plan.orderBy} LIMIT ?`,
  );
  const parameters = sqliteParameters(plan.parameters);
  while (outcome.batches < plan.maxBatches) {
    plan.signal.throwIfAborted();
    database.exec('BEGIN IMMEDIATE');
    try {
      const rows = rowsOf(select, [...parameters, plan.batchSize]);
      if (rows.length > 0) {
        file.appendSync(rows.map((row) => row.line));
        remove.run(JSON.stringify(rows.map((row) => row.rowid)));
      }
      database.exec('COMMIT');
      if (rows.length === 0) return { ...outcome, complete: true };
      outcome.moved += rows.length;
      outcome.batches += 1;
    } catch (error) {
      if (database.inTransaction) database.exec('ROLLBACK');
      throw error;
    }
    plan.onBatch?.();
    await nextTurn();
  }
  return outcome;
}
