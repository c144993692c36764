import { TABLES, type SqlTable } from './schema.js';

/**
 * The `agents` table as of schema version 6, what the agent stores read and write: the columns
 * of version 1 ({@link TABLES}, which the first migration renders and which never changes) and
 * the pause note that version 6 adds (`paused_by`, `paused_until`: NULL unless the agent is
 * paused with a name or an end).
 */
export const AGENTS_TABLE: SqlTable = {
  ...TABLES.agents,
  columns: [
    ...TABLES.agents.columns,
    { name: 'paused_by', type: 'text' },
    { name: 'paused_until', type: 'text' },
  ],
};
