import { copyPlain } from '../../shared/copy-plain.js';
import { agentChanges } from '../agent-changes.js';
import type { AgentRecord, AgentStore } from '../contracts/agent-store.js';
import type { MemoryConnection } from './connection.js';

/** An {@link AgentStore} held in this process's memory; every read returns a copy. */
export function createMemoryAgentStore({ now }: MemoryConnection): AgentStore {
  const agents = new Map<string, AgentRecord>();

  return {
    async insert(record) {
      if (agents.has(record.agent_id)) return false;
      agents.set(record.agent_id, copyPlain(record));
      return true;
    },

    async get(agentId) {
      const record = agents.get(agentId);
      return record && copyPlain(record);
    },

    async list() {
      // Plain code-unit order, the order SQLite's BINARY collation gives for agent ids.
      return [...agents.values()]
        .sort((a, b) => (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0))
        .map((record) => copyPlain(record));
    },

    ...agentChanges(async (agentId, change) => {
      const current = agents.get(agentId);
      if (!current) return undefined;
      const next = change(current);
      if (!next) return undefined;
      agents.set(agentId, next);
      return copyPlain(next);
    }, now),

    async delete(agentId) {
      return agents.delete(agentId);
    },
  };
}
