import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { errorMessage, NightshiftError } from '../../errors.js';
import { lazyRequire } from '../../shared/lazy-module.js';
import { migrate } from './migrations.js';
import { createWriteBatcher, type WriteBatcher } from './write-batch.js';

/** A better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;

/** The driver, loaded by the first SQLite store or event log opened rather than with the package. */
const sqliteDriver = lazyRequire<typeof Database>('better-sqlite3');

/** Options shared by the SQLite factories. */
export interface SqliteConnectionOptions {
  /** The database file (created with its directory when missing), or `:memory:`. */
  path: string;
  /**
   * Share one connection per file within this process (default true). `false` opens a
   * connection of its own, as another process would: for tests of cross-process behaviour.
   */
  sharedConnection?: boolean;
}

/** A connection and the batcher every write on it goes through. */
export interface SqliteConnection {
  readonly database: SqliteDatabase;
  readonly writes: WriteBatcher;
}

/** A use of a connection; the connection closes when its last handle is released. */
export interface DatabaseHandle extends SqliteConnection {
  /** The absolute path of the file, or `:memory:`. */
  readonly path: string;
  /** Commits the writes pending on the connection, then gives the handle back; idempotent. */
  release(): void;
}

const MEMORY_PATH = ':memory:';
/** How long a statement waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

interface SharedConnection extends SqliteConnection {
  handles: number;
}

/** Open connections by absolute path, shared by every store and event log of the process. */
const sharedConnections = new Map<string, SharedConnection>();

/** Opens (or shares) a migrated connection to a SQLite file. */
export function openDatabase(options: SqliteConnectionOptions): DatabaseHandle {
  const path = options.path === MEMORY_PATH ? MEMORY_PATH : resolve(options.path);
  // Each `:memory:` connection is a database of its own, so there is nothing to share.
  if (options.sharedConnection === false || path === MEMORY_PATH) {
    const connection = connect(path);
    return handle(path, connection, () => connection.database.close());
  }
  let shared = sharedConnections.get(path);
  if (!shared) {
    shared = { ...connect(path), handles: 0 };
    sharedConnections.set(path, shared);
  }
  const connection = shared;
  connection.handles += 1;
  return handle(path, connection, () => {
    connection.handles -= 1;
    if (connection.handles > 0) return;
    sharedConnections.delete(path);
    connection.database.close();
  });
}

function handle(path: string, connection: SqliteConnection, close: () => void): DatabaseHandle {
  let released = false;
  return {
    database: connection.database,
    writes: connection.writes,
    path,
    release() {
      if (released) return;
      released = true;
      try {
        connection.writes.flush();
      } finally {
        close();
      }
    },
  };
}

function connect(path: string): SqliteConnection {
  let database: SqliteDatabase | undefined;
  try {
    if (path !== MEMORY_PATH) mkdirSync(dirname(path), { recursive: true });
    const Driver = sqliteDriver();
    database = new Driver(path, { timeout: BUSY_TIMEOUT_MS });
    // WAL lets readers in other processes go on while one process writes.
    database.pragma('journal_mode = WAL');
    // In WAL mode NORMAL cannot corrupt the database; it only skips a disk sync per commit (a power
    // cut may lose the last commits). FULL made every run wait on about 14 syncs. Writes commit
    // in batches (see createWriteBatcher); a batch with a durable write is synced.
    database.pragma('synchronous = NORMAL');
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
    migrate(database);
    return { database, writes: createWriteBatcher(database) };
  } catch (error) {
    database?.close();
    throw new NightshiftError(
      'storage_unavailable',
      `cannot open the SQLite database at ${path}: ${errorMessage(error)}`,
      { cause: error, details: { path } },
    );
  }
}
