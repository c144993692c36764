import { NightshiftError } from '../../../errors.js';

/** The SQL dialects the tools speak; their lexical rules differ where it matters for safety. */
export type SqlDialect = 'postgres' | 'sqlite';

/** One token of a statement. Comments are dropped; literals keep only their kind. */
export interface SqlToken {
  kind: 'word' | 'quoted_identifier' | 'string' | 'number' | 'parameter' | 'symbol';
  /**
   * Words and quoted identifiers lowercased (a quoted `"PG_READ_FILE"` is a different name to
   * Postgres, but lowercasing only ever makes the checks stricter); symbols as written; empty
   * for strings and numbers, whose content the checks must never look at.
   */
  text: string;
  /** Offsets into the statement text: `sql.slice(start, end)` is the token. */
  start: number;
  end: number;
}

/**
 * Splits SQL into tokens the way the database's own lexer does, so that whatever the statement
 * checks see as code is code to the database too: a keyword hidden in a comment is dropped, and
 * one inside a string literal or a quoted identifier is not mistaken for code.
 *
 * What matters for safety is where comments, strings and quoted identifiers begin and end; the
 * rules below follow Postgres' `scan.l` and SQLite's `tokenize.c` on exactly those points —
 * nested block comments (Postgres only), `''` doubling, `E'…'` backslash escapes, string pieces
 * joined across a newline (Postgres), dollar quoting (Postgres), and `[…]` / `` `…` ``
 * identifiers (SQLite). A literal left open is refused rather than guessed at.
 */
export function tokenizeSql(sql: string, dialect: SqlDialect): SqlToken[] {
  const tokens: SqlToken[] = [];
  let position = 0;
  while (position < sql.length) {
    const character = sql[position] ?? '';
    const next = sql[position + 1] ?? '';
    const start = position;
    if (isSpace(character)) {
      position += 1;
    } else if (character === '-' && next === '-') {
      position = lineCommentEnd(sql, position, dialect);
    } else if (character === '/' && next === '*') {
      position = blockCommentEnd(sql, position, dialect);
    } else if (character === "'") {
      position = stringEnd(sql, position, dialect === 'postgres' ? 'standard' : 'sqlite');
      tokens.push({ kind: 'string', text: '', start, end: position });
    } else if (character === '"') {
      const end = quotedEnd(sql, position, '"');
      tokens.push(quotedIdentifier(sql, start, end));
      position = end;
    } else if (dialect === 'sqlite' && (character === '`' || character === '[')) {
      const end = quotedEnd(sql, position, character === '[' ? ']' : '`');
      tokens.push(quotedIdentifier(sql, start, end));
      position = end;
    } else if (dialect === 'postgres' && character === '$') {
      position = dollarToken(sql, position, tokens);
    } else if (isDigit(character) || (character === '.' && isDigit(next))) {
      position = numberEnd(sql, position);
      tokens.push({ kind: 'number', text: '', start, end: position });
    } else if (isWordStart(character)) {
      position = wordEnd(sql, position);
      position = prefixedLiteral(sql, start, position, dialect, tokens);
    } else {
      position += 1;
      tokens.push({ kind: 'symbol', text: character, start, end: position });
    }
  }
  return tokens;
}

/** How a string literal's body is read. */
type StringMode = 'standard' | 'escape' | 'bits' | 'sqlite';

/**
 * A word that is really a literal's prefix — `E'…'`, `B'…'`, `X'…'`, `U&'…'`, `U&"…"` — becomes
 * that literal; any other word is pushed as it is. Returns where scanning goes on.
 */
function prefixedLiteral(
  sql: string,
  start: number,
  wordEnd: number,
  dialect: SqlDialect,
  tokens: SqlToken[],
): number {
  const word = sql.slice(start, wordEnd).toLowerCase();
  const following = sql[wordEnd] ?? '';
  if (dialect === 'postgres' && word.length === 1 && following === "'") {
    const mode: StringMode | undefined =
      word === 'e' ? 'escape' : word === 'b' || word === 'x' ? 'bits' : undefined;
    if (mode !== undefined || word === 'n') {
      const end = stringEnd(sql, wordEnd, mode ?? 'standard');
      tokens.push({ kind: 'string', text: '', start, end });
      return end;
    }
  }
  if (dialect === 'postgres' && word === 'u' && following === '&') {
    const quote = sql[wordEnd + 1];
    if (quote === "'") {
      // Unicode escapes here use a backslash but cannot escape the quote: a standard string.
      const end = stringEnd(sql, wordEnd + 1, 'standard');
      tokens.push({ kind: 'string', text: '', start, end });
      return end;
    }
    if (quote === '"') {
      // `U&"\0070g_read_file"` spells a name in escapes no word check would see through.
      throw new NightshiftError(
        'tool_error',
        'sql_query refuses U&"…" identifiers: write the name plainly, or in ordinary "quotes"',
        { details: { refused: 'U&' } },
      );
    }
  }
  if (dialect === 'sqlite' && word === 'x' && following === "'") {
    const end = stringEnd(sql, wordEnd, 'bits');
    tokens.push({ kind: 'string', text: '', start, end });
    return end;
  }
  tokens.push({ kind: 'word', text: word, start, end: wordEnd });
  return wordEnd;
}

/** The end of a string literal whose opening quote is at `quote`. */
function stringEnd(sql: string, quote: number, mode: StringMode): number {
  let position = quote + 1;
  for (;;) {
    if (position >= sql.length) throw unterminated('string literal');
    const character = sql[position];
    if (mode === 'escape' && character === '\\') {
      position += 2;
    } else if (character === "'") {
      if (mode !== 'bits' && sql[position + 1] === "'") {
        position += 2;
        continue;
      }
      position += 1;
      // Postgres joins `'a'` newline `'b'` into one literal, read on in the same mode.
      const continued = mode === 'sqlite' ? undefined : continuation(sql, position);
      if (continued === undefined) return position;
      position = continued + 1;
    } else {
      position += 1;
    }
  }
}

