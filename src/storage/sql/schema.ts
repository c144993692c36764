import { UNFINISHED_STATUSES } from '../contracts/vocabulary.js';
import { NightshiftError } from '../../errors.js';

/**
 * What a column holds; each dialect names its own type for it. `sorted_text` is text that
 * queries order on or compare, kept in code-unit order (the order SQLite's BINARY collation
 * and the memory backend give); `sequence` is the table's own growing integer key.
 */
export type SqlColumnType =
  'text' | 'sorted_text' | 'json' | 'integer' | 'big_integer' | 'sequence';

/** One column of a table. */
export interface SqlColumn {
  readonly name: string;
  readonly type: SqlColumnType;
  /** NOT NULL. */
  readonly required?: boolean;
  readonly primaryKey?: boolean;
  /** Written once, on insert: an identity column no update moves. */
  readonly fixed?: boolean;
}

/** One index of a table; a column may carry its order (`scheduled_at DESC`). */
export interface SqlIndex {
  readonly name: string;
  readonly columns: readonly string[];
}

/** One table, as both SQL dialects keep it. */
export interface SqlTable {
  readonly name: string;
  readonly columns: readonly SqlColumn[];
  /** Sets of columns that are unique together. */
  readonly unique?: readonly (readonly string[])[];
  readonly indexes?: readonly SqlIndex[];
}

/** How one dialect writes the shared schema and its statement parameters. */
export interface SqlDialect {
  /** The column type, as the dialect writes it (a `sequence` includes its PRIMARY KEY). */
  readonly types: Readonly<Record<SqlColumnType, string>>;
  /** Statement parameter `index` (1 for the first), for a value of `column`. */
  parameter(index: number, column: SqlColumn): string;
}

const text = (name: string, required = true): SqlColumn => ({ name, type: 'text', required });
const sorted = (name: string): SqlColumn => ({ name, type: 'sorted_text', required: true });
const json = (name: string, required = true): SqlColumn => ({ name, type: 'json', required });
const fixed = (column: SqlColumn): SqlColumn => ({ ...column, fixed: true });

/**
 * The tables of schema version 1, shared by SQLite and Postgres: the first migration of each
 * renders them. Never change a table here without adding the migration that makes it so.
 * JSON columns hold what only the application reads; columns that queries filter or order
 * on are real columns. Times are kept as the ISO text the application wrote.
 */
export const TABLES = {
  agents: {
    name: 'agents',
    columns: [
      { name: 'agent_id', type: 'sorted_text', primaryKey: true },
      json('definition'),
      text('state'),
      text('pause_reason', false),
      text('anchor_at', false),
      fixed(text('created_at')),
      text('updated_at'),
      { name: 'version', type: 'integer', required: true },
      json('stats'),
    ],
  },
  runs: {
    name: 'runs',
    columns: [
      { name: 'run_id', type: 'sorted_text', primaryKey: true },
      fixed(sorted('agent_id')),
      fixed(text('trigger')),
      fixed(sorted('scheduled_at')),
      fixed(text('created_at')),
      text('started_at', false),
      text('ended_at', false),
      text('status'),
      fixed(text('query')),
      json('attempts'),
      text('output', false),
      json('error', false),
      json('usage'),
      text('skip_reason', false),
      text('lease_owner', false),
      text('lease_expires_at', false),
    ],
    indexes: [
      { name: 'runs_by_agent', columns: ['agent_id', 'scheduled_at DESC', 'run_id DESC'] },
      { name: 'runs_by_status', columns: ['status', 'scheduled_at', 'run_id'] },
    ],
  },
  run_steps: {
    name: 'run_steps',
    columns: [
      { name: 'sequence', type: 'sequence' },
      sorted('run_id'),
      sorted('step_id'),
      json('step'),
    ],
    unique: [['run_id', 'step_id']],
    indexes: [{ name: 'run_steps_by_run', columns: ['run_id', 'sequence'] }],
  },
  messages: {
    name: 'messages',
    columns: [{ name: 'sequence', type: 'sequence' }, text('session_id'), json('message')],
    indexes: [{ name: 'messages_by_session', columns: ['session_id', 'sequence'] }],
  },
  leases: {
    name: 'leases',
    columns: [
      { name: 'key', type: 'text', primaryKey: true },
      text('holder', false),
      { name: 'token', type: 'big_integer', required: true },
      { name: 'expires_at', type: 'big_integer', required: true },
    ],
  },
  events: {
    name: 'events',
    columns: [
      { name: 'id', type: 'sequence' },
      text('agent_id'),
      text('run_id', false),
      text('type'),
      text('timestamp'),
      json('payload'),
    ],
    indexes: [{ name: 'events_by_agent', columns: ['agent_id', 'id'] }],
  },
} as const satisfies Record<string, SqlTable>;

