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
    readOnlyRefusal: /^sql_query refuses DELETE: only row-returning statements/,
    multipleStatementsRefusal: /^sql_query refuses more than one statement: /,
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
      ).rejects.toThrow('sql_query refuses DO: only row-returning statements');
      await expect(
        runTool(sql.tools.sql_query, { connection: 'main', sql: 'SET TRANSACTION READ WRITE' }),
      ).rejects.toThrow('sql_query refuses SET: only row-returning statements');
      expect(await database.rows(`SELECT count(*)::int AS n FROM ${table}`)).toEqual([{ n: 2 }]);
    });

    it('refuses COPY, also TO PROGRAM and behind comments', async () => {
      for (const statement of [
        "COPY (SELECT 1) TO PROGRAM 'true'",
        "/* only a comment */ COPY (SELECT 1) TO PROGRAM 'true'",
        "-- a note\n  copy (select 1) to program 'true';",
        "/* nested /* comment */ still comment */ COPY (SELECT 1) TO PROGRAM 'true'",
        `COPY ${database.name('t')} TO STDOUT`,
      ]) {
        await expect(
          runTool(sql.tools.sql_query, { connection: 'main', sql: statement }),
        ).rejects.toThrow(
          'sql_query refuses COPY: only row-returning statements (SELECT, WITH, VALUES, TABLE, EXPLAIN) are allowed',
        );
      }
    });

    it('refuses DO, CALL and other statements that return no rows', async () => {
      await database.execute(
        `CREATE PROCEDURE ${database.name('p')}() LANGUAGE sql AS $$ SELECT 1 $$`,
      );
      for (const [statement, keyword] of [
        ['DO $$ BEGIN PERFORM pg_sleep(0); END $$', 'DO'],
        [`CALL ${database.name('p')}()`, 'CALL'],
        ['PREPARE q AS SELECT 1', 'PREPARE'],
        ['SHOW data_directory', 'SHOW'],
        ['LISTEN somewhere', 'LISTEN'],
      ] as const) {
        await expect(
          runTool(sql.tools.sql_query, { connection: 'main', sql: statement }),
        ).rejects.toThrow(`sql_query refuses ${keyword}: only row-returning statements`);
      }
    });

    it('refuses functions that read server files, run programs or touch large objects, however written', async () => {
      for (const [statement, name] of [
        ["SELECT pg_read_file('/etc/hostname')", 'pg_read_file'],
        ['SELECT "pg_read_file"(\'/etc/hostname\')', 'pg_read_file'],
        ["SELECT pg_catalog . PG_READ_FILE /* gap */ ('/etc/hostname')", 'pg_read_file'],
        ["SELECT pg_read_binary_file('/etc/hostname')", 'pg_read_binary_file'],
        ["SELECT * FROM pg_ls_dir('.')", 'pg_ls_dir'],
        ['SELECT * FROM pg_ls_waldir()', 'pg_ls_waldir'],
        ["SELECT pg_stat_file('/etc/hostname')", 'pg_stat_file'],
        ["SELECT lo_import('/etc/hostname')", 'lo_import'],
        ["SELECT lo_export(1, '/tmp/x')", 'lo_export'],
        ['SELECT lo_get(1)', 'lo_get'],
        ["SELECT * FROM dblink('dbname=test', 'SELECT 1') AS t(n int)", 'dblink'],
        ["SELECT set_config('statement_timeout', '0', false)", 'set_config'],
        ['SELECT pg_terminate_backend(1)', 'pg_terminate_backend'],
        ['SELECT pg_reload_conf()', 'pg_reload_conf'],
        [
          "SELECT query_to_xml('select pg_read_file(''/etc/hostname'')', true, true, '')",
          'query_to_xml',
        ],
        ["WITH x AS (SELECT pg_read_file('/etc/hostname') AS f) SELECT f FROM x", 'pg_read_file'],
        ["EXPLAIN SELECT pg_read_file('/etc/hostname')", 'pg_read_file'],
      ] as const) {
        await expect(
          runTool(sql.tools.sql_query, { connection: 'main', sql: statement }),
        ).rejects.toThrow(`sql_query refuses ${name}(): `);
      }
    });

    it('refuses a second statement, also after strings, dollar quotes and comments', async () => {
      for (const statement of [
        "SELECT 1; COPY (SELECT 1) TO PROGRAM 'true'",
        "SELECT ';' AS s; /* */ SELECT pg_sleep(0)",
        'SELECT $x$;$x$ AS s; SELECT 2',
        "SELECT E'\\';' AS s; SELECT 2",
      ]) {
        await expect(
          runTool(sql.tools.sql_query, { connection: 'main', sql: statement }),
        ).rejects.toThrow('sql_query refuses more than one statement');
      }
    });

    it('sees through string tricks: E-string continuations and backslashes', async () => {
      // Postgres joins string pieces separated by a newline; the second piece is an E-string too,
      // so \' escapes its quote and pg_read_file is code, not text.
      await expect(
        runTool(sql.tools.sql_query, {
          connection: 'main',
          sql: "SELECT E'a'\n'\\'' , pg_read_file('/etc/hostname') --'",
        }),
      ).rejects.toThrow('sql_query refuses pg_read_file(): ');
      await expect(
        runTool(sql.tools.sql_query, { connection: 'main', sql: 'SELECT U&"pg_read_file"(\'x\')' }),
      ).rejects.toThrow('sql_query refuses U&');
    });

    it('refuses EXPLAIN ANALYZE, which runs the statement', async () => {
      for (const statement of [
        'EXPLAIN ANALYZE SELECT 1',
        'EXPLAIN (FORMAT JSON, ANALYZE) SELECT 1',
      ]) {
        await expect(
          runTool(sql.tools.sql_query, { connection: 'main', sql: statement }),
        ).rejects.toThrow('sql_query refuses EXPLAIN ANALYZE');
      }
    });

    it('runs ordinary SELECTs, CTEs, VALUES, TABLE and EXPLAIN, and strings that mention refused words', async () => {
      const table = database.name('t');
      const query = async (statement: string) =>
        (await runTool(sql.tools.sql_query, { connection: 'main', sql: statement })).rows;
      expect(await query("SELECT 'COPY (SELECT 1) TO PROGRAM ''true''; DO' AS text")).toEqual([
        { text: "COPY (SELECT 1) TO PROGRAM 'true'; DO" },
      ]);
      expect(await query("SELECT $q$pg_read_file('/etc/hostname'); COPY$q$ AS text")).toEqual([
        { text: "pg_read_file('/etc/hostname'); COPY" },
      ]);
      expect(await query("SELECT E'it\\'s; COPY' AS text -- COPY")).toEqual([
        { text: "it's; COPY" },
      ]);
      expect(await query(`SELECT "id" AS "COPY" FROM ${table} ORDER BY id`)).toEqual([
        { COPY: 1 },
        { COPY: 2 },
      ]);
      expect(
        await query(
          `WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x WHERE n < 3) SELECT n FROM x`,
        ),
      ).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(await query(`(SELECT id FROM ${table} ORDER BY id LIMIT 1);`)).toEqual([{ id: 1 }]);
      expect(await query('VALUES (1, 2)')).toEqual([{ column1: 1, column2: 2 }]);
      expect(await query(`TABLE ${table} ORDER BY id`)).toEqual([{ id: 1 }, { id: 2 }]);
      const plan = await query(`EXPLAIN (COSTS OFF) SELECT id FROM ${table}`);
      expect(plan[0]?.['QUERY PLAN']).toMatch(/Scan on t/);
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
