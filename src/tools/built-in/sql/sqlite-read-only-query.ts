import type Database from 'better-sqlite3';
import { NightshiftError } from '../../../errors.js';
import { jsonRow, sqliteParameters, type SqlParameter } from './sql-values.js';

/**
 * Runs one statement on a connection opened read-only, in a SQLite child process (see
 * `sqlite-child-process.ts`; `checkQueryStatement` has already refused `ATTACH` and the like).
 * better-sqlite3 prepares exactly one statement, and statements SQLite does not deem read-only
 * (`VACUUM INTO` writes a new file even on a read-only connection) are refused before they run.
 */
export function sqliteReadOnlyQuery(
  database: Database.Database,
  sql: string,
  parameters: readonly SqlParameter[],
  maxRows: number,
): { columns: string[]; rows: Array<Record<string, unknown>>; moreRows: boolean } {
  const statement = database.prepare(sql);
  if (!statement.readonly) {
    throw new NightshiftError(
      'tool_error',
      'sql_query is read-only: this statement would change the database',
    );
  }
  const bound = sqliteParameters(parameters);
  if (!statement.reader) {
    statement.run(...bound);
    return { columns: [], rows: [], moreRows: false };
  }
  statement.safeIntegers(true).raw(true);
  const columns = statement.columns().map((column) => column.name);
  const rows: Array<Record<string, unknown>> = [];
  let moreRows = false;
  for (const values of statement.iterate(...bound) as Iterable<unknown[]>) {
    if (rows.length === maxRows) {
      moreRows = true;
      break;
    }
    rows.push(jsonRow(columns, values));
  }
  return { columns, rows, moreRows };
}
