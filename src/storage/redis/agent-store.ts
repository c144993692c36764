import { agentChanges } from '../agent-changes.js';
import { systemClock, type Clock } from '../clock.js';
import type { AgentRecord, AgentStore } from '../contracts/agent-store.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';
import { readJsonValues } from './read-json-values.js';

/**
 * An {@link AgentStore} in Redis: each agent a JSON value, and a sorted set of ids that
 * lists them in byte order (the order SQLite's BINARY collation gives).
 */
export function createRedisAgentStore(
  connection: RedisConnection,
  keys: RedisKeys,
  now: Clock = systemClock,
): AgentStore {
  /** Reads, changes and writes one agent; retried when another writer got there first. */
  function readModifyWrite(
    agentId: string,
    change: (record: AgentRecord) => AgentRecord | undefined,
  ): Promise<AgentRecord | undefined> {
    const key = keys.agent(agentId);
    return retryOnConflict(`updating agent ${agentId}`, async () => {
      const current = await connection.run((client) => client.get(key));
      if (current === null) return undefined;
      const next = change(JSON.parse(current) as AgentRecord);
      // A condition not met by the value just read: nothing to write.
      if (!next) return undefined;
      const written = await connection.run(() =>
        connection.scripts.compareAndSet(key, current, JSON.stringify(next)),
      );
      return written ? next : CONFLICT;
    });
  }

  return {
    async insert(record) {
      const value = JSON.stringify(record);
      return connection.run(() =>
        connection.scripts.compareAndSet(keys.agent(record.agent_id), null, value, {
          member: record.agent_id,
          remove: [],
          add: [keys.agents],
        }),
      );
    },

    async get(agentId) {
      const value = await connection.run((client) => client.get(keys.agent(agentId)));
      return value === null ? undefined : (JSON.parse(value) as AgentRecord);
    },

    async list() {
      const agentIds = await connection.run((client) => client.zrange(keys.agents, 0, '-1'));
      return readJsonValues<AgentRecord>(
        connection,
        agentIds.map((agentId) => keys.agent(agentId)),
      );
    },

    ...agentChanges(readModifyWrite, now),

    async delete(agentId) {
      return connection.run(() =>
        connection.scripts.deleteIndexed(keys.agent(agentId), keys.agents, agentId),
      );
    },
  };
}