/** Quotes a name, so words SQL keeps for itself (`trigger`, `timestamp`) can name columns. */
function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `CREATE TABLE` and `CREATE INDEX` statements for `tables`, in the dialect's types. */
function createTablesSql(tables: readonly SqlTable[], dialect: SqlDialect): string {
  return tables
    .map((table) => {
      const lines = table.columns.map((column) =>
        [
          quoteName(column.name),
          dialect.types[column.type],
          column.required ? 'NOT NULL' : '',
          column.primaryKey ? 'PRIMARY KEY' : '',
        ]
          .filter(Boolean)
          .join(' '),
      );
      for (const columns of table.unique ?? []) {
        lines.push(`UNIQUE (${columns.map(quoteName).join(', ')})`);
      }
      const indexes = (table.indexes ?? []).map(
        (index) =>
          `CREATE INDEX ${index.name} ON ${table.name} (${index.columns.map(quoteIndexed).join(', ')});`,
      );
      return [`CREATE TABLE ${table.name} (\n  ${lines.join(',\n  ')}\n);`, ...indexes].join('\n');
    })
    .join('\n\n');
}

/** The pieces of one table's statements, in one dialect. */
export interface TableStatements {
  /** Every column, quoted and comma-separated, in schema order: a select or insert list. */
  readonly columns: string;
  /** A parameter for every column, in schema order: an insert's VALUES list. */
  readonly parameters: string;
  /** The columns an update may move: all but the key and the fixed columns. */
  readonly changing: readonly SqlColumn[];
  /**
   * `"column" = parameter, …` for {@link TableStatements.changing}: the SET list of an update
   * whose parameters are the key, then those columns' values.
   */
  readonly assignments: string;
}

/** The pieces of `table`'s statements, written in `dialect`. */
export function tableStatements(table: SqlTable, dialect: SqlDialect): TableStatements {
  const changing = table.columns.filter((column) => !column.primaryKey && !column.fixed);
  return {
    columns: table.columns.map((column) => quoteName(column.name)).join(', '),
    parameters: table.columns
      .map((column, index) => dialect.parameter(index + 1, column))
      .join(', '),
    changing,
    assignments: changing
      .map((column, index) => `${quoteName(column.name)} = ${dialect.parameter(index + 2, column)}`)
      .join(', '),
  };
}

function quoteIndexed(column: string): string {
  const [name = '', ...order] = column.split(' ');
  return [quoteName(name), ...order].join(' ');
}

/** One step of a schema, applied once per database (or Postgres schema), in version order. */
export interface SqlMigration {
  version: number;
  name: string;
  sql: string;
}

/** Version 1 of the schema: the {@link TABLES}, in `dialect`. Never edit it: add the next version. */
export function firstMigration(dialect: SqlDialect): SqlMigration {
  return {
    version: 1,
    name: 'agents, runs, steps, messages, leases and events',
    sql: createTablesSql(Object.values(TABLES), dialect),
  };
}

/**
 * Refuses a database whose schema is newer than this Nightshift knows (another process
 * upgraded first): `storage_unavailable`, naming where.
 */
export function checkSchemaVersion(
  where: string,
  current: number,
  migrations: readonly SqlMigration[],
  details: Record<string, unknown> = {},
): void {
  const newest = migrations.at(-1)?.version ?? 0;
  if (current <= newest) return;
  throw new NightshiftError(
    'storage_unavailable',
    `${where} is at version ${current}, newer than this Nightshift knows (${newest}); upgrade Nightshift`,
    { details: { ...details, version: current, known: newest } },
  );
}

/** The unfinished run statuses as an SQL list (`'pending', 'running', …`), for `status IN (…)`. */
export const UNFINISHED_LIST = UNFINISHED_STATUSES.map((status) => `'${status}'`).join(', ');
