import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { errorMessage, NightshiftError } from '../errors.js';

const YAML_EXTENSIONS = ['.yaml', '.yml'];
const JSON_EXTENSION = '.json';

/**
 * Reads a configuration file and parses it as YAML or JSON, chosen by its extension.
 * A file that cannot be read or parsed is a `config_invalid` error naming the file, and the
 * line and column of a syntax error; `details` carries `file`, `line` and `column`.
 */
export function readConfigDocument(path: string): unknown {
  const extension = extname(path).toLowerCase();
  if (!YAML_EXTENSIONS.includes(extension) && extension !== JSON_EXTENSION) {
    throw unreadable(
      path,
      `unsupported file type "${extension || '(none)'}" (use .yaml, .yml or .json)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : errorMessage(error);
    throw unreadable(path, `cannot read the file: ${reason}`, { cause: error });
  }
  return extension === JSON_EXTENSION ? parseJson(path, text) : parseYaml(path, text);
}

function parseYaml(path: string, text: string): unknown {
  const document = parseDocument(text, { prettyErrors: true });
  const first = document.errors[0];
  if (first) {
    const position = first.linePos?.[0];
    // The parser appends "at line L, column C:" and a code excerpt; the position is said once, up front.
    const reason = first.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? '';
    throw syntaxError(path, reason, position?.line, position?.col, first);
  }
  try {
    return document.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw syntaxError(path, errorMessage(error), undefined, undefined, error);
  }
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = errorMessage(error);
    // V8 says where for most errors ("… in JSON at position 42"), and quotes the text for others.
    const offset = /at position (\d+)/.exec(message)?.[1];
    const reason = message
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/^(Unexpected token .+?), ".*" is not valid JSON$/s, '$1');
    const at =
      offset !== undefined
        ? Number(offset)
        : /end of JSON input/.test(message)
          ? text.length
          : undefined;
    if (at === undefined) throw syntaxError(path, reason, undefined, undefined, error);
    const before = text.slice(0, at).split('\n');
    const column = (before.at(-1)?.length ?? 0) + 1;
    throw syntaxError(path, reason, before.length, column, error);
  }
}

function syntaxError(
  path: string,
  reason: string,
  line: number | undefined,
  column: number | undefined,
  cause: unknown,
): NightshiftError {
  const where = line === undefined ? '' : `line ${line}, column ${column ?? 1}: `;
  return unreadable(path, `syntax error: ${where}${reason}`, {
    cause,
    details: line === undefined ? {} : { line, column },
  });
}

function unreadable(
  path: string,
  problem: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): NightshiftError {
  return new NightshiftError('config_invalid', `${path}: ${problem}`, {
    cause: options.cause,
    details: { file: path, ...options.details },
  });
}
