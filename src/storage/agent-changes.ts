import { copyPlain } from '../shared/copy-plain.js';
import { applyAgentPatch, meetsAgentCondition } from './apply-patch.js';
import type { Clock } from './clock.js';
import {
  applyStatsDelta,
  type AgentRecord,
  type AgentStore,
  type StatsDelta,
} from './contracts/agent-store.js';

/** How a change of one agent is written: `durable` for what the API acknowledges (promise 6). */
export interface AgentChangeOptions {
  durable: boolean;
}

/**
 * A backend's read-modify-write of one agent: reads it, applies `change`, writes the result
 * atomically (retrying on conflict where it must), and returns it; undefined when the agent
 * does not exist, or when `change` returns undefined (leave the agent as it is: a condition
 * not met), and then nothing is written.
 */
export type ReadModifyWriteAgent = (
  agentId: string,
  change: (record: AgentRecord) => AgentRecord | undefined,
  options: AgentChangeOptions,
) => Promise<AgentRecord | undefined>;

/**
 * `update` and `updateStats` of an {@link AgentStore}, the same for every backend once it
 * knows how to read-modify-write one agent.
 */
export function agentChanges(
  readModifyWrite: ReadModifyWriteAgent,
  now: Clock,
): Pick<AgentStore, 'update' | 'updateStats'> {
  return {
    async update(agentId, patch, condition) {
      // Applied after a read: a copy, so what the caller changes meanwhile does not reach it.
      const snapshot = copyPlain(patch);
      const expected = condition && copyPlain(condition);
      return readModifyWrite(
        agentId,
        (record) =>
          meetsAgentCondition(record, expected)
            ? applyAgentPatch(record, snapshot, now())
            : undefined,
        { durable: true },
      );
    },

    async updateStats(agentId, delta) {
      const snapshot = copyPlain(delta);
      return readModifyWrite(agentId, (record) => withStats(record, snapshot), {
        durable: false,
      });
    },
  };
}

/**
 * The agent after its counters take `delta` in: the change `updateStats` makes (and a backend's
 * run end that writes the stats with the run). Counters are not part of the definition or
 * state: `version` stays as it is.
 */
export function withStats(record: AgentRecord, delta: StatsDelta): AgentRecord {
  return { ...record, stats: applyStatsDelta(record.stats, delta) };
}
