import path from 'node:path';
import type pg from 'pg';
import { NightshiftError } from '../../../errors.js';
import { pgDriver } from '../../../shared/pg-driver.js';
import type { SqliteTarget } from './sqlite-database.js';
import { SqliteProcessPool } from './sqlite-process-pool.js';

/** One configured database, understood. */
export type SqlConnection =
  | { name: string; dialect: 'postgres'; url: string }
  | { name: string; dialect: 'sqlite'; path: string };

/**
 * Reads a connection URL: `postgres://…` / `postgresql://…`, or `sqlite:relative/file.db` /
 * `sqlite:///absolute/file.db`. Errors name the connection, never the URL (it may hold a password).
 */
function parseSqlConnection(name: string, url: string, cwd: string): SqlConnection {
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

/**
 * The databases the SQL tools may use, by name; Postgres pools and SQLite processes start on
 * first use.
 */
export class SqlConnections {
  readonly #connections = new Map<string, SqlConnection>();
  readonly #pools = new Map<string, pg.Pool>();
  readonly #sqliteProcesses = new Map<string, SqliteProcessPool>();

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
      pool = new (pgDriver().Pool)({
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

  /** The processes that run a SQLite connection's statements (see {@link SqliteProcessPool}). */
  sqliteProcesses(connection: SqlConnection & { dialect: 'sqlite' }): SqliteProcessPool {
    let processes = this.#sqliteProcesses.get(connection.name);
    if (!processes) {
      processes = new SqliteProcessPool();
      this.#sqliteProcesses.set(connection.name, processes);
    }
    return processes;
  }

  /** Closes every pool opened and stops every SQLite process. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    const processes = [...this.#sqliteProcesses.values()];
    this.#pools.clear();
    this.#sqliteProcesses.clear();
    await Promise.all([
      ...pools.map((pool) => pool.end()),
      ...processes.map((pool) => pool.close()),
    ]);
  }
}

/** What a SQLite process needs to open the connection's file. */
export function sqliteTarget(connection: SqlConnection & { dialect: 'sqlite' }): SqliteTarget {
  return { name: connection.name, path: connection.path };
}
