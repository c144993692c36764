import { applyAgentPatch } from '../apply-patch.js';
import { applyStatsDelta, type AgentRecord, type AgentStore } from '../contracts/agent-store.js';

/** An {@link AgentStore} held in this process's memory; every read returns a copy. */
export function createMemoryAgentStore(): AgentStore {
  const agents = new Map<string, AgentRecord>();

  return {
    async insert(record) {
      if (agents.has(record.agent_id)) return false;
      agents.set(record.agent_id, structuredClone(record));
      return true;
    },

    async get(agentId) {
      const record = agents.get(agentId);
      return record && structuredClone(record);
    },

    async list() {
      // Plain code-unit order, the order SQLite's BINARY collation gives for agent ids.
      return [...agents.values()]
        .sort((a, b) => (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0))
        .map((record) => structuredClone(record));
    },

    async update(agentId, patch) {
      const current = agents.get(agentId);
      if (!current) return undefined;
      const next = applyAgentPatch(current, patch, new Date());
      agents.set(agentId, next);
      return structuredClone(next);
    },

    async updateStats(agentId, delta) {
      const current = agents.get(agentId);
      if (!current) return undefined;
      // Counters are not part of the definition or state: version stays as it is.
      const next = { ...current, stats: applyStatsDelta(current.stats, delta) };
      agents.set(agentId, next);
      return structuredClone(next);
    },

    async delete(agentId) {
      return agents.delete(agentId);
    },
  };
}
