import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqlTools, type SqlTools } from '../../src/tools/built-in/index.js';
import { describeSqlTools } from './sql-tools-suite.js';
import { runTool, toolContext } from './tool-harness.js';

/**
 * Runs for many seconds inside one native SQLite step (seconds): nothing returns to
 * JavaScript until it ends, so only stopping the process running it stops it.
 */
const RUNAWAY =
  'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT count(*) AS n FROM c';

/** Counts main-thread timer ticks while `pending` is unsettled: proof the event loop was free. */
async function ticksWhile<T>(
  pending: () => Promise<T>,
): Promise<{ ticks: number; settled: Promise<T> }> {
  let ticks = 0;
  let running = true;
  const timer = setInterval(() => {
    if (running) ticks += 1;
  }, 5);
  const settled = pending().finally(() => {
    running = false;
    clearInterval(timer);
  });
  await settled.catch(() => undefined);
  return { ticks, settled };
}

async function openSqlite() {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'nightshift-sqlite-tools-'));
  const file = path.join(directory, 'app.db');
  const connection = new Database(file);
  connection.pragma('journal_mode = WAL');
  return {
    url: `sqlite://${file}`,
    file,
    name: (table: string) => table,
    execute: async (sql: string) => void connection.exec(sql),
    rows: async (sql: string) => connection.prepare(sql).all() as Array<Record<string, unknown>>,
    placeholder: () => '?',
    failDeletes: async (table: string) =>
      void connection.exec(
        `CREATE TRIGGER fail_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, 'simulated crash'); END`,
      ),
    allowDeletes: async () => void connection.exec('DROP TRIGGER fail_delete'),
    drop: async () => {
      connection.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

describeSqlTools('sqlite', openSqlite, {
  readOnlyRefusal: /sql_query is read-only: this statement would change the database/,
  multipleStatementsRefusal: /^sql_query refuses more than one statement: /,
  timestampType: 'text',
});

describe('sql_query on sqlite', () => {
  let database: Awaited<ReturnType<typeof openSqlite>>;
  let sql: SqlTools;
  beforeEach(async () => {
    database = await openSqlite();
    await database.execute('CREATE TABLE t (id integer PRIMARY KEY, big integer)');
    await database.execute('INSERT INTO t VALUES (1, 9007199254740993)');
    sql = createSqlTools({ connections: { main: database.url } });
  });
  afterEach(async () => {
    await sql.close();
    await database.drop();
  });

  it('refuses VACUUM INTO, which would write a file even on a read-only connection', async () => {
    const target = path.join(path.dirname(database.file), 'copy.db');
    await expect(
      runTool(sql.tools.sql_query, { connection: 'main', sql: `VACUUM INTO '${target}'` }),
    ).rejects.toThrow('sql_query is read-only');
    expect(existsSync(target)).toBe(false);
  });

  it('keeps integers beyond 2^53 exact, as text', async () => {
    const result = await runTool(sql.tools.sql_query, {
      connection: 'main',
      sql: 'SELECT id, big FROM t',
    });
    expect(result.rows).toEqual([{ id: 1, big: '9007199254740993' }]);
  });

  it('stops a runaway query at the abort signal without blocking the event loop, and the connection works after', async () => {
    // A warm query first, so the runaway one is what the abort interrupts.
    await runTool(sql.tools.sql_query, { connection: 'main', sql: 'SELECT 1 AS n' });
    const { ticks, settled } = await ticksWhile(() =>
      runTool(
        sql.tools.sql_query,
        { connection: 'main', sql: RUNAWAY },
        toolContext({ abortSignal: AbortSignal.timeout(300) }),
      ),
    );
    await expect(settled).rejects.toThrow('The operation was aborted due to timeout');
    expect(ticks).toBeGreaterThan(0);
    const after = await runTool(sql.tools.sql_query, {
      connection: 'main',
      sql: 'SELECT id FROM t',
    });
    expect(after.rows).toEqual([{ id: 1 }]);
  });

  it('answers another query on the same connection while a runaway one runs', async () => {
    const controller = new AbortController();
    const runaway = runTool(
      sql.tools.sql_query,
      { connection: 'main', sql: RUNAWAY },
      toolContext({ abortSignal: controller.signal }),
    );
    runaway.catch(() => undefined);
    try {
      const other = await runTool(sql.tools.sql_query, {
        connection: 'main',
        sql: 'SELECT id FROM t',
      });
      expect(other.rows).toEqual([{ id: 1 }]);
    } finally {
      controller.abort(new Error('test done'));
    }
    await expect(runaway).rejects.toThrow('test done');
  });

  it('stops a runaway query at the statement timeout', async () => {
    const limited = createSqlTools({
      connections: { main: database.url },
      statement_timeout_seconds: 0.3,
    });
    try {
      const { ticks, settled } = await ticksWhile(() =>
        runTool(limited.tools.sql_query, { connection: 'main', sql: RUNAWAY }),
      );
      await expect(settled).rejects.toThrow(
        'sql_query on "main" failed: the statement ran longer than the 0.3s statement timeout and was stopped',
      );
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it('stops sql_archive at the abort signal while a batch runs, without blocking the event loop', async () => {
    const { ticks, settled } = await ticksWhile(() =>
      runTool(
        sql.tools.sql_archive,
        {
          connection: 'main',
          table: 't',
          where: `id = (${RUNAWAY})`,
          order_by: 'id',
          destination: { table: 't_archive' },
        },
        toolContext({ abortSignal: AbortSignal.timeout(300) }),
      ),
    );
    await expect(settled).rejects.toThrow('The operation was aborted due to timeout');
    expect(ticks).toBeGreaterThan(0);
    expect(await database.rows('SELECT id FROM t')).toEqual([{ id: 1 }]);
  });

  it('refuses ATTACH and DETACH, also behind a comment', async () => {
    const other = path.join(path.dirname(database.file), 'other.db');
    new Database(other).close();
    for (const statement of [
      `ATTACH '${other}' AS other`,
      `/* harmless */ attach database '${other}' AS other`,
      `-- note\n  ATTACH '${other}' AS other;`,
      'DETACH other',
    ]) {
      await expect(
        runTool(sql.tools.sql_query, { connection: 'main', sql: statement }),
      ).rejects.toThrow(/^sql_query refuses (ATTACH|DETACH): /);
    }
  });

  it('refuses load_extension(), also as a quoted name', async () => {
    for (const statement of [
      "SELECT load_extension('/tmp/evil')",
      'SELECT "load_extension"(\'/tmp/evil\')',
      "SELECT [LOAD_EXTENSION]('/tmp/evil')",
    ]) {
      await expect(
        runTool(sql.tools.sql_query, { connection: 'main', sql: statement }),
      ).rejects.toThrow('sql_query refuses load_extension()');
    }
  });

  it('still runs statements whose strings and identifiers only mention refused words', async () => {
    const result = await runTool(sql.tools.sql_query, {
      connection: 'main',
      sql: "SELECT 'ATTACH x; load_extension(y)' AS [attach note] -- DETACH\n;",
    });
    expect(result.rows).toEqual([{ 'attach note': 'ATTACH x; load_extension(y)' }]);
  });

  it('says which connection failed and why', async () => {
    await expect(
      runTool(sql.tools.sql_query, { connection: 'main', sql: 'SELECT * FROM missing' }),
    ).rejects.toThrow('sql_query on "main" failed: no such table: missing');
  });
});
