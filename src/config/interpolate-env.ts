import type { FieldError } from '../errors.js';
import { formatPath } from './format-issues.js';

/** What {@link interpolateEnv} reads references from, and where the value sits in its document. */
export interface InterpolateEnvOptions {
  /** The environment `${NAME}` reads. */
  env: Readonly<Record<string, string | undefined>>;
  /** Path of `value` in its document, for error messages (`['agents', 0]`). */
  path?: readonly PropertyKey[];
  /**
   * Strings at the paths this accepts (full paths, `path` included) are checked like the others
   * (their problems are reported, their values counted among `secrets`) but kept as written, for
   * the code that uses them to resolve later, with this same function.
   */
  keepAsWritten?: (path: readonly PropertyKey[]) => boolean;
}

/** The value with every reference replaced, the references that failed, and what came from the environment. */
export interface InterpolationResult<T> {
  value: T;
  /** One per string that could not be interpolated, named by its path. */
  fields: FieldError[];
  /** Values read from the environment (not defaults): callers must never print them. */
  secrets: string[];
}

/** `$${` (a literal `${`), or a `${…}` reference up to the first `}`, or an unterminated one. */
const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{[^}]*$/g;
/** `NAME` or `NAME:-default` inside `${…}`. */
const REFERENCE_BODY = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Replaces `${NAME}` and `${NAME:-default}` (the default applies when NAME is unset or empty)
 * in every string value of a parsed document, leaving keys and non-string values alone;
 * `$${` writes a literal `${`. Never mutates `value`. An unset variable without a default is a
 * field error naming the variable and the path where it appears. The one implementation of this
 * syntax, also for strings a file keeps as written and that are resolved later (`keepAsWritten`).
 */
export function interpolateEnv<T>(
  value: T,
  options: InterpolateEnvOptions,
): InterpolationResult<T> {
  const fields: FieldError[] = [];
  const secrets = new Set<string>();

  const visit = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') return interpolateString(node, path);
    if (Array.isArray(node)) return node.map((item, index) => visit(item, [...path, index]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([key, item]) => [key, visit(item, [...path, key])]),
      );
    }
    return node;
  };

  const interpolateString = (text: string, relativePath: PropertyKey[]): string => {
    const path = [...(options.path ?? []), ...relativePath];
    const problems: string[] = [];
    const result = text.replace(REFERENCE, (whole, body: string | undefined) => {
      if (whole === '$${') return '${';
      const parsed = body === undefined ? null : REFERENCE_BODY.exec(body);
      if (!parsed) {
        problems.push(`invalid reference "${whole}" (write \${NAME} or \${NAME:-default})`);
        return whole;
      }
      const name = parsed[1] ?? '';
      const fallback = parsed[2];
      const fromEnv = options.env[name];
      if (fromEnv !== undefined && (fromEnv !== '' || fallback === undefined)) {
        if (fromEnv !== '') secrets.add(fromEnv);
        return fromEnv;
      }
      if (fallback !== undefined) return fallback;
      problems.push(`environment variable ${name} is not set`);
      return whole;
    });
    const at = formatPath(path) || '(root)';
    for (const message of problems) fields.push({ path: at, message });
    return options.keepAsWritten?.(path) ? text : result;
  };

  return { value: visit(value, []) as T, fields, secrets: [...secrets] };
}
