import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NightshiftError } from '../errors.js';
import { maskUrl } from './mask-url.js';

/** The database used when neither an URL nor `DATABASE_URL` is given. */
export const DEFAULT_DATABASE_URL = 'sqlite:./.nightshift/nightshift.db';

/** A database location, understood. */
export type DatabaseLocation =
  | { dialect: 'sqlite'; /** An absolute file path, or `:memory:`. */ path: string }
  | { dialect: 'postgres'; url: string };

const ACCEPTED_FORMS =
  'sqlite:relative/path.db, sqlite:///absolute/path.db, sqlite::memory:, a file path, or postgres://…';

/**
 * Reads a database URL: `sqlite:relative/path.db`, `sqlite:///absolute/path.db`,
 * `sqlite::memory:`, `file:` URLs, a plain file path, or `postgres(ql)://…`. Relative
 * paths are resolved against `cwd`. Throws `config_invalid` for anything else.
 */
export function parseDatabaseUrl(url: string, cwd: string = process.cwd()): DatabaseLocation {
  const trimmed = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    return { dialect: 'postgres', url: trimmed };
  }
  let path: string;
  if (scheme === 'sqlite') {
    const rest = trimmed.slice('sqlite:'.length);
    // `sqlite:///abs` keeps its third slash; `sqlite://relative` and `sqlite:relative` do not have one.
    path = rest.startsWith('//') ? rest.slice(2) : rest;
  } else if (scheme === 'file') {
    path = fileURLToPath(trimmed);
  } else if (scheme === undefined) {
    // No scheme (one-letter "schemes" are Windows drive letters): a plain file path.
    path = trimmed;
  } else {
    throw invalidUrl(url, `unsupported database URL scheme "${scheme}:"`);
  }
  if (path === '') throw invalidUrl(url, 'the database URL names no file');
  if (path === ':memory:') return { dialect: 'sqlite', path };
  return { dialect: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
}

/** The URL to use: the one given, else `DATABASE_URL`, else the embedded default. */
export function resolveDatabaseUrl(
  url: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return url || env.DATABASE_URL || DEFAULT_DATABASE_URL;
}

/** How a location prints: `sqlite:/abs/path.db`, `sqlite::memory:` or the masked URL. */
export function describeDatabaseLocation(location: DatabaseLocation): string {
  return location.dialect === 'sqlite' ? `sqlite:${location.path}` : maskUrl(location.url);
}

function invalidUrl(url: string, problem: string): NightshiftError {
  const message = `${problem}: "${maskUrl(url)}" (use ${ACCEPTED_FORMS})`;
  return new NightshiftError('config_invalid', message, {
    fields: [{ path: 'url', message }],
  });
}

/** Where a router's `database` kind is pointed. */
export interface DatabaseUrlOptions {
  /** The database URL (default: env `DATABASE_URL`, else {@link DEFAULT_DATABASE_URL}). */
  url?: string;
  /** The environment `DATABASE_URL` is read from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The database a `database` router opens: the URL given, else `DATABASE_URL`, else the default. */
export function databaseLocationFor(options: DatabaseUrlOptions): DatabaseLocation {
  return parseDatabaseUrl(resolveDatabaseUrl(options.url, options.env));
}
