import path from 'node:path';
import { z } from 'zod';
import { NightshiftError } from '../../../errors.js';
import { resolveInsideDirectory } from '../../safety/index.js';
import type { ToolDefinition } from '../../tool-definition.js';
import type { ArchiveOutcome, ArchivePlan } from './archive-plan.js';
import { MAX_ARCHIVE_BATCH, withArchiveFile, withFileLock } from './jsonl-archive-file.js';
import { archivePostgresToFile, archivePostgresToTable } from './postgres-archive.js';
import { sqliteTarget, type SqlConnection, type SqlConnections } from './sql-connections.js';
import { sqlError } from './sql-error.js';
import { sqlIdentifier } from './sql-identifier.js';
import { sqlParameterSchema } from './sql-query.js';

/** Input of `sql_archive`. */
export interface SqlArchiveInput {
  connection: string;
  table: string;
  where: string;
  params?: Array<string | number | boolean | null> | undefined;
  order_by: string;
  batch_size: number;
  max_batches: number;
  destination: { table: string } | { jsonl_file: string };
}

/** What `sql_archive` returns. */
export type SqlArchiveResult = ArchiveOutcome & { destination: string };

/** Settings of `sql_archive` beyond the connections. */
export interface SqlArchiveSettings {
  statementTimeoutMs: number;
  /** Where `jsonl_file` destinations live; without it only table destinations are allowed. */
  archiveDirectory?: string | undefined;
}

/**
 * Builds `sql_archive`. Its `where` is an SQL fragment by design — archiving needs real
 * conditions (`created_at < now() - interval '90 days'`) — so an agent given this tool is
 * trusted with that connection: the connection's own database privileges are the real fence.
 * Table and column names, which cannot be bound as parameters, are validated identifiers; the
 * fragment is confined to one statement (extended protocol / one prepared statement).
 */
export function createSqlArchiveTool(
  connections: SqlConnections,
  settings: SqlArchiveSettings,
): ToolDefinition<SqlArchiveInput, SqlArchiveResult> {
  const [first = '', ...rest] = connections.names();
  const inputSchema = z.object({
    connection: z
      .enum([first, ...rest])
      .describe(`The database: one of ${connections.names().join(', ')}.`),
    table: z
      .string()
      .min(1)
      .describe('The table to move rows out of, e.g. "events" or "app.events".'),
    where: z
      .string()
      .min(1)
      .max(10_000)
      .describe(
        'SQL condition choosing the rows to move, e.g. "created_at < now() - interval \'90 days\'". Use $1… (Postgres) or ? (SQLite) with params for values.',
      ),
    params: z
      .array(sqlParameterSchema)
      .max(100)
      .optional()
      .describe('Values for the placeholders in `where`.'),
    order_by: z
      .string()
      .min(1)
      .describe(
        'A key column (unique, e.g. the primary key): rows move in this order, and a file archive uses it to recover after a crash.',
      ),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(MAX_ARCHIVE_BATCH)
      .default(1_000)
      .describe(`Rows per transaction (default 1000, at most ${MAX_ARCHIVE_BATCH}).`),
    max_batches: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1_000)
      .describe(
        'Stop after this many batches (default 1000); the result says whether all rows moved.',
      ),
    destination: z
      .union([
        z.object({
          table: z.string().min(1).describe('Archive table (created like the source if missing).'),
        }),
        z.object({
          jsonl_file: z
            .string()
            .min(1)
            .describe(
              'JSONL file, relative to the archive directory; rows are appended, one JSON object per line.',
            ),
        }),
      ])
      .describe('Where the rows go: { table } in the same database, or { jsonl_file }.'),
  });
  return {
    description:
      'Move rows matching `where` out of a table, in batches of one transaction each, into an ' +
      'archive table or a JSONL file; returns { moved, batches, complete }. Every row ends up in ' +
      'exactly one place, also if the run is interrupted. `where` is raw SQL run with this ' +
      'connection’s privileges. Moves data, so it is not idempotent (a repeat moves rows that ' +
      'match by then).',
    inputSchema,
    idempotent: false,
    async execute(input, context) {
      const connection = connections.get(input.connection);
      const table = sqlIdentifier(input.table, 'table');
      const orderBy = sqlIdentifier(input.order_by, 'order_by');
      const plan: ArchivePlan = {
        table,
        where: input.where,
        parameters: input.params ?? [],
        orderBy,
        batchSize: input.batch_size,
        maxBatches: input.max_batches,
        statementTimeoutMs: settings.statementTimeoutMs,
        signal: context.abortSignal,
      };
      const destination = await checkedDestination(input.destination, table, settings);
      try {
        const outcome = await archive(connections, connection, plan, destination);
        const shown =
          destination.kind === 'table'
            ? `table ${destination.table}`
            : `file ${destination.relative}`;
        return { ...outcome, destination: shown };
      } catch (error) {
        if (context.abortSignal.aborted) throw error;
        throw sqlError(connection.name, 'sql_archive', error);
      }
    },
  };
}

/** A destination whose names and path have been checked. */
type Destination =
  { kind: 'table'; table: string } | { kind: 'file'; path: string; relative: string };

async function checkedDestination(
  destination: SqlArchiveInput['destination'],
  table: string,
  settings: SqlArchiveSettings,
): Promise<Destination> {
  if ('table' in destination) {
    const archiveTable = sqlIdentifier(destination.table, 'destination.table');
    if (archiveTable.toLowerCase() === table.toLowerCase()) {
      throw new NightshiftError('tool_error', 'destination.table must differ from table');
    }
    return { kind: 'table', table: archiveTable };
  }
  if (settings.archiveDirectory === undefined) {
    throw new NightshiftError(
      'tool_error',
      'JSONL archives are not enabled here (no archive directory is configured); archive to a table',
    );
  }
  const file = await resolveInsideDirectory(
    path.resolve(settings.archiveDirectory),
    destination.jsonl_file,
  );
  return { kind: 'file', path: file.path, relative: file.relative };
}

async function archive(
  connections: SqlConnections,
  connection: SqlConnection,
  plan: ArchivePlan,
  destination: Destination,
): Promise<ArchiveOutcome> {
  if (connection.dialect === 'postgres') {
    const pool = connections.pool(connection);
    return destination.kind === 'table'
      ? archivePostgresToTable(pool, plan, destination.table)
      : withArchiveFile(destination.path, (file) => archivePostgresToFile(pool, plan, file));
  }
  // In a child process, as `sql_query`'s statements: a slow `where` would otherwise block this
  // process for as long as each batch runs. The parent holds the file's lock meanwhile.
  const run = () =>
    connections.sqliteProcesses(connection).archive(
      {
        kind: 'archive',
        target: sqliteTarget(connection),
        plan: {
          table: plan.table,
          where: plan.where,
          parameters: [...plan.parameters],
          orderBy: plan.orderBy,
          batchSize: plan.batchSize,
          maxBatches: plan.maxBatches,
          statementTimeoutMs: plan.statementTimeoutMs,
        },
        destination:
          destination.kind === 'table'
            ? { kind: 'table', table: destination.table }
            : { kind: 'file', path: destination.path },
      },
      plan.signal,
      plan.statementTimeoutMs,
    );
  return destination.kind === 'table' ? run() : withFileLock(destination.path, run);
}
