import { z } from 'zod';
import type { ToolDefinition } from '../../tool-definition.js';
import { postgresReadOnlyQuery } from './postgres-read-only-query.js';
import { queryResult, type QueryResult } from './query-result.js';
import { sqliteTarget, type SqlConnections } from './sql-connections.js';
import { sqlError } from './sql-error.js';
import { checkQueryStatement } from './sql-statement-guard.js';

/** A SQL parameter as the model writes it. */
export const sqlParameterSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Input of `sql_query`. */
export interface SqlQueryInput {
  connection: string;
  sql: string;
  params?: Array<string | number | boolean | null> | undefined;
  max_rows: number;
}

/** Builds `sql_query` over the given connections. */
export function createSqlQueryTool(
  connections: SqlConnections,
  statementTimeoutMs: number,
): ToolDefinition<SqlQueryInput, QueryResult> {
  const [first = '', ...rest] = connections.names();
  const inputSchema = z.object({
    connection: z
      .enum([first, ...rest])
      .describe(`The database to query: one of ${connections.names().join(', ')}.`),
    sql: z
      .string()
      .min(1)
      .max(100_000)
      .describe(
        'ONE read-only SQL statement, e.g. "SELECT status, count(*) FROM jobs GROUP BY 1".',
      ),
    params: z
      .array(sqlParameterSchema)
      .max(100)
      .optional()
      .describe('Values for placeholders: $1, $2 … on Postgres; ? on SQLite.'),
    max_rows: z
      .number()
      .int()
      .min(1)
      .max(1_000)
      .default(100)
      .describe('Return at most this many rows (default 100); more set truncated: true.'),
  });
  return {
    description:
      'Run one read-only SQL statement and return { columns, rows, row_count, truncated }. ' +
      'Only row-returning statements: SELECT, WITH, VALUES, TABLE, EXPLAIN (and PRAGMA reads on ' +
      'SQLite); COPY, DO, CALL and functions reaching server files or programs are refused. ' +
      'Postgres runs it in a READ ONLY transaction that is rolled back; SQLite opens the file ' +
      `read-only. Statements stop after ${statementTimeoutMs / 1000}s. ` +
      'Writes fail. Read-only, so safe to repeat.',
    inputSchema,
    idempotent: true,
    async execute(input, context) {
      const connection = connections.get(input.connection);
      const parameters = input.params ?? [];
      try {
        const statement = checkQueryStatement(input.sql, connection.dialect);
        if (connection.dialect === 'postgres') {
          const result = await postgresReadOnlyQuery(
            connections.pool(connection),
            statement,
            parameters,
            {
              maxRows: input.max_rows,
              statementTimeoutMs,
              signal: context.abortSignal,
            },
          );
          return queryResult(result.columns, result.rows, result.moreRows, input.max_rows);
        }
        // In a child process: better-sqlite3 would block this process for as long as it runs.
        const result = await connections.sqliteProcesses(connection).query(
          {
            kind: 'query',
            target: sqliteTarget(connection),
            sql: statement,
            parameters: [...parameters],
            maxRows: input.max_rows,
          },
          context.abortSignal,
          statementTimeoutMs,
        );
        return queryResult(result.columns, result.rows, result.moreRows, input.max_rows);
      } catch (error) {
        if (context.abortSignal.aborted) throw error;
        throw sqlError(connection.name, 'sql_query', error);
      }
    },
  };
}
