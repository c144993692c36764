import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqlTools, type SqlTools } from '../../src/tools/built-in/index.js';
import { describeSqlTools } from './sql-tools-suite.js';
import { runTool } from './tool-harness.js';

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
  multipleStatementsRefusal: /more than one statement/,
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

  it('says which connection failed and why', async () => {
    await expect(
      runTool(sql.tools.sql_query, { connection: 'main', sql: 'SELECT * FROM missing' }),
    ).rejects.toThrow('sql_query on "main" failed: no such table: missing');
  });
});
