import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqlTools, type SqlTools } from '../../src/tools/built-in/index.js';
import { runTool } from './tool-harness.js';

/** One database a suite run talks to, fresh for each test. */
export interface SqlTestDatabase {
  /** Connection URL for `createSqlTools`. */
  url: string;
  /** The table name as the tools should be given it (schema-qualified where needed). */
  name(table: string): string;
  /** Runs setup SQL directly, outside the tools. */
  execute(sql: string): Promise<void>;
  /** Reads rows directly, outside the tools. */
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  /** The n-th (1-based) placeholder in this dialect. */
  placeholder(n: number): string;
  /** Makes every DELETE on `table` fail until removed: a crash between archive write and delete. */
  failDeletes(table: string): Promise<void>;
  allowDeletes(table: string): Promise<void>;
  drop(): Promise<void>;
}

/** How a dialect words the refusals the suite checks. */
export interface SqlDialectExpectations {
  readOnlyRefusal: RegExp;
  multipleStatementsRefusal: RegExp;
  /** Column type for a timestamp kept as text. */
  timestampType: string;
}

const ROWS = 40;
const OLD = 25;

/**
 * The behaviour `sql_query` and `sql_archive` promise on every dialect, run against a real
 * database per dialect (`describeSqlTools('sqlite', …)`, `describeSqlTools('postgres', …)`).
 */
