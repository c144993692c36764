import type { Store } from '../contracts/index.js';
import { sequentialRunPhases } from '../run-phases.js';
import type { StorageBackend } from '../storage-backend.js';
import { createMemoryAgentStore } from './agent-store.js';
import { createMemoryApprovalStore } from './approval-store.js';
import { createMemoryBudgetStore } from './budget-store.js';
import { openMemory, type MemoryConnectionOptions } from './connection.js';
import { createMemoryEventLog } from './event-log.js';
import { createMemoryLeaseStore } from './lease-store.js';
import { createMemoryMessageStore } from './message-store.js';
import { createMemoryRunStore } from './run-store.js';

export { createMemoryEventLog, type MemoryEventLogOptions } from './event-log.js';

/** Options of {@link createMemoryStore}. */
export type MemoryStoreOptions = MemoryConnectionOptions;

/** A {@link Store} held in this process's memory: for tests and throwaway runs. */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const connection = openMemory(options);
  const agents = createMemoryAgentStore(connection);
  const runs = createMemoryRunStore();
  const leases = createMemoryLeaseStore();
  return {
    agents,
    runs,
    messages: createMemoryMessageStore(),
    leases,
    phases: sequentialRunPhases({ runs, agents, leases }),
    budgets: createMemoryBudgetStore(),
    approvals: createMemoryApprovalStore(),
    description: 'in_memory',
    async close() {},
  };
}

/** The `in_memory` kind of both routers: nothing outlives the process. */
export const memoryBackend: StorageBackend<undefined> = {
  name: 'memory',
  storeKind: 'in_memory',
  eventKind: 'in_memory',
  schemes: [],
  urlForms: 'no URL',
  locate: () => ({
    location: undefined,
    description: 'in_memory',
    openStore: () => createMemoryStore(),
    openEventLog: ({ maxEvents }) => createMemoryEventLog({ maxEvents }),
  }),
};
