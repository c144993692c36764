import { TABLES, type SqlTable } from './schema.js';

/**
 * The `runs` table as of schema version 7, what the run stores read and write: the columns of
 * version 1 ({@link TABLES}, which the first migration renders and which never changes) and the
 * parsed answer that version 7 adds (`output_json`: JSON, NULL unless the agent has an
 * `output_schema` and the run answered).
 */
export const RUNS_TABLE: SqlTable = {
  ...TABLES.runs,
  columns: [...TABLES.runs.columns, { name: 'output_json', type: 'json' }],
};