export function describeSqlTools(
  dialect: string,
  open: () => Promise<SqlTestDatabase>,
  expectations: SqlDialectExpectations,
): void {
  describe(`sql tools on ${dialect}`, () => {
    let database: SqlTestDatabase;
    let archiveDirectory: string;
    let sql: SqlTools;
    let events: string;

    beforeEach(async () => {
      database = await open();
      archiveDirectory = await mkdtemp(path.join(os.tmpdir(), 'nightshift-archive-'));
      events = database.name('events');
      await database.execute(
        `CREATE TABLE ${events} (id integer PRIMARY KEY, kind text NOT NULL, created_at ${expectations.timestampType}, note text)`,
      );
      const values = Array.from({ length: ROWS }, (_, index) => {
        const id = index + 1;
        const kind = id <= OLD ? 'old' : 'new';
        const note = id % 7 === 0 ? 'NULL' : `'note "${id}" it''s'`;
        return `(${id}, '${kind}', '2024-01-${String((id % 28) + 1).padStart(2, '0')} 10:00:00', ${note})`;
      });
      await database.execute(`INSERT INTO ${events} VALUES ${values.join(', ')}`);
      sql = createSqlTools({
        connections: { main: database.url },
        archive_directory: archiveDirectory,
      });
    });

    afterEach(async () => {
      await sql.close();
      await database.drop();
      await rm(archiveDirectory, { recursive: true, force: true });
    });

    const remainingIds = async () =>
      (await database.rows(`SELECT id FROM ${events} ORDER BY id`)).map((row) => Number(row.id));
    const oldIds = Array.from({ length: OLD }, (_, index) => index + 1);
    const newIds = Array.from({ length: ROWS - OLD }, (_, index) => OLD + index + 1);
    const archiveInput = (destination: object, extra: object = {}) => ({
      connection: 'main',
      table: events,
      where: `kind = ${database.placeholder(1)}`,
      params: ['old'],
      order_by: 'id',
      batch_size: 10,
      destination,
      ...extra,
    });
    const fileLines = async (file: string) =>
      (await readFile(path.join(archiveDirectory, file), 'utf8'))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);

    it('sql_query returns rows, with parameters', async () => {
      const result = await runTool(sql.tools.sql_query, {
        connection: 'main',
        sql: `SELECT id, kind, note FROM ${events} WHERE id IN (${database.placeholder(1)}, ${database.placeholder(2)}) ORDER BY id`,
        params: [1, 7],
      });
      expect(result).toEqual({
        columns: ['id', 'kind', 'note'],
        rows: [
          { id: 1, kind: 'old', note: `note "1" it's` },
          { id: 7, kind: 'old', note: null },
        ],
        row_count: 2,
        truncated: false,
      });
    });

    it('sql_query caps the row count and says so', async () => {
      const result = await runTool(sql.tools.sql_query, {
        connection: 'main',
        sql: `SELECT id FROM ${events} ORDER BY id`,
        max_rows: 5,
      });
      expect(result.rows).toEqual([1, 2, 3, 4, 5].map((id) => ({ id })));
      expect(result).toMatchObject({ row_count: 5, truncated: true });
      expect(result.note).toMatch(/only the first 5 rows/);
    });

    it('sql_query refuses a write: the DELETE fails and the row is still there', async () => {
      await expect(
        runTool(sql.tools.sql_query, {
          connection: 'main',
          sql: `DELETE FROM ${events} WHERE id = 1`,
        }),
      ).rejects.toThrow(expectations.readOnlyRefusal);
      expect(await remainingIds()).toHaveLength(ROWS);
    });

    it('sql_query refuses a second statement smuggled after the first', async () => {
      await expect(
        runTool(sql.tools.sql_query, {
          connection: 'main',
          sql: `SELECT 1; COMMIT; DELETE FROM ${events}`,
        }),
      ).rejects.toThrow(expectations.multipleStatementsRefusal);
      expect(await remainingIds()).toHaveLength(ROWS);
    });

    it('sql_archive moves exactly the matching rows, in batches, to a table', async () => {
      const archive = database.name('events_archive');
      const result = await runTool(sql.tools.sql_archive, archiveInput({ table: archive }));
      expect(result).toEqual({
        moved: OLD,
        batches: 3,
        complete: true,
        destination: `table ${archive}`,
      });
      expect(await remainingIds()).toEqual(newIds);
      const archived = await database.rows(`SELECT id, kind, note FROM ${archive} ORDER BY id`);
      expect(archived.map((row) => Number(row.id))).toEqual(oldIds);
      expect(archived[0]).toMatchObject({ kind: 'old', note: `note "1" it's` });

      const again = await runTool(sql.tools.sql_archive, archiveInput({ table: archive }));
      expect(again).toMatchObject({ moved: 0, batches: 0, complete: true });
    });

    it('sql_archive stops at max_batches and says it is not complete', async () => {
      const archive = database.name('events_archive');
      const result = await runTool(
        sql.tools.sql_archive,
        archiveInput({ table: archive }, { max_batches: 2 }),
      );
      expect(result).toMatchObject({ moved: 20, batches: 2, complete: false });
      expect(await remainingIds()).toEqual([...oldIds.slice(20), ...newIds]);
    });

    it('sql_archive moves exactly the matching rows, in batches, to a JSONL file', async () => {
      const result = await runTool(
        sql.tools.sql_archive,
        archiveInput({ jsonl_file: 'archive/events.jsonl' }),
      );
      expect(result).toEqual({
        moved: OLD,
        batches: 3,
        complete: true,
        destination: 'file archive/events.jsonl',
      });
      expect(await remainingIds()).toEqual(newIds);
      const lines = await fileLines('archive/events.jsonl');
      expect(lines.map((row) => row.id)).toEqual(oldIds);
      expect(lines[0]).toEqual({
        id: 1,
        kind: 'old',
        created_at: '2024-01-02 10:00:00',
        note: `note "1" it's`,
      });
      expect(lines[6]?.note).toBeNull();
    });

    it('sql_archive to JSONL loses and duplicates nothing when a crash falls between write and delete', async () => {
      await database.failDeletes(events);
      await expect(
        runTool(sql.tools.sql_archive, archiveInput({ jsonl_file: 'events.jsonl' })),
      ).rejects.toThrow(/simulated crash/);
      // The first batch reached the file; its delete never committed.
      expect((await fileLines('events.jsonl')).map((row) => row.id)).toEqual(oldIds.slice(0, 10));
      expect(await remainingIds()).toHaveLength(ROWS);

      await database.allowDeletes(events);
      const result = await runTool(
        sql.tools.sql_archive,
        archiveInput({ jsonl_file: 'events.jsonl' }),
      );
      expect(result).toMatchObject({ moved: OLD, recovered: 10, complete: true });
      expect((await fileLines('events.jsonl')).map((row) => row.id)).toEqual(oldIds);
      expect(await remainingIds()).toEqual(newIds);
    });

    it('sql_archive to JSONL cuts a partial last line a crash left, and writes those rows again', async () => {
      await runTool(
        sql.tools.sql_archive,
        archiveInput({ jsonl_file: 'events.jsonl' }, { max_batches: 1 }),
      );
      await appendFile(path.join(archiveDirectory, 'events.jsonl'), '{"id":11,"kind":"ol');
      const result = await runTool(
        sql.tools.sql_archive,
        archiveInput({ jsonl_file: 'events.jsonl' }),
      );
      expect(result).toMatchObject({ moved: 15, complete: true });
      expect((await fileLines('events.jsonl')).map((row) => row.id)).toEqual(oldIds);
    });

    it('sql_archive refuses names that are not plain identifiers, and JSONL paths leaving the directory', async () => {
      await expect(
        runTool(sql.tools.sql_archive, {
          ...archiveInput({ table: 'a' }),
          table: `${events}; DROP TABLE x`,
        }),
      ).rejects.toThrow('table: "');
      await expect(
        runTool(sql.tools.sql_archive, { ...archiveInput({ table: 'a' }), order_by: 'id DESC' }),
      ).rejects.toThrow('order_by: "id DESC" is not a plain SQL name');
      await expect(
        runTool(sql.tools.sql_archive, archiveInput({ table: 'x" ; DELETE' })),
      ).rejects.toThrow('destination.table');
      await expect(
        runTool(sql.tools.sql_archive, archiveInput({ jsonl_file: '../escape.jsonl' })),
      ).rejects.toThrow('refused: "../escape.jsonl" contains ".."');
      expect(await remainingIds()).toHaveLength(ROWS);
    });

    it('sql_archive refuses JSONL destinations when no archive directory is configured', async () => {
      const tableOnly = createSqlTools({ connections: { main: database.url } });
      try {
        await expect(
          runTool(tableOnly.tools.sql_archive, archiveInput({ jsonl_file: 'events.jsonl' })),
        ).rejects.toThrow('no archive directory is configured');
      } finally {
        await tableOnly.close();
      }
    });

    it('marks sql_query idempotent and sql_archive not', () => {
      expect(sql.tools.sql_query.idempotent).toBe(true);
      expect(sql.tools.sql_archive.idempotent).toBe(false);
    });
  });
}
