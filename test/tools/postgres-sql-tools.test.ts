import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqlTools, type SqlTools } from '../../src/tools/built-in/index.js';
import { freshSchema, POSTGRES_URL, postgresAnswers } from './postgres-test-database.js';
import { describeSqlTools } from './sql-tools-suite.js';
import { waitFor } from '../helpers/wait-for.js';
import { runTool, toolContext } from './tool-harness.js';

const available = await postgresAnswers();

async function openPostgres() {
  const { schema, pool, drop } = await freshSchema();
  return {
    url: POSTGRES_URL,
    schema,
    pool,
    name: (table: string) => `${schema}.${table}`,
    execute: async (sql: string) => void (await pool.query(sql)),
    rows: async (sql: string) => (await pool.query(sql)).rows as Array<Record<string, unknown>>,
    placeholder: (n: number) => `$${n}`,
    failDeletes: async (table: string) => {
      await pool.query(
        `CREATE FUNCTION ${schema}.fail_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'simulated crash'; END $$`,
      );
      await pool.query(
        `CREATE TRIGGER fail_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${schema}.fail_delete()`,
      );
    },
    allowDeletes: async (table: string) =>
      void (await pool.query(`DROP TRIGGER fail_delete ON ${table}`)),
    drop,
  };
}

describe.skipIf(!available)('postgres', () => {
  describeSqlTools('postgres', openPostgres, {
    readOnlyRefusal: /cannot execute DELETE in a read-only transaction \(sql_query is read-only/,
    multipleStatementsRefusal: /cannot insert multiple commands into a prepared statement/,
    timestampType: 'timestamp',
  });

  describe('sql_query on postgres', () => {
    let database: Awaited<ReturnType<typeof openPostgres>>;
    let sql: SqlTools;
    beforeEach(async () => {
      database = await openPostgres();
      await database.execute(`CREATE TABLE ${database.name('t')} (id int PRIMARY KEY)`);
      await database.execute(`INSERT INTO ${database.name('t')} VALUES (1), (2)`);
      sql = createSqlTools({
        connections: { main: POSTGRES_URL },
        statement_timeout_seconds: 0.3,
      });
    });
    afterEach(async () => {
      await sql.close();
      await database.drop();
    });

    it('reads only max_rows + 1 rows through a cursor, even of an endless result', async () => {
      // Without a cursor this query would run until the statement timeout.
      const result = await runTool(sql.tools.sql_query, {
        connection: 'main',
        sql: 'WITH RECURSIVE counter(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM counter) SELECT g FROM counter',
        max_rows: 3,
      });
      expect(result).toMatchObject({ rows: [{ g: 1 }, { g: 2 }, { g: 3 }], truncated: true });
    });

    it('refuses writes hidden in a DO block or after SET TRANSACTION READ WRITE', async () => {
      const table = database.name('t');
      await expect(
        runTool(sql.tools.sql_query, {
          connection: 'main',
          sql: `DO $$ BEGIN DELETE FROM ${table}; END $$`,
        }),
      ).rejects.toThrow(/read-only transaction|read-write mode must be set before any query/);
      await expect(
        runTool(sql.tools.sql_query, { connection: 'main', sql: 'SET TRANSACTION READ WRITE' }),
      ).rejects.toThrow('read-write mode must be set before any query');
      expect(await database.rows(`SELECT count(*)::int AS n FROM ${table}`)).toEqual([{ n: 2 }]);
    });

    it('stops a statement at the statement timeout', async () => {
      await expect(
        runTool(sql.tools.sql_query, { connection: 'main', sql: 'SELECT pg_sleep(10)' }),
      ).rejects.toThrow(/canceling statement due to statement timeout/);
    });

    it('cancels the running statement on the server when the call is aborted', async () => {
      const controller = new AbortController();
      const tools = createSqlTools({ connections: { main: POSTGRES_URL } });
      // The statement runs as a cursor FETCH, so it is recognised by what it waits on.
      const running = async () =>
        (
          await database.rows(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'nightshift-sql-main' AND state = 'active' AND wait_event = 'PgSleep'",
          )
        )[0]?.n;
      try {
        const pending = runTool(
          tools.tools.sql_query,
          { connection: 'main', sql: 'SELECT pg_sleep(30)' },
          toolContext({ abortSignal: controller.signal }),
        );
        await waitFor(async () => (await running()) === 1, { what: 'the query to start' });
        const started = performance.now();
        controller.abort(new Error('run cancelled'));
        await expect(pending).rejects.toThrow('run cancelled');
        expect(performance.now() - started).toBeLessThan(5_000);
        await waitFor(async () => (await running()) === 0, {
          what: 'the server to stop the query',
        });
      } finally {
        await tools.close();
      }
    });

    it('keeps timestamps as Postgres prints them, without this machine’s time zone', async () => {
      const result = await runTool(sql.tools.sql_query, {
        connection: 'main',
        sql: "SELECT timestamp '2024-03-31 02:30:00' AS at, 12345678901234567::int8 AS big",
      });
      expect(result.rows).toEqual([{ at: '2024-03-31 02:30:00', big: '12345678901234567' }]);
    });
  });
});
