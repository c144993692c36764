import { systemClock, type Clock } from '../clock.js';
import type { Store } from '../contracts/index.js';
import { sequentialRunPhases } from '../run-phases.js';
import type { StorageBackend } from '../storage-backend.js';
import { createSqliteAgentStore } from './agent-store.js';
import { createSqliteApprovalStore } from './approval-store.js';
import { createSqliteBudgetStore } from './budget-store.js';
import { openDatabase, type SqliteConnectionOptions } from './connection.js';
import { createSqliteEventLog } from './event-log.js';
import { createSqliteLeaseStore } from './lease-store.js';
import { createSqliteMessageStore } from './message-store.js';
import { createSqliteRunStore } from './run-store.js';
import { DEFAULT_DATABASE_URL, SQLITE_URL_FORMS, sqlitePathOf } from './sqlite-url.js';

export type { SqliteConnectionOptions } from './connection.js';
export { createSqliteEventLog, type SqliteEventLogOptions } from './event-log.js';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions extends SqliteConnectionOptions {
  /** The clock that stamps records (`updated_at`); default the real one. */
  now?: Clock;
}

/**
 * A {@link Store} in one SQLite file (WAL): the embedded default, safe to share between
 * processes on one machine. Throws `storage_unavailable` when the file cannot be opened.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const connection = openDatabase(options);
  const agents = createSqliteAgentStore(connection, options.now ?? systemClock);
  const runs = createSqliteRunStore(connection);
  const leases = createSqliteLeaseStore(connection);
  return {
    agents,
    runs,
    messages: createSqliteMessageStore(connection),
    leases,
    // Calls cost no round trip here: one after another.
    phases: sequentialRunPhases({ runs, agents, leases }),
    budgets: createSqliteBudgetStore(connection),
    approvals: createSqliteApprovalStore(connection),
    description: `sqlite:${connection.path}`,
    // Commits what is pending on the connection first.
    async close() {
      connection.release();
    },
  };
}

/** The `database` kind for `sqlite:` and `file:` URLs and plain paths: the embedded default. */
export const sqliteBackend: StorageBackend<{ dialect: 'sqlite'; path: string }> = {
  name: 'sqlite',
  storeKind: 'database',
  eventKind: 'database',
  schemes: ['sqlite', 'file', ''],
  urlForms: SQLITE_URL_FORMS,
  urlSource: { env: 'DATABASE_URL', defaultUrl: DEFAULT_DATABASE_URL },
  locate(url, cwd) {
    const path = sqlitePathOf(url, cwd);
    return {
      location: { dialect: 'sqlite', path },
      description: `sqlite:${path}`,
      openStore: () => createSqliteStore({ path }),
      openEventLog: ({ maxEvents, pollIntervalMs }) =>
        createSqliteEventLog({ path, maxEvents, pollIntervalMs }),
    };
  },
};
