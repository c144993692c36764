import { TABLES, type SqlTable } from './schema.js';

/**
 * The `runs` table as of schema version 9, what the run stores read and write: the columns of
 * version 1 ({@link TABLES}, which the first migration renders and which never changes), the
 * parsed answer that version 7 adds (`output_json`: JSON, NULL unless the agent has an
 * `output_schema` and the run answered) and what version 9 adds for replays (`replay_of`, text,
 * and `replay_mode`, JSON: written once, when the replay is claimed; NULL on every other run).
 */
export const RUNS_TABLE: SqlTable = {
  ...TABLES.runs,
  columns: [
    ...TABLES.runs.columns,
    { name: 'output_json', type: 'json' },
    { name: 'replay_of', type: 'text', fixed: true },
    { name: 'replay_mode', type: 'json', fixed: true },
  ],
};
