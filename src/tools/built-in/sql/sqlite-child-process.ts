/**
 * The entry of a SQLite child process (see `sqlite-process-pool.ts`). better-sqlite3 runs a
 * statement synchronously, in one native call that no JavaScript interrupts — not even a
 * worker thread's `terminate()`, which waits for the call to return. So statements run here,
 * one request at a time, and the parent stops a runaway one by killing this process.
 */
import type { ArchiveOutcome, ArchivePlan } from './archive-plan.js';
import { withArchiveFile } from './jsonl-archive-file.js';
import { archiveSqliteToFile, archiveSqliteToTable } from './sqlite-archive.js';
import { openSqliteDatabase } from './sqlite-database.js';
import {
  serializeError,
  type SqliteArchiveRequest,
  type SqliteQueryRequest,
  type SqliteQueryRows,
  type SqliteReply,
  type SqliteRequest,
} from './sqlite-process-protocol.js';
import { sqliteReadOnlyQuery } from './sqlite-read-only-query.js';

const reply = (message: SqliteReply) => process.send?.(message);

process.on('message', (request: SqliteRequest) => {
  void (async () => {
    try {
      const value = request.kind === 'query' ? query(request) : await archive(request);
      reply({ kind: 'result', value });
    } catch (error) {
      reply({ kind: 'error', error: serializeError(error) });
    }
  })();
});
// The parent is gone (or closed the tools): nothing will ask for anything again.
process.on('disconnect', () => process.exit(0));

function query(request: SqliteQueryRequest): SqliteQueryRows {
  const database = openSqliteDatabase(request.target, 'read_only');
  try {
    return sqliteReadOnlyQuery(database, request.sql, request.parameters, request.maxRows);
  } finally {
    database.close();
  }
}

async function archive(request: SqliteArchiveRequest): Promise<ArchiveOutcome> {
  const database = openSqliteDatabase(request.target, 'read_write');
  // Stopping is the parent's part (it kills this process): the signal here never fires.
  const plan: ArchivePlan = {
    ...request.plan,
    signal: new AbortController().signal,
    onBatch: () => reply({ kind: 'batch' }),
  };
  const destination = request.destination;
  try {
    return destination.kind === 'table'
      ? await archiveSqliteToTable(database, plan, destination.table)
      : await withArchiveFile(destination.path, (file) =>
          archiveSqliteToFile(database, plan, file),
        );
  } finally {
    database.close();
  }
}
