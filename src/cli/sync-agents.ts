import type { AgentDefinition } from '../config/agent-definition.js';
import type { AgentStatus, BackgroundAgentService } from '../service/index.js';
import type { AgentState } from '../storage/index.js';
import { definitionPatch } from './definition-patch.js';

/** What applying a Nightshift file did to one of its agents. */
export interface SyncedAgent {
  agent_id: string;
  /** Whether the stored definition was created, changed or already the file's. */
  definition: 'created' | 'updated' | 'unchanged';
  /** The state the agent is left in. */
  state: AgentState | 'invalid';
  /** True when this call started it (new, or stored but never started). */
  started: boolean;
  pause_reason: string | null;
}

/** The outcome of {@link syncAgents}. */
export interface SyncResult {
  /** The file's agents, in file order. */
  agents: SyncedAgent[];
  /** Agents in the store the file does not name; left exactly as they are. */
  others: AgentStatus[];
}

/**
 * Makes the store hold the file's agents: a new agent is created, a stored one gets the file's
 * definition (through `updateAgent`, only when it differs); then agents that were never started
 * are started. State the API acknowledged is kept (DESIGN promise 6): a paused agent stays
 * paused and a stopped one (by request, `max_runs` or the end of its schedule) stays stopped.
 */
export async function syncAgents(
  service: BackgroundAgentService,
  definitions: readonly AgentDefinition[],
): Promise<SyncResult> {
  const stored = new Map((await service.listAgents()).map((status) => [status.agent_id, status]));
  const agents: SyncedAgent[] = [];
  for (const definition of definitions) {
    const id = definition.agent_id;
    const before = stored.get(id);
    let change: SyncedAgent['definition'] = 'unchanged';
    let current = before;
    if (!before) {
      await service.create(definition);
      change = 'created';
    } else {
      const patch = definitionPatch(await service.getAgentDefinition(id), definition);
      if (Object.keys(patch).length > 0) {
        current = await service.updateAgent(id, patch);
        change = 'updated';
      }
    }
    const state = current?.state ?? 'created';
    const status = state === 'created' ? await service.startAgent(id) : undefined;
    agents.push({
      agent_id: id,
      definition: change,
      state: status?.state ?? state,
      started: status !== undefined,
      pause_reason: status?.pause_reason ?? before?.pause_reason ?? null,
    });
  }
  const named = new Set(definitions.map((definition) => definition.agent_id));
  const others = [...stored.values()].filter((status) => !named.has(status.agent_id));
  return { agents, others };
}
