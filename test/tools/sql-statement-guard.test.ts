import { describe, expect, it } from 'vitest';
import { checkQueryStatement } from '../../src/tools/built-in/sql/sql-statement-guard.js';

const postgres = (sql: string) => checkQueryStatement(sql, 'postgres');
const sqlite = (sql: string) => checkQueryStatement(sql, 'sqlite');

describe('checkQueryStatement on postgres', () => {
  it.each([
    ['SELECT 1', 'SELECT 1'],
    ['select 1;', 'select 1'],
    ['  /* lead */ SELECT 1 ;; -- trail', 'SELECT 1'],
    ['(SELECT 1) UNION (SELECT 2)', '(SELECT 1) UNION (SELECT 2)'],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 'WITH x AS (SELECT 1) SELECT * FROM x'],
    ['VALUES (1)', 'VALUES (1)'],
    ['TABLE app.events', 'TABLE app.events'],
    ['EXPLAIN SELECT 1', 'EXPLAIN SELECT 1'],
    ['EXPLAIN (COSTS OFF, FORMAT JSON) SELECT 1', 'EXPLAIN (COSTS OFF, FORMAT JSON) SELECT 1'],
    ['EXPLAIN VERBOSE (SELECT 1)', 'EXPLAIN VERBOSE (SELECT 1)'],
    ["SELECT 'COPY; pg_read_file(''x'')'", "SELECT 'COPY; pg_read_file(''x'')'"],
    ['SELECT $$COPY; DO$$', 'SELECT $$COPY; DO$$'],
    ['SELECT $a$ $b$ ; $b$ $a$', 'SELECT $a$ $b$ ; $b$ $a$'],
    ["SELECT E'it\\'s; COPY'", "SELECT E'it\\'s; COPY'"],
    ["SELECT 'a'\n  'b; COPY'", "SELECT 'a'\n  'b; COPY'"],
    ['SELECT "COPY", "a""b" FROM t', 'SELECT "COPY", "a""b" FROM t'],
    ['SELECT $1::int, a$b$ FROM t', 'SELECT $1::int, a$b$ FROM t'],
    ['SELECT /* nested /* ; COPY */ still; */ 1', 'SELECT /* nested /* ; COPY */ still; */ 1'],
    ["SELECT U&'d\\0061t'", "SELECT U&'d\\0061t'"],
  ])('accepts %j', (sql, statement) => {
    expect(postgres(sql)).toBe(statement);
  });

  it.each([
    ['COPY (SELECT 1) TO PROGRAM $$true$$', 'COPY: only row-returning statements'],
    ['/**/COPY t TO STDOUT', 'COPY: '],
    // \r ends a -- comment for Postgres: COPY is code.
    ['-- note\rCOPY t TO STDOUT', 'COPY: '],
    ['DO $$ BEGIN END $$', 'DO: '],
    ['CALL p()', 'CALL: '],
    ['SHOW data_directory', 'SHOW: '],
    ['SET ROLE postgres', 'SET: '],
    ["'text'", 'a statement starting with a string: '],
    ['SELECT 1; SELECT 2', 'more than one statement'],
    ["SELECT ';' ; DO $$ $$", 'more than one statement'],
    // An E-string escapes its quote with a backslash: the ; is code.
    ["SELECT E'\\'' ; COPY t TO STDOUT --'", 'more than one statement'],
    // The continued piece of an E-string is read as an E-string too.
    ["SELECT E'a'\n'\\'' , pg_read_file('/x') --'", 'pg_read_file(): '],
    // U+00A0 is a letter to Postgres: "\u00a0e" is a name, and '\' a plain string after it.
    ["SELECT 1 AS \u00a0e'\\' , pg_read_file('/x') --'", 'pg_read_file(): '],
    // Up to Postgres 14, 1e'…' lexes as 1 and an E-string.
    ["SELECT 1e'\\'' , pg_read_file('/x') --'", 'pg_read_file(): '],
    ['SELECT pg_catalog."pg_read_file"(\'x\')', 'pg_read_file(): '],
    ["SELECT * FROM PG_LS_DIR('.')", 'pg_ls_dir(): '],
    ["SELECT dblink_exec('x')", 'dblink_exec(): '],
    ["SELECT lo_import('/etc/passwd')", 'lo_import(): '],
    ['SELECT pg_advisory_lock(1)', 'pg_advisory_lock(): '],
    ['SELECT U&"\\0070g_read_file"(1)', 'U&"…" identifiers'],
    ['EXPLAIN ANALYZE SELECT 1', 'EXPLAIN ANALYZE: '],
    ['EXPLAIN (analyse false) SELECT 1', 'EXPLAIN ANALYZE: '],
    ['EXPLAIN DELETE FROM t', 'EXPLAIN DELETE: '],
    ["SELECT 'open", 'unterminated string literal'],
    ['SELECT $x$ open', 'unterminated dollar-quoted string'],
    ['SELECT 1 /* open', 'unterminated block comment'],
    ['SELECT "open', 'unterminated quoted identifier'],
  ])('refuses %j', (sql, message) => {
    expect(() => postgres(sql)).toThrow(message);
  });

  it('says the whole refusal in one message, naming the statement', () => {
    expect(() => postgres("COPY (SELECT 1) TO PROGRAM 'true'")).toThrow(
      'sql_query refuses COPY: only row-returning statements (SELECT, WITH, VALUES, TABLE, EXPLAIN) are allowed',
    );
  });

  it('needs a statement', () => {
    expect(() => postgres(' ; -- nothing')).toThrow('sql_query needs a statement');
  });
});

describe('checkQueryStatement on sqlite', () => {
  it.each([
    ['SELECT 1;', 'SELECT 1'],
    ['PRAGMA table_info(t)', 'PRAGMA table_info(t)'],
    ["SELECT [it's], `a``b` FROM t", "SELECT [it's], `a``b` FROM t"],
    // SQLite ends a -- comment only at \n, and lets an open /* run to the end.
    ['SELECT 1 -- x\r ATTACH', 'SELECT 1'],
    ['SELECT 1 /* open', 'SELECT 1'],
    ["SELECT 'ATTACH ''x''' AS attach_note", "SELECT 'ATTACH ''x''' AS attach_note"],
    ["SELECT x'00ff'", "SELECT x'00ff'"],
  ])('accepts %j', (sql, statement) => {
    expect(sqlite(sql)).toBe(statement);
  });

  it.each([
    ["ATTACH 'other.db' AS other", 'ATTACH: '],
    ['DETACH other', 'DETACH: '],
    ["EXPLAIN QUERY PLAN ATTACH 'other.db' AS other", 'ATTACH: '],
    // No nesting in SQLite: the comment ends at the first */, and ATTACH is code.
    ["/* /* */ ATTACH 'other.db' AS other /* */", 'ATTACH: '],
    ["SELECT load_extension('x')", 'load_extension(): '],
    ["SELECT [LOAD_EXTENSION]('x')", 'load_extension(): '],
    // A ' inside [...] opens no string, so the ; is code.
    ["SELECT [it's] FROM t; ATTACH 'x' AS y", 'more than one statement'],
    // SQLite has no E-strings or dollar quotes.
    ["SELECT E'\\' ; ATTACH 'x' AS y --'", 'more than one statement'],
    ['SELECT $$;$$', 'more than one statement'],
    ["SELECT 'open", 'unterminated string literal'],
  ])('refuses %j', (sql, message) => {
    expect(() => sqlite(sql)).toThrow(message);
  });
});
