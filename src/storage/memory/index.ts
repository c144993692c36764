import type { Store } from '../contracts/index.js';
import { createMemoryAgentStore } from './agent-store.js';
import { createMemoryLeaseStore } from './lease-store.js';
import { createMemoryMessageStore } from './message-store.js';
import { createMemoryRunStore } from './run-store.js';

export { createMemoryEventLog, type MemoryEventLogOptions } from './event-log.js';

/** A {@link Store} held in this process's memory: for tests and throwaway runs. */
export function createMemoryStore(): Store {
  return {
    agents: createMemoryAgentStore(),
    runs: createMemoryRunStore(),
    messages: createMemoryMessageStore(),
    leases: createMemoryLeaseStore(),
    description: 'in_memory',
    async close() {},
  };
}
