import { systemClock, type Clock } from '../clock.js';
import type { Store } from '../contracts/index.js';
import { maskUrl } from '../../shared/redaction.js';
import type { BackendOptions, StorageBackend } from '../storage-backend.js';
import { createPostgresAgentStore } from './agent-store.js';
import { createPostgresApprovalStore } from './approval-store.js';
import { createPostgresBudgetStore } from './budget-store.js';
import { openDatabase, type PostgresConnectionOptions } from './connection.js';
import { createPostgresEventLog } from './event-log.js';
import { createPostgresLeaseStore } from './lease-store.js';
import { createPostgresMessageStore } from './message-store.js';
import { createPostgresRunStore } from './run-store.js';

export type { PostgresConnectionOptions, PostgresPoolOptions } from './connection.js';
export { createPostgresEventLog, type PostgresEventLogOptions } from './event-log.js';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions extends PostgresConnectionOptions {
  /** The clock that stamps records (`updated_at`); default the real one. */
  now?: Clock;
}

/**
 * A {@link Store} in a Postgres schema, for many processes and machines sharing one
 * database. Nothing connects until the first call, which checks the server answers and
 * migrates the schema; calls fail with `storage_unavailable` (URL masked) while the
 * server cannot be reached. A bad schema name throws `config_invalid` at once.
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const database = openDatabase(options);
  return {
    agents: createPostgresAgentStore(database, options.now ?? systemClock),
    runs: createPostgresRunStore(database),
    messages: createPostgresMessageStore(database),
    leases: createPostgresLeaseStore(database),
    budgets: createPostgresBudgetStore(database),
    approvals: createPostgresApprovalStore(database),
    description: database.description,
    async close() {
      await database.release();
    },
  };
}

/** Where a router's Postgres factories connect: a namespace also names the connections. */
function connectionOf(url: string, { namespace }: BackendOptions): PostgresConnectionOptions {
  if (namespace === undefined) return { url };
  // So an operator can tell the connections apart in pg_stat_activity.
  return { url, namespace, pool: { applicationName: `nightshift:${namespace}` } };
}

/** The `database` kind for `postgres://` and `postgresql://` URLs. */
export const postgresBackend: StorageBackend<{ dialect: 'postgres'; url: string }> = {
  name: 'postgres',
  storeKind: 'database',
  eventKind: 'database',
  schemes: ['postgres', 'postgresql'],
  urlForms: 'postgres://…',
  urlSource: { env: 'DATABASE_URL' },
  locate: (url) => ({
    location: { dialect: 'postgres', url },
    description: maskUrl(url),
    openStore: (options) => createPostgresStore(connectionOf(url, options)),
    openEventLog: (options) =>
      createPostgresEventLog({
        ...connectionOf(url, options),
        maxEvents: options.maxEvents,
        pollIntervalMs: options.pollIntervalMs,
      }),
  }),
};
