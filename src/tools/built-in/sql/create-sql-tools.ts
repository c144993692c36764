import { NightshiftError } from '../../../errors.js';
import type { ToolDefinition } from '../../tool-definition.js';
import {
  createSqlArchiveTool,
  type SqlArchiveInput,
  type SqlArchiveResult,
} from './sql-archive.js';
import { SqlConnections } from './sql-connections.js';
import { createSqlQueryTool, type SqlQueryInput } from './sql-query.js';
import type { QueryResult } from './query-result.js';

/** Databases and limits for {@link createSqlTools}. */
export interface SqlToolsOptions {
  /** Connection name → `postgres://…` or `sqlite:path` URL, from configuration (the model picks a name). */
  connections: Readonly<Record<string, string>>;
  /** Statement timeout on Postgres, per statement (default 30 s). */
  statement_timeout_seconds?: number;
  /** Directory `sql_archive` may write JSONL files in; without it, only archive tables. */
  archive_directory?: string;
  /** Base of relative `sqlite:` paths (default: the working directory). */
  cwd?: string;
}

/** The SQL tools and the handle that closes their connection pools. */
export interface SqlTools {
  tools: {
    sql_query: ToolDefinition<SqlQueryInput, QueryResult>;
    sql_archive: ToolDefinition<SqlArchiveInput, SqlArchiveResult>;
  };
  /** Closes the Postgres pools; call it when the service stops. */
  close(): Promise<void>;
}

/** Builds `sql_query` (read-only) and `sql_archive` (moves rows) over configured connections. */
export function createSqlTools(options: SqlToolsOptions): SqlTools {
  const connections = new SqlConnections(options.connections, options.cwd);
  if (connections.names().length === 0) {
    throw new NightshiftError('config_invalid', 'the SQL tools need at least one connection', {
      fields: [{ path: 'connections', message: 'must name at least one connection' }],
    });
  }
  const statementTimeoutMs = (options.statement_timeout_seconds ?? 30) * 1000;
  return {
    tools: {
      sql_query: createSqlQueryTool(connections, statementTimeoutMs),
      sql_archive: createSqlArchiveTool(connections, {
        statementTimeoutMs,
        archiveDirectory: options.archive_directory,
      }),
    },
    close: () => connections.close(),
  };
}