/**
 * Where the next piece of a continued Postgres string opens, if one does: after the closing
 * quote, spaces and `--` comments including at least one newline, then a quote (`quotecontinue`
 * in `scan.l`; block comments do not qualify).
 */
function continuation(sql: string, afterQuote: number): number | undefined {
  let position = afterQuote;
  let newline = false;
  while (position < sql.length) {
    const character = sql[position] ?? '';
    if (character === '\n' || character === '\r') {
      newline = true;
      position += 1;
    } else if (isSpace(character)) {
      position += 1;
    } else if (character === '-' && sql[position + 1] === '-') {
      position = lineCommentEnd(sql, position, 'postgres');
    } else {
      break;
    }
  }
  return newline && sql[position] === "'" ? position : undefined;
}

/** The end of a quoted identifier opened at `start`, with the closing character doubled to escape it. */
function quotedEnd(sql: string, start: number, close: string): number {
  let position = start + 1;
  for (;;) {
    const found = sql.indexOf(close, position);
    if (found < 0) throw unterminated('quoted identifier');
    // SQLite's `[…]` has no escape: it ends at the first `]`.
    if (close !== ']' && sql[found + 1] === close) {
      position = found + 2;
      continue;
    }
    return found + 1;
  }
}

function quotedIdentifier(sql: string, start: number, end: number): SqlToken {
  return {
    kind: 'quoted_identifier',
    text: sql.slice(start + 1, end - 1).toLowerCase(),
    start,
    end,
  };
}

const DOLLAR_QUOTE = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z_0-9\u0080-\uffff]*)?\$/y;

/** A Postgres `$…`: a dollar-quoted string (`$$…$$`, `$tag$…$tag$`), a `$1` parameter, or a bare `$`. */
function dollarToken(sql: string, start: number, tokens: SqlToken[]): number {
  DOLLAR_QUOTE.lastIndex = start;
  const delimiter = DOLLAR_QUOTE.exec(sql)?.[0];
  if (delimiter !== undefined) {
    const close = sql.indexOf(delimiter, start + delimiter.length);
    if (close < 0) throw unterminated('dollar-quoted string');
    const end = close + delimiter.length;
    tokens.push({ kind: 'string', text: '', start, end });
    return end;
  }
  let end = start + 1;
  while (isDigit(sql[end] ?? '')) end += 1;
  tokens.push(
    end > start + 1
      ? { kind: 'parameter', text: sql.slice(start, end), start, end }
      : { kind: 'symbol', text: '$', start, end },
  );
  return end;
}

function lineCommentEnd(sql: string, start: number, dialect: SqlDialect): number {
  let position = start + 2;
  // Postgres ends a `--` comment at \n or \r; SQLite only at \n.
  while (position < sql.length) {
    const character = sql[position];
    if (character === '\n' || (dialect === 'postgres' && character === '\r')) break;
    position += 1;
  }
  return position;
}

/**
 * Postgres nests block comments and refuses an open one; SQLite ends one at the first `*\/` and
 * lets an open one run to the end. Reading SQLite's as nested would hide code that follows.
 */
function blockCommentEnd(sql: string, start: number, dialect: SqlDialect): number {
  let position = start + 2;
  let depth = 1;
  while (position < sql.length) {
    if (sql.startsWith('*/', position)) {
      depth -= 1;
      position += 2;
      if (depth === 0) return position;
    } else if (dialect === 'postgres' && sql.startsWith('/*', position)) {
      depth += 1;
      position += 2;
    } else {
      position += 1;
    }
  }
  if (dialect === 'sqlite') return position;
  throw unterminated('block comment');
}

/**
 * A numeric literal: digits, a fraction, an exponent only when digits follow the `e`. It stops
 * before anything else, as Postgres up to 14 did (`1e'…'` is `1` and then an E-string there).
 */
function numberEnd(sql: string, start: number): number {
  let position = start;
  while (isDigit(sql[position] ?? '') || sql[position] === '_') position += 1;
  if (sql[position] === '.') {
    position += 1;
    while (isDigit(sql[position] ?? '') || sql[position] === '_') position += 1;
  }
  const exponent = /[eE][+-]?\d/y;
  exponent.lastIndex = position;
  if (exponent.test(sql)) {
    position = exponent.lastIndex;
    while (isDigit(sql[position] ?? '')) position += 1;
  }
  return position;
}

function wordEnd(sql: string, start: number): number {
  let position = start + 1;
  while (position < sql.length && isWordPart(sql[position] ?? '')) position += 1;
  return position;
}

/**
 * ASCII whitespace only: both lexers take U+00A0 and other non-ASCII characters as letters, so a
 * wider notion of space would split a word the database reads as one (and could make its last
 * letter look like an `E'` prefix).
 */
const isSpace = (character: string) => /^[ \t\n\r\f\v]$/.test(character);
const isDigit = (character: string) => character >= '0' && character <= '9';
/** Both lexers take any non-ASCII character as a letter. */
const isWordStart = (character: string) => /[A-Za-z_]/.test(character) || character >= '\u0080';
const isWordPart = (character: string) =>
  isWordStart(character) || isDigit(character) || character === '$';

function unterminated(what: string): NightshiftError {
  return new NightshiftError(
    'tool_error',
    `sql_query refuses an unterminated ${what}: close it, or the database could not parse the statement either`,
    { details: { refused: `unterminated ${what}` } },
  );
}
