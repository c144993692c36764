import type pg from 'pg';
import { withPostgresTransaction } from './postgres-transaction.js';
import { postgresTypes } from './postgres-types.js';
import { jsonValue, type SqlParameter } from './sql-values.js';

/** Limits of one read-only Postgres query. */
export interface PostgresQueryLimits {
  maxRows: number;
  statementTimeoutMs: number;
  signal: AbortSignal;
}

/** `queryMode` is in pg 8.12+ but not in its type definitions. */
export type ExtendedQuery = pg.QueryConfig & { queryMode: 'extended'; rowMode?: 'array' };

const CURSOR = 'nightshift_rows';

/** Statements a cursor can be declared for: only these return rows as a cursor can fetch them. */
function returnsRows(sql: string): boolean {
  const start = sql.replace(/^(\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/|\()+/, '');
  return /^(select|with|values|table)\b/i.test(start);
}

/**
 * Runs one statement inside `BEGIN READ ONLY` … `ROLLBACK`, under a `statement_timeout`.
 * `statement` has passed `checkQueryStatement` (`sql-statement-guard.ts`), which returns
 * it without leading comments or a trailing `;`. The extended query protocol admits exactly
 * one statement, so `…; COMMIT; DELETE …` cannot escape the transaction even past that check.
 * Row-returning statements are read through a cursor, so only `maxRows + 1` rows ever leave
 * the server.
 */
export async function postgresReadOnlyQuery(
  pool: pg.Pool,
  statement: string,
  parameters: readonly SqlParameter[],
  limits: PostgresQueryLimits,
): Promise<{ columns: string[]; rows: Array<Record<string, unknown>>; moreRows: boolean }> {
  const options = {
    readOnly: true,
    commit: false,
    statementTimeoutMs: limits.statementTimeoutMs,
    signal: limits.signal,
  };
  const result = await withPostgresTransaction(pool, options, async (client) => {
    // The statement check read backslashes in '…' as ordinary characters; a server (or role)
    // configured otherwise would read `'\'' …` differently, so this transaction reads them so too.
    await client.query("SELECT set_config('standard_conforming_strings', 'on', true)");
    if (!returnsRows(statement)) {
      return client.query({
        text: statement,
        values: [...parameters],
        queryMode: 'extended',
        types: postgresTypes,
      } as ExtendedQuery);
    }
    await client.query({
      text: `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${statement}`,
      values: [...parameters],
      queryMode: 'extended',
    } as ExtendedQuery);
    return client.query({
      text: `FETCH ${limits.maxRows + 1} FROM ${CURSOR}`,
      types: postgresTypes,
    });
  });
  const columns = (result.fields ?? []).map((field) => field.name);
  const rows = (result.rows as Array<Record<string, unknown>>).map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [key, jsonValue(value)])),
  );
  return { columns, rows: rows.slice(0, limits.maxRows), moreRows: rows.length > limits.maxRows };
}
