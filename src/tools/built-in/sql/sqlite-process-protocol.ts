import { NightshiftError, type FieldError, type NightshiftErrorCode } from '../../../errors.js';
import type { ArchiveOutcome, ArchivePlan } from './archive-plan.js';
import type { SqliteTarget } from './sqlite-database.js';
import type { SqlParameter } from './sql-values.js';

/** A `sql_query` for a SQLite process: it opens the file read-only, runs the statement, closes. */
export interface SqliteQueryRequest {
  kind: 'query';
  target: SqliteTarget;
  /** Already checked by `checkQueryStatement`. */
  sql: string;
  parameters: SqlParameter[];
  maxRows: number;
}

/** Rows a SQLite query returned, already JSON-safe (`jsonRow`). */
export interface SqliteQueryRows {
  columns: string[];
  rows: Array<Record<string, unknown>>;
  moreRows: boolean;
}

/** A `sql_archive` for a SQLite process; the abort signal stays with the parent, which kills the process. */
export interface SqliteArchiveRequest {
  kind: 'archive';
  target: SqliteTarget;
  plan: Omit<ArchivePlan, 'signal' | 'onBatch'>;
  destination: { kind: 'table'; table: string } | { kind: 'file'; path: string };
}

/** What the parent sends a SQLite process: one request at a time. */
export type SqliteRequest = SqliteQueryRequest | SqliteArchiveRequest;

/** What a SQLite process answers: `batch` after each committed archive batch, then one result or error. */
export type SqliteReply =
  | { kind: 'result'; value: SqliteQueryRows | ArchiveOutcome }
  | { kind: 'batch' }
  | { kind: 'error'; error: SerializedError };

/** An error as it crosses the process boundary: what `sqlError` and the model need of it. */
export interface SerializedError {
  message: string;
  /** The SQLite error code (`SQLITE_ERROR` …), which `sqlError` reports as `sql_state`. */
  code?: string;
  /** Set when the error was a NightshiftError: it is rebuilt as one, unchanged. */
  nightshift?: {
    code: NightshiftErrorCode;
    details: Record<string, unknown>;
    fields: FieldError[];
  };
}

/** The error in the form that crosses the process boundary. */
export function serializeError(error: unknown): SerializedError {
  if (NightshiftError.isInstance(error)) {
    return {
      message: error.message,
      nightshift: { code: error.code, details: error.details, fields: error.fields },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { message, code } : { message };
}

/** The error rebuilt on the parent's side, so that callers see what the process threw. */
export function revivedError(serialized: SerializedError): Error {
  if (serialized.nightshift !== undefined) {
    return new NightshiftError(serialized.nightshift.code, serialized.message, {
      details: serialized.nightshift.details,
      fields: serialized.nightshift.fields,
    });
  }
  const error = new Error(serialized.message);
  return serialized.code === undefined ? error : Object.assign(error, { code: serialized.code });
}
