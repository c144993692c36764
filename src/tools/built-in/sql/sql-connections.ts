import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { NightshiftError } from '../../../errors.js';

/** One configured database, understood. */
export type SqlConnection =
  | { name: string; dialect: 'postgres'; url: string }
  | { name: string; dialect: 'sqlite'; path: string };

/**
 * Reads a connection URL: `postgres://…` / `postgresql://…`, or `sqlite:relative/file.db` /
 * `sqlite:///absolute/file.db`. Errors name the connection, never the URL (it may hold a password).
 */
export function parseSqlConnection(name: string, url: string, cwd: string): SqlConnection {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim())?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    return { name, dialect: 'postgres', url: url.trim() };
  }
  if (scheme === 'sqlite') {
    const rest = url.trim().slice('sqlite:'.length);
    const file = rest.startsWith('//') ? rest.slice(2) : rest;
    if (file !== '' && file !== ':memory:') {
      return { name, dialect: 'sqlite', path: path.resolve(cwd, file) };
    }
  }
  const message = `connection "${name}" must be a postgres:// URL or a sqlite: URL naming a file`;
  throw new NightshiftError('config_invalid', message, {
    fields: [{ path: `connections.${name}`, message }],
  });
}

/** The databases the SQL tools may use, by name; Postgres pools open on first use. */
export class SqlConnections {
  readonly #connections = new Map<string, SqlConnection>();
  readonly #pools = new Map<string, pg.Pool>();

  /** Parses every URL now, so a bad one fails at configuration time. */
  constructor(urls: Readonly<Record<string, string>>, cwd: string = process.cwd()) {
    for (const [name, url] of Object.entries(urls)) {
      this.#connections.set(name, parseSqlConnection(name, url, cwd));
    }
  }

  /** The configured names. */
  names(): string[] {
    return [...this.#connections.keys()];
  }

  /** The named connection; an unknown name is a `tool_error` listing the known ones. */
  get(name: string): SqlConnection {
    const connection = this.#connections.get(name);
    if (!connection) {
      throw new NightshiftError(
        'tool_error',
        `unknown connection "${name}"; use one of ${this.names().join(', ')}`,
      );
    }
    return connection;
  }

  /** The pool of a Postgres connection. */
  pool(connection: SqlConnection & { dialect: 'postgres' }): pg.Pool {
    let pool = this.#pools.get(connection.name);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: connection.url,
        max: 4,
        connectionTimeoutMillis: 10_000,
        application_name: `nightshift-sql-${connection.name}`,
      });
      // An idle connection dropped by the server must not crash the process; the next query reconnects.
      pool.on('error', () => undefined);
      this.#pools.set(connection.name, pool);
    }
    return pool;
  }

  /** Opens a SQLite connection (the caller closes it); the file must exist. */
  openSqlite(
    connection: SqlConnection & { dialect: 'sqlite' },
    mode: 'read_only' | 'read_write',
  ): Database.Database {
    try {
      const database = new Database(connection.path, {
        readonly: mode === 'read_only',
        fileMustExist: true,
      });
      database.pragma('busy_timeout = 5000');
      return database;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new NightshiftError(
        'tool_error',
        `cannot open connection "${connection.name}": ${reason}`,
        { cause: error },
      );
    }
  }

  /** Closes every pool opened. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.end()));
  }
}
