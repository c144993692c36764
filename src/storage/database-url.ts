import { locateUrl, STORAGE_BACKENDS } from './backend-registry.js';
import { DEFAULT_DATABASE_URL } from './sqlite/sqlite-url.js';

export { DEFAULT_DATABASE_URL } from './sqlite/sqlite-url.js';

/** A database location, understood. */
export type DatabaseLocation =
  | { dialect: 'sqlite'; /** An absolute file path, or `:memory:`. */ path: string }
  | { dialect: 'postgres'; url: string };

/**
 * Reads a database URL with the backends of the `database` kind: `sqlite:relative/path.db`,
 * `sqlite:///absolute/path.db`, `sqlite::memory:`, `file:` URLs, a plain file path, or
 * `postgres(ql)://…`. Relative paths are resolved against `cwd`. Throws `config_invalid` for
 * anything else.
 */
export function parseDatabaseUrl(url: string, cwd: string = process.cwd()): DatabaseLocation {
  const databases = STORAGE_BACKENDS.filter((backend) => backend.storeKind === 'database');
  return locateUrl(databases, 'database', url, cwd).location as DatabaseLocation;
}

/** The URL to use: the one given, else `DATABASE_URL`, else the embedded default. */
export function resolveDatabaseUrl(
  url: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return url || env.DATABASE_URL || DEFAULT_DATABASE_URL;
}

/** Where a router's `database` kind is pointed. */
export interface DatabaseUrlOptions {
  /** The database URL (default: env `DATABASE_URL`, else {@link DEFAULT_DATABASE_URL}). */
  url?: string;
  /** The environment `DATABASE_URL` is read from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}
