import type { Store } from '../contracts/index.js';
import { createSqliteAgentStore } from './agent-store.js';
import { openDatabase, type SqliteConnectionOptions } from './database.js';
import { createSqliteLeaseStore } from './lease-store.js';
import { createSqliteMessageStore } from './message-store.js';
import { createSqliteRunStore } from './run-store.js';

export type { SqliteConnectionOptions } from './database.js';
export { createSqliteEventLog, type SqliteEventLogOptions } from './event-log.js';

/** Options of {@link createSqliteStore}. */
export type SqliteStoreOptions = SqliteConnectionOptions;

/**
 * A {@link Store} in one SQLite file (WAL): the embedded default, safe to share between
 * processes on one machine. Throws `storage_unavailable` when the file cannot be opened.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const connection = openDatabase(options);
  return {
    agents: createSqliteAgentStore(connection),
    runs: createSqliteRunStore(connection),
    messages: createSqliteMessageStore(connection),
    leases: createSqliteLeaseStore(connection),
    description: `sqlite:${connection.path}`,
    // Commits what is pending on the connection first.
    async close() {
      connection.release();
    },
  };
}
