import { NightshiftError } from '../../../errors.js';
import { tokenizeSql, type SqlDialect, type SqlToken } from './sql-tokenizer.js';

/** Statements `sql_query` runs on Postgres: those that return rows and nothing else. */
const POSTGRES_STATEMENTS = new Set(['select', 'with', 'values', 'table']);
const POSTGRES_ALLOWED = 'only row-returning statements (SELECT, WITH, VALUES, TABLE, EXPLAIN)';

/**
 * Postgres functions that reach past the database's tables: the server's files and programs,
 * large objects, other sessions, server configuration, replication, other databases, or SQL
 * text they run themselves (where no check here could see a refused name). A name is refused
 * wherever it appears, called or not.
 */
const POSTGRES_FUNCTIONS = new Set([
  'pg_stat_file',
  'pg_logdir_ls',
  'pg_current_logfile',
  'pg_rotate_logfile',
  'pg_logfile_rotate',
  'lo_import',
  'lo_export',
  'lo_get',
  'lo_put',
  'lo_from_bytea',
  'lo_open',
  'lo_close',
  'lo_creat',
  'lo_create',
  'lo_unlink',
  'lo_lseek',
  'lo_lseek64',
  'lo_tell',
  'lo_tell64',
  'lo_truncate',
  'lo_truncate64',
  'loread',
  'lowrite',
  'pg_reload_conf',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_log_backend_memory_contexts',
  'pg_promote',
  'pg_switch_wal',
  'pg_backup_start',
  'pg_backup_stop',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_drop_replication_slot',
  'pg_replication_slot_advance',
  'pg_logical_emit_message',
  'pg_import_system_collations',
  'set_config',
  'ts_stat',
  'ts_rewrite',
  'crosstab',
  'crosstab2',
  'crosstab3',
  'crosstab4',
  'connectby',
]);

/** Families refused by prefix: `pg_read_file`, `pg_ls_waldir`, `pg_file_write`, `dblink_exec` … */
const POSTGRES_FUNCTION_PREFIXES = [
  'pg_read_',
  'pg_ls_',
  'pg_file_',
  'dblink',
  'query_to_xml',
  'pg_advisory_',
  'pg_try_advisory_',
  'pg_create_',
  'pg_logical_slot_',
  'pg_replication_origin_',
  'pg_wal_replay_',
];

/** SQLite functions that load code or touch files beyond the connection's own database. */
const SQLITE_FUNCTIONS = new Set(['load_extension', 'fts3_tokenizer', 'readfile', 'writefile']);

/** SQLite statements that open or close another database file on the connection. */
const SQLITE_STATEMENTS_REFUSED: Record<string, string> = {
  attach: 'it would open another database file; query the configured connection only',
  detach: 'only the configured database is open',
};

/**
 * Checks one `sql_query` statement before it reaches the database and returns the text to run:
 * the statement alone, without leading comments or a trailing `;`.
 *
 * This is defence in depth, not the fence. The fence is the connection's database role — give
 * `sql_query` a role that can read only what agents may read, and nothing more (on Postgres no
 * superuser, no `pg_read_server_files` / `pg_execute_server_program`, no large-object or
 * `dblink` rights) — plus the read-only transaction (Postgres) or read-only file (SQLite).
 * This filter catches what those leave open to a permissive role: on Postgres, `COPY … TO
 * PROGRAM` and file-reading functions run fine inside a read-only transaction. It works on
 * tokens ({@link tokenizeSql}), so comments, string literals and quoted identifiers cannot hide
 * or fake a keyword; a function of the role's own that runs SQL text is beyond it.
 */
export function checkQueryStatement(sql: string, dialect: SqlDialect): string {
  const tokens = tokenizeSql(sql, dialect);
  const semicolon = tokens.findIndex(isSemicolon);
  const statement = semicolon < 0 ? tokens : tokens.slice(0, semicolon);
  if (semicolon >= 0 && !tokens.slice(semicolon).every(isSemicolon)) {
    throw refusal('more than one statement', 'send one statement per call');
  }
  const first = statement[0];
  const last = statement.at(-1);
  if (first === undefined || last === undefined) {
    throw new NightshiftError(
      'tool_error',
      'sql_query needs a statement: the SQL holds only comments or semicolons',
    );
  }
  const refusedName = statement.find(
    (token) =>
      (token.kind === 'word' || token.kind === 'quoted_identifier') &&
      (dialect === 'postgres'
        ? isRefusedPostgresFunction(token.text)
        : SQLITE_FUNCTIONS.has(token.text)),
  );
  if (refusedName !== undefined) {
    throw refusal(
      `${refusedName.text}()`,
      dialect === 'postgres'
        ? "it reaches the database server's files, programs, large objects, settings or other sessions"
        : 'it loads code or reads files outside the database',
    );
  }
  if (dialect === 'postgres') checkPostgresStatement(statement);
  else checkSqliteStatement(statement);
  return sql.slice(first.start, last.end);
}

