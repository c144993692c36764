import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NightshiftError } from '../../errors.js';
import { maskUrl } from '../../shared/redaction.js';

/** The database used when neither an URL nor `DATABASE_URL` is given. */
export const DEFAULT_DATABASE_URL = 'sqlite:./.nightshift/nightshift.db';

/** How a SQLite location is written. */
export const SQLITE_URL_FORMS =
  'sqlite:relative/path.db, sqlite:///absolute/path.db, sqlite::memory:, a file path';

/**
 * The file a `sqlite:` or `file:` URL, or a plain path, names: absolute (relative ones are
 * resolved against `cwd`), or `:memory:`. Throws `config_invalid` when it names no file.
 */
export function sqlitePathOf(url: string, cwd: string): string {
  const trimmed = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(trimmed)?.[1]?.toLowerCase();
  let path = trimmed;
  if (scheme === 'sqlite') {
    const rest = trimmed.slice('sqlite:'.length);
    // `sqlite:///abs` keeps its third slash; `sqlite://relative` and `sqlite:relative` do not have one.
    path = rest.startsWith('//') ? rest.slice(2) : rest;
  } else if (scheme === 'file') {
    path = fileURLToPath(trimmed);
  }
  if (path === '') {
    const message = `the database URL names no file: "${maskUrl(url)}" (use ${SQLITE_URL_FORMS})`;
    throw new NightshiftError('config_invalid', message, { fields: [{ path: 'url', message }] });
  }
  if (path === ':memory:') return path;
  return isAbsolute(path) ? path : resolve(cwd, path);
}
