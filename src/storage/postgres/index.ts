import { systemClock, type Clock } from '../clock.js';
import type { Store } from '../contracts/index.js';
import { maskUrl } from '../../shared/redaction.js';
import type { BackendOptions, StorageBackend } from '../storage-backend.js';
import { createPostgresAgentStore, postgresAgentRows } from './agent-store.js';
import { createPostgresApprovalStore } from './approval-store.js';
import { createPostgresBudgetStore } from './budget-store.js';
import { openDatabase, type PostgresConnectionOptions } from './connection.js';
import { createPostgresEventLog } from './event-log.js';
import { createPostgresLeaseStore, postgresLeaseRows } from './lease-store.js';
import { createPostgresMessageStore } from './message-store.js';
import { createPostgresRunPhases } from './run-phases.js';
import { createPostgresRunStore, postgresRunRows } from './run-store.js';

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
  // Shared by the stores and the run phases: each knows the row versions the other wrote.
  const rows = {
    runs: postgresRunRows(database),
    agents: postgresAgentRows(database),
    leases: postgresLeaseRows(database),
  };
  const agents = createPostgresAgentStore(database, options.now ?? systemClock, rows.agents);
  const runs = createPostgresRunStore(database, rows.runs);
  const leases = createPostgresLeaseStore(database, rows.leases);
  return {
    agents,
    runs,
    messages: createPostgresMessageStore(database),
    leases,
    phases: createPostgresRunPhases(database, { runs, agents, leases }, rows),
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
