import type pg from 'pg';
import { condition, type ArchiveOutcome, type ArchivePlan } from './archive-plan.js';
import type { JsonlArchiveFile } from './jsonl-archive-file.js';
import { tailKeys } from './jsonl-archive-file.js';
import type { ExtendedQuery } from './postgres-read-only-query.js';
import { withPostgresTransaction } from './postgres-transaction.js';
import { postgresTypes } from './postgres-types.js';
import { columnName } from './sql-identifier.js';
import { jsonRow } from './sql-values.js';

const writable = (plan: ArchivePlan) => ({
  readOnly: false,
  commit: true,
  statementTimeoutMs: plan.statementTimeoutMs,
  signal: plan.signal,
});

/**
 * Moves rows into `archiveTable` (created `LIKE` the source when missing), one transaction per
 * batch: the rows are deleted and inserted by one statement, so a batch is in exactly one of
 * the two tables at any moment. `SKIP LOCKED` lets two archivers share a table without
 * waiting on each other; rows are matched by `(tableoid, ctid)`, which stays unique also in
 * partitioned tables, where `ctid` alone does not.
 */
export async function archivePostgresToTable(
  pool: pg.Pool,
  plan: ArchivePlan,
  archiveTable: string,
): Promise<ArchiveOutcome> {
  await createArchiveTable(pool, plan.table, archiveTable);
  const limit = `$${plan.parameters.length + 1}`;
  const text = `WITH moved AS (
  DELETE FROM ${plan.table} WHERE (tableoid, ctid) IN (
    SELECT tableoid, ctid FROM ${plan.table} WHERE ${condition(plan)}
    ORDER BY ${plan.orderBy} LIMIT ${limit} FOR UPDATE SKIP LOCKED)
  RETURNING *)
INSERT INTO ${archiveTable} SELECT * FROM moved`;
  const outcome: ArchiveOutcome = { moved: 0, batches: 0, complete: false };
  while (outcome.batches < plan.maxBatches) {
    const moved = await withPostgresTransaction(pool, writable(plan), async (client) => {
      const result = await client.query({
        text,
        values: [...plan.parameters, plan.batchSize],
        queryMode: 'extended',
      } as ExtendedQuery);
      return result.rowCount ?? 0;
    });
    if (moved === 0) return { ...outcome, complete: true };
    outcome.moved += moved;
    outcome.batches += 1;
  }
  return outcome;
}

async function createArchiveTable(pool: pg.Pool, source: string, archive: string): Promise<void> {
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS ${archive} (LIKE ${source})`);
  } catch (error) {
    // Two archivers creating it at once: one wins, the other sees a duplicate; both may go on.
    const code = (error as { code?: string }).code;
    if (code !== '42P07' && code !== '23505') throw error;
  }
}

/**
 * Moves rows into a JSONL file with the crash-safe protocol described on
 * {@link JsonlArchiveFile}: select and lock a batch, append and fsync it, then delete it and
 * commit — after first finishing any batch a crashed run left written but not deleted.
 */
export async function archivePostgresToFile(
  pool: pg.Pool,
  plan: ArchivePlan,
  file: JsonlArchiveFile,
): Promise<ArchiveOutcome> {
  const recovered = await recoverPostgres(pool, plan, file);
  const limit = `$${plan.parameters.length + 1}`;
  const select = `SELECT tableoid, ctid, * FROM ${plan.table} WHERE ${condition(plan)}
ORDER BY ${plan.orderBy} LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
  const outcome: ArchiveOutcome = { moved: recovered, batches: 0, complete: false };
  if (recovered > 0) outcome.recovered = recovered;
  while (outcome.batches < plan.maxBatches) {
    const moved = await withPostgresTransaction(pool, writable(plan), async (client) => {
      const rows = await lockedRows(client, select, [...plan.parameters, plan.batchSize]);
      if (rows.length === 0) return 0;
      await file.append(rows.map((row) => row.line));
      await deleteRows(client, plan.table, rows);
      return rows.length;
    });
    if (moved === 0) return { ...outcome, complete: true };
    outcome.moved += moved;
    outcome.batches += 1;
  }
  return outcome;
}

interface LockedRow {
  tableoid: unknown;
  ctid: unknown;
  line: string;
}

async function lockedRows(
  client: pg.PoolClient,
  text: string,
  values: unknown[],
): Promise<LockedRow[]> {
  const result = await client.query({
    text,
    values,
    rowMode: 'array',
    types: postgresTypes,
    queryMode: 'extended',
  } as ExtendedQuery);
  const columns = result.fields.slice(2).map((field) => field.name);
  return (result.rows as unknown[][]).map((values) => ({
    tableoid: values[0],
    ctid: values[1],
    line: JSON.stringify(jsonRow(columns, values.slice(2))),
  }));
}

async function deleteRows(
  client: pg.PoolClient,
  table: string,
  rows: readonly LockedRow[],
): Promise<number> {
  const result = await client.query(
    `DELETE FROM ${table} WHERE (tableoid, ctid) IN (SELECT * FROM unnest($1::oid[], $2::tid[]))`,
    [rows.map((row) => row.tableoid), rows.map((row) => row.ctid)],
  );
  return result.rowCount ?? 0;
}

/** Deletes the rows a crashed run archived (their exact lines end the file) but did not delete. */
async function recoverPostgres(
  pool: pg.Pool,
  plan: ArchivePlan,
  file: JsonlArchiveFile,
): Promise<number> {
  const keys = tailKeys(file.tail, columnName(plan.orderBy));
  if (keys.length === 0) return 0;
  const archived = new Set(file.tail);
  return withPostgresTransaction(pool, writable(plan), async (client) => {
    const rows = await lockedRows(
      client,
      `SELECT tableoid, ctid, * FROM ${plan.table} WHERE ${plan.orderBy} = ANY($1) FOR UPDATE`,
      [keys],
    );
    const done = rows.filter((row) => archived.has(row.line));
    return done.length === 0 ? 0 : deleteRows(client, plan.table, done);
  });
}
