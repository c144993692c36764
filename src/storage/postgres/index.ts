import type { Store } from '../contracts/index.js';
import { createPostgresAgentStore } from './agent-store.js';
import { openDatabase, type PostgresConnectionOptions } from './database.js';
import { createPostgresLeaseStore } from './lease-store.js';
import { createPostgresMessageStore } from './message-store.js';
import { createPostgresRunStore } from './run-store.js';

export type { PostgresConnectionOptions, PostgresPoolOptions } from './database.js';
export { createPostgresEventLog, type PostgresEventLogOptions } from './event-log.js';

/** Options of {@link createPostgresStore}. */
export type PostgresStoreOptions = PostgresConnectionOptions;

/**
 * A {@link Store} in a Postgres schema, for many processes and machines sharing one
 * database. Nothing connects until the first call, which checks the server answers and
 * migrates the schema; calls fail with `storage_unavailable` (URL masked) while the
 * server cannot be reached. A bad schema name throws `config_invalid` at once.
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const database = openDatabase(options);
  return {
    agents: createPostgresAgentStore(database),
    runs: createPostgresRunStore(database),
    messages: createPostgresMessageStore(database),
    leases: createPostgresLeaseStore(database),
    description: database.description,
    async close() {
      await database.release();
    },
  };
}