/**
 * The statement must be one that returns rows. Writes inside a `WITH` are not looked for here:
 * the read-only transaction refuses them, and a cursor cannot be declared over them.
 */
function checkPostgresStatement(tokens: readonly SqlToken[]): void {
  let index = skipParentheses(tokens, 0);
  const keyword = tokens[index];
  if (keyword?.kind === 'word' && POSTGRES_STATEMENTS.has(keyword.text)) return;
  if (keyword?.kind !== 'word' || keyword.text !== 'explain') {
    throw refusal(shown(keyword), `${POSTGRES_ALLOWED} are allowed`);
  }
  index += 1;
  const options: SqlToken[] = [];
  if (isSymbol(tokens[index], '(')) {
    const close = matchingParenthesis(tokens, index);
    options.push(...tokens.slice(index + 1, close));
    index = close + 1;
  }
  while (isWord(tokens[index], 'analyze', 'analyse', 'verbose')) {
    options.push(tokens[index] as SqlToken);
    index += 1;
  }
  if (options.some((token) => isWord(token, 'analyze', 'analyse'))) {
    throw refusal(
      'EXPLAIN ANALYZE',
      'it runs the statement; use EXPLAIN without ANALYZE, or run the query itself',
    );
  }
  const explained = tokens[skipParentheses(tokens, index)];
  if (explained?.kind !== 'word' || !POSTGRES_STATEMENTS.has(explained.text)) {
    throw refusal(`EXPLAIN ${shown(explained)}`, `${POSTGRES_ALLOWED} are allowed`);
  }
}

/**
 * SQLite itself says whether a prepared statement writes (`sqlite-read-only-query.ts` refuses
 * those); `ATTACH` counts as read-only there yet opens any database file the process can read.
 */
function checkSqliteStatement(tokens: readonly SqlToken[]): void {
  let index = 0;
  // `EXPLAIN ATTACH …` only describes the program; refusing it too keeps the rule simple.
  if (isWord(tokens[index], 'explain')) index += 1;
  if (isWord(tokens[index], 'query') && isWord(tokens[index + 1], 'plan')) index += 2;
  const keyword = tokens[index];
  const reason = keyword?.kind === 'word' ? SQLITE_STATEMENTS_REFUSED[keyword.text] : undefined;
  if (keyword !== undefined && reason !== undefined) throw refusal(shown(keyword), reason);
}

function isRefusedPostgresFunction(name: string): boolean {
  return (
    POSTGRES_FUNCTIONS.has(name) ||
    POSTGRES_FUNCTION_PREFIXES.some((prefix) => name.startsWith(prefix))
  );
}

/** The index of the first token after any opening parentheses (`(SELECT …) UNION …`). */
function skipParentheses(tokens: readonly SqlToken[], start: number): number {
  let index = start;
  while (isSymbol(tokens[index], '(')) index += 1;
  return index;
}

function matchingParenthesis(tokens: readonly SqlToken[], open: number): number {
  let depth = 0;
  for (let index = open; index < tokens.length; index += 1) {
    if (isSymbol(tokens[index], '(')) depth += 1;
    if (isSymbol(tokens[index], ')')) depth -= 1;
    if (depth === 0) return index;
  }
  return tokens.length;
}

const isSemicolon = (token: SqlToken) => token.kind === 'symbol' && token.text === ';';
const isSymbol = (token: SqlToken | undefined, symbol: string) =>
  token?.kind === 'symbol' && token.text === symbol;
const isWord = (token: SqlToken | undefined, ...words: string[]) =>
  token?.kind === 'word' && words.includes(token.text);

/** How a refused token is named in the error: keywords in capitals, anything else described. */
function shown(token: SqlToken | undefined): string {
  if (token === undefined) return 'an incomplete statement';
  if (token.kind === 'word') return token.text.toUpperCase();
  return `a statement starting with ${token.kind === 'symbol' ? `"${token.text}"` : `a ${token.kind.replace('_', ' ')}`}`;
}

function refusal(what: string, why: string): NightshiftError {
  return new NightshiftError('tool_error', `sql_query refuses ${what}: ${why}`, {
    details: { refused: what },
  });
}
