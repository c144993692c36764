import type { AgentDefinition } from '../config/agent-definition.js';
import { describeFields } from '../config/format-issues.js';
import { NightshiftError } from '../errors.js';
import type { AgentStatus } from '../service/index.js';
import type { AgentState } from '../storage/index.js';
import { changedPaths, definitionPatch } from './definition-patch.js';

/**
 * What applying definitions asks of a fleet: methods the service has (a store opened here), and
 * that a server's API offers too (`POST`, `PATCH /api/agents…`), so one sync serves both.
 */
export interface DefinitionTarget {
  listAgents(): Promise<AgentStatus[]>;
  getAgentDefinition(agentId: string): Promise<AgentDefinition>;
  create(definition: AgentDefinition): Promise<AgentStatus>;
  updateAgent(agentId: string, patch: Record<string, unknown>): Promise<AgentStatus>;
  startAgent(agentId: string): Promise<AgentStatus>;
}

/** Options of {@link syncAgents}. */
export interface SyncOptions {
  /** Work out what would change and change nothing. Default false. */
  dryRun?: boolean;
  /**
   * A definition as the target shows it: a server hides some values (MCP `env` and `headers`,
   * URL passwords and query values), so the file's definition is compared in the same form.
   * Default: as it is.
   */
  comparable?: (definition: AgentDefinition) => AgentDefinition;
  /** Told of each agent once it is dealt with, in file order (to print as it goes). */
  onSynced?: (agent: SyncedAgent) => void;
}

/** What applying a Nightshift file did (or, in a dry run, would do) to one of its agents. */
export interface SyncedAgent {
  agent_id: string;
  /** Whether the stored definition was created, changed or already the file's. */
  definition: 'created' | 'updated' | 'unchanged';
  /** What an update changed, as paths (`interval`, `task_config.query`); empty otherwise. */
  changed: string[];
  /**
   * Paths the target hides the values of, so that they could not be compared (a server's
   * MCP `env`, say): a change there alone goes unseen. Empty when everything was compared.
   */
  not_compared: string[];
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
  target: DefinitionTarget,
  definitions: readonly AgentDefinition[],
  options: SyncOptions = {},
): Promise<SyncResult> {
  const comparable = options.comparable ?? ((definition: AgentDefinition) => definition);
  const stored = new Map((await target.listAgents()).map((status) => [status.agent_id, status]));
  const agents: SyncedAgent[] = [];
  for (const [index, definition] of definitions.entries()) {
    try {
      const agent = await syncAgent(target, definition, stored.get(definition.agent_id), {
        ...options,
        comparable,
      });
      agents.push(agent);
      options.onSynced?.(agent);
    } catch (error) {
      throw refusedDefinition(error, definition.agent_id, `agents[${index}]`);
    }
  }
  const named = new Set(definitions.map((definition) => definition.agent_id));
  const others = [...stored.values()].filter((status) => !named.has(status.agent_id));
  return { agents, others };
}

/** Creates, updates and starts one of the file's agents; `before` is its stored status, if any. */
async function syncAgent(
  target: DefinitionTarget,
  definition: AgentDefinition,
  before: AgentStatus | undefined,
  options: SyncOptions & { comparable: (definition: AgentDefinition) => AgentDefinition },
): Promise<SyncedAgent> {
  const id = definition.agent_id;
  const shown = options.comparable(definition);
  let change: SyncedAgent['definition'] = 'unchanged';
  let changed: string[] = [];
  let current = before;
  if (!before) {
    if (!options.dryRun) current = await target.create(definition);
    change = 'created';
  } else {
    const storedDefinition = await target.getAgentDefinition(id);
    changed = changedPaths(storedDefinition, shown);
    if (changed.length > 0) {
      change = 'updated';
      // Compared as shown, sent as written: only the keys that differ, with the file's values.
      const differing = new Set(changed.map((path) => path.split('.')[0]));
      const patch = Object.fromEntries(
        Object.entries(definitionPatch(storedDefinition, definition)).filter(([key]) =>
          differing.has(key),
        ),
      );
      if (!options.dryRun) current = await target.updateAgent(id, patch);
    }
  }
  const state = current?.state ?? 'created';
  const starts = state === 'created';
  const status = starts && !options.dryRun ? await target.startAgent(id) : undefined;
  return {
    agent_id: id,
    definition: change,
    changed,
    not_compared: changedPaths(definition, shown),
    state: starts ? (status?.state ?? 'active') : state,
    started: starts,
    pause_reason: status?.pause_reason ?? before?.pause_reason ?? null,
  };
}

/**
 * A definition the target refused, named by its place (`agents[1]`, `[1]` in a list): the
 * target judges one definition at a time and names its fields from the definition's root, so
 * the fields are prefixed and the message, which lists them, says them as prefixed.
 */
export function refusedDefinition(error: unknown, agentId: string, place: string): unknown {
  if (!NightshiftError.isInstance(error) || error.code !== 'config_invalid') return error;
  const fields = error.fields.map((field) => ({
    path: field.path === '' ? place : `${place}.${field.path}`,
    message: field.message,
  }));
  const listed = describeFields(error.fields);
  const head =
    error.fields.length === 0
      ? undefined
      : error.message === listed
        ? ''
        : error.message.endsWith(`: ${listed}`)
          ? error.message.slice(0, -listed.length - 2)
          : undefined;
  const message =
    head === undefined
      ? `agent "${agentId}" (${place}): ${error.message}`
      : `agent "${agentId}" (${place}) was refused${head === '' ? '' : ` (${head})`}: ${describeFields(fields)}`;
  return new NightshiftError(error.code, message, {
    cause: error,
    details: { ...error.details, agent_id: agentId },
    fields,
  });
}
