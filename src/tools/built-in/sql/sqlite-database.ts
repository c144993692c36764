import Database from 'better-sqlite3';
import { NightshiftError } from '../../../errors.js';

/** Which SQLite file to open, and the connection name errors should show. */
export interface SqliteTarget {
  name: string;
  path: string;
}

/** Opens a SQLite connection (the caller closes it); the file must exist. */
export function openSqliteDatabase(
  target: SqliteTarget,
  mode: 'read_only' | 'read_write',
): Database.Database {
  try {
    const database = new Database(target.path, {
      readonly: mode === 'read_only',
      fileMustExist: true,
    });
    database.pragma('busy_timeout = 5000');
    return database;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new NightshiftError('tool_error', `cannot open connection "${target.name}": ${reason}`, {
      cause: error,
    });
  }
}
