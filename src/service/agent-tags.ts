import { tagNameSchema } from '../config/agent-definition.js';
import { NightshiftError, type NightshiftErrorCode } from '../errors.js';
import type { AgentRecord, ReportedAgentState, RunRecord } from '../storage/contracts/index.js';
import { pauseAgent, resumeAgent } from './agent-commands.js';
import type { AgentStatus } from './agent-status.js';
import { runNow } from './manual-runs.js';
import { parsePauseNote, type PauseOptions } from './pause-note.js';
import type { ServiceContext } from './service-context.js';

/** Options of `listAgents`. */
export interface ListAgentsOptions {
  /** Only the agents whose definition lists this tag (`tags: [...]`). */
  tag?: string | undefined;
}

/** Which agents a bulk action applies to: every agent with the tag. */
export interface TagSelection {
  tag: string;
}

/** What an action by tag does to each agent with it. */
export const TAG_ACTIONS = ['pause', 'resume', 'run'] as const;

/** An action by tag. */
export type TagAction = (typeof TAG_ACTIONS)[number];

/** What an action by tag did to each agent: `done`, `unchanged` (it was so already), `refused`. */
export const TAG_ACTION_RESULTS = ['done', 'unchanged', 'refused'] as const;

/** What an action by tag did to one agent. */
export interface TagActionOutcome {
  agent_id: string;
  /** `done`: applied; `unchanged`: it was so already; `refused`: it does not apply (see `error`). */
  result: (typeof TAG_ACTION_RESULTS)[number];
  /** The agent's state after the action. */
  state: ReportedAgentState;
  /** The run started (`run`), or null. */
  run: RunRecord | null;
  /** Why it was refused (an agent stopped, a process that runs no agents …), or null. */
  error: { code: NightshiftErrorCode; message: string } | null;
}

/** What an action by tag did, agent by agent, ordered by agent id. */
export interface TagActionResult {
  tag: string;
  action: TagAction;
  agents: TagActionOutcome[];
}

/** The tag, checked as definitions check theirs: `config_invalid` naming `tag` otherwise. */
export function checkTag(tag: unknown): string {
  const parsed = tagNameSchema.safeParse(tag);
  if (parsed.success) return parsed.data;
  const message =
    typeof tag === 'string' ? (parsed.error.issues[0]?.message ?? 'invalid') : 'must be a string';
  throw new NightshiftError('config_invalid', `tag: ${message}`, {
    fields: [{ path: 'tag', message }],
  });
}

/** Every agent's status, ordered by id; with `tag`, only the agents that list it. */
export async function listAgents(
  context: ServiceContext,
  options: ListAgentsOptions,
): Promise<AgentStatus[]> {
  const records = await taggedRecords(context, options.tag);
  return Promise.all(records.map((record) => context.status(record)));
}

/**
 * Pauses every active agent with the tag, with one note (checked once, before any is paused):
 * each is `done`. One paused already is `unchanged`, and keeps its own pause and note (an agent
 * auto-paused after failures is not given a time to resume by); others are `refused`.
 */
export async function pauseAgents(
  context: ServiceContext,
  selection: TagSelection,
  options: PauseOptions,
): Promise<TagActionResult> {
  parsePauseNote(options, context.now());
  return eachTagged(context, selection, 'pause', async (record) => {
    if (record.state === 'paused')
      return { result: 'unchanged', state: reportedState(context, record), run: null };
    const status = await pauseAgent(context, record.agent_id, options);
    return { result: 'done', state: status.state, run: null };
  });
}

/** Resumes every paused agent with the tag: active ones are `unchanged`, others `refused`. */
export async function resumeAgents(
  context: ServiceContext,
  selection: TagSelection,
): Promise<TagActionResult> {
  return eachTagged(context, selection, 'resume', async (record) => {
    const status = await resumeAgent(context, record.agent_id);
    return {
      result: record.state === 'active' ? 'unchanged' : 'done',
      state: status.state,
      run: null,
    };
  });
}

/** Runs every agent with the tag now, as `runNow` does one: each run is dispatched, not waited for. */
export async function runAgentsNow(
  context: ServiceContext,
  selection: TagSelection,
  options: { query?: string | undefined },
): Promise<TagActionResult> {
  return eachTagged(context, selection, 'run', async (record) => {
    const run = await runNow(context, record.agent_id, { query: options.query });
    return {
      result: 'done',
      state: reportedState(context, record),
      run: context.redactor.redact(run),
    };
  });
}

/** The stored agents with the tag (every agent without one), ordered by id. */
async function taggedRecords(
  context: ServiceContext,
  tag: string | undefined,
): Promise<AgentRecord[]> {
  const wanted = tag === undefined ? undefined : checkTag(tag);
  const { store } = await context.connect();
  const records = await store.agents.list();
  // Records stored by an older version may lack the list.
  return wanted === undefined
    ? records
    : records.filter((record) => (record.definition.tags ?? []).includes(wanted));
}

/**
 * Applies `act` to each agent with the tag, one after another; a refusal of one (the service's
 * own error: a state it does not apply to, a stored record that cannot run) is its outcome, and
 * the others go on.
 */
async function eachTagged(
  context: ServiceContext,
  selection: TagSelection,
  action: TagAction,
  act: (record: AgentRecord) => Promise<Omit<TagActionOutcome, 'agent_id' | 'error'>>,
): Promise<TagActionResult> {
  const tag = checkTag(selection.tag);
  const agents: TagActionOutcome[] = [];
  for (const record of await taggedRecords(context, tag)) {
    try {
      agents.push({ agent_id: record.agent_id, ...(await act(record)), error: null });
    } catch (error) {
      if (!NightshiftError.isInstance(error) || error.code === 'storage_unavailable') throw error;
      const current = await context
        .connect()
        .then(({ store }) => store.agents.get(record.agent_id));
      agents.push({
        agent_id: record.agent_id,
        result: 'refused',
        state: reportedState(context, current ?? record),
        run: null,
        error: { code: error.code, message: context.redactor.redact(error.message) },
      });
    }
  }
  return { tag, action, agents };
}

/** The state an agent's status reports: `invalid` for a stored record that cannot run. */
function reportedState(context: ServiceContext, record: AgentRecord): ReportedAgentState {
  return context.checker.problemOf(record) ? 'invalid' : record.state;
}
