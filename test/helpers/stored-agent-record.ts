import type { AgentDefinition } from '../../src/config/agent-definition.js';
import { emptyStats, type AgentRecord } from '../../src/storage/contracts/index.js';

/**
 * An active agent record as an older version (or a hand edit) may have left it in a store:
 * written straight in, its definition never validated. For tests of unrunnable stored agents.
 */
export function storedAgentRecord(
  agentId: string,
  definition: Record<string, unknown>,
): AgentRecord {
  const now = new Date().toISOString();
  return {
    agent_id: agentId,
    definition: definition as unknown as AgentDefinition,
    state: 'active',
    pause_reason: null,
    anchor_at: now,
    created_at: now,
    updated_at: now,
    version: 1,
    stats: emptyStats(),
  };
}
