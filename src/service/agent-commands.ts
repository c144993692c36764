import { withJsonOutputSchema } from '../config/output-schema.js';
import { NightshiftError } from '../errors.js';
import {
  emptyStats,
  UNFINISHED_STATUSES,
  WAITING_STATUSES,
  type AgentCondition,
  type AgentPatch,
  type AgentRecord,
} from '../storage/contracts/index.js';
import { trackAgent } from './agent-tracker.js';
import type { AgentStatus } from './agent-status.js';
import { cancelRunsInStore } from './cancel-runs.js';
import { changesSchedule, mergeDefinition } from './merge-definition.js';
import { parsePauseNote, pauseNotePatch } from './pause-note.js';
import type { ServiceContext } from './service-context.js';
import { armTimedResume } from './timed-pauses.js';

/** Stores a new agent (state `created`) from input validated here; `agent_exists` when the id is taken. */
export async function createAgent(context: ServiceContext, input: unknown): Promise<AgentStatus> {
  const definition = context.validate(input);
  const { store } = await context.connect();
  const now = context.now().toISOString();
  const record: AgentRecord = {
    agent_id: definition.agent_id,
    definition,
    state: 'created',
    pause_reason: null,
    anchor_at: null,
    created_at: now,
    updated_at: now,
    version: 1,
    stats: emptyStats(),
  };
  if (!(await store.agents.insert(record))) {
    throw new NightshiftError(
      'agent_exists',
      `an agent named "${definition.agent_id}" already exists`,
      { details: { agent_id: definition.agent_id } },
    );
  }
  await context.publishStatus(record, 'created');
  return context.status(record);
}

/** Puts an agent on its schedule (state `active`). */
export async function startAgent(context: ServiceContext, agentId: string): Promise<AgentStatus> {
  const current = await context.requireRunnable(agentId);
  if (current.state === 'active') return context.status(current);
  return changeState(
    context,
    agentId,
    { state: 'active', pause_reason: null, anchor_at: context.now().toISOString() },
    'started',
  );
}

/**
 * Takes an active agent off its schedule until resumed, or until `until` (a `PauseOptions`: the
 * note says why, who and until when, checked here with `config_invalid` naming a bad field). A
 * paused agent given a note gets the new note (a timed pause moved, or made open-ended);
 * given none, it stays as it is.
 */
export async function pauseAgent(
  context: ServiceContext,
  agentId: string,
  options: unknown,
): Promise<AgentStatus> {
  const note = parsePauseNote(options ?? {}, context.now());
  const current = await context.require(agentId);
  if (current.state === 'paused' && !note.given) return context.status(current);
  if (current.state !== 'paused') requireState(current, 'active', 'paused');
  const status = await changeState(
    context,
    agentId,
    { state: 'paused', ...pauseNotePatch(note) },
    'paused',
    // A new note for a paused agent only while it is paused: one resumed meanwhile stays active.
    current.state === 'paused' ? { state: 'paused' } : undefined,
  );
  if (note.until !== null && status.state === 'paused') armTimedResume(context, note.until);
  return status;
}

/** Puts a paused agent back on its schedule; its pause note (why, who, until when) is cleared. */
export async function resumeAgent(context: ServiceContext, agentId: string): Promise<AgentStatus> {
  const current = await context.requireRunnable(agentId);
  if (current.state === 'active') return context.status(current);
  requireState(current, 'paused', 'resumed');
  return changeState(
    context,
    agentId,
    { state: 'active', pause_reason: null, paused_by: null, paused_until: null },
    'resumed',
  );
}

/** Takes an agent off its schedule; with `cancel`, its runs end `cancelled` wherever they run. */
export async function stopAgent(
  context: ServiceContext,
  agentId: string,
  cancel: boolean,
): Promise<AgentStatus> {
  await context.require(agentId);
  const status = await changeState(
    context,
    agentId,
    { state: 'stopped', pause_reason: null },
    'stopped',
  );
  if (cancel) await context.dispatcher?.cancelAgentRuns(agentId, 'cancelled by stopAgent');
  // Runs other processes hold (other managers, BullMQ workers) are cancelled through the store;
  // a run waiting for a budget, in no process's hands, cannot finish once stopped: it ends too.
  const { store, transitions } = await context.connect();
  await cancelRunsInStore(
    {
      store,
      transitions,
      isLocal: (runId) => context.dispatcher?.completion(runId) !== undefined,
    },
    agentId,
    cancel ? 'cancelled by stopAgent' : 'the agent was stopped while the run waited for a budget',
    cancel ? UNFINISHED_STATUSES : WAITING_STATUSES,
  );
  // MCP servers close once the run in flight (which may still use them) has finished.
  context.background(
    (async () => {
      await context.dispatcher?.settleAgentRuns(agentId);
      const { store } = await context.connect();
      if ((await store.agents.get(agentId))?.state === 'stopped')
        await context.runtimes.closeMcp(agentId);
    })(),
    `closing the MCP servers of ${agentId}`,
  );
  return cancel ? context.status(await context.require(agentId)) : status;
}

/** Changes an agent's definition from a patch validated here; its state is kept. */
export async function updateAgent(
  context: ServiceContext,
  agentId: string,
  input: unknown,
): Promise<AgentStatus> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new NightshiftError('config_invalid', '(patch): must be an object', {
      fields: [{ path: '(patch)', message: 'must be an object' }],
    });
  }
  const patch = input as Record<string, unknown>;
  const current = await context.require(agentId);
  if ('agent_id' in patch && patch.agent_id !== agentId) {
    throw new NightshiftError('config_invalid', 'agent_id: cannot be changed', {
      fields: [{ path: 'agent_id', message: 'cannot be changed' }],
    });
  }
  // The merge keeps one schedule kind of a patch: two would silently lose one.
  const kinds = (['interval', 'cron', 'run_at'] as const).filter(
    (kind) => patch[kind] !== undefined && patch[kind] !== null,
  );
  if (kinds.length > 1) {
    const message = `only one of interval, cron or run_at may be set (got ${kinds.join(', ')})`;
    throw new NightshiftError('config_invalid', `${kinds[1]}: ${message}`, {
      fields: [{ path: kinds[1] ?? 'cron', message }],
    });
  }
  // A zod output_schema (code) is merged as its JSON Schema, as `create` stores it.
  const jsonPatch = withJsonOutputSchema(patch) as Record<string, unknown>;
  const definition = context.validate(mergeDefinition(current.definition, jsonPatch));
  const { store } = await context.connect();
  const rescheduled = changesSchedule(patch) && current.state === 'active';
  const record = await store.agents.update(agentId, {
    definition,
    ...(rescheduled ? { anchor_at: context.now().toISOString() } : {}),
  });
  if (!record) throw context.notFound(agentId);
  context.runtimes.forget(agentId);
  await trackAgent(context, record);
  await context.publishStatus(record, 'updated');
  return context.status(record);
}

/** Removes an agent, its runs and its conversation; runs in flight are cancelled. */
export async function deleteAgent(context: ServiceContext, agentId: string): Promise<void> {
  const current = await context.require(agentId);
  const { store, publisher } = await context.connect();
  await context.schedulerHandle()?.unschedule(agentId);
  context.seenVersions.delete(agentId);
  context.checker.forget(agentId);
  await context.dispatcher?.cancelAgentRuns(agentId, 'the agent was deleted');
  await store.agents.delete(agentId);
  await store.runs.deleteByAgent(agentId);
  await store.approvals.deleteByAgent(agentId);
  await store.messages.clear(current.definition.task_config.session_id ?? agentId);
  context.runtimes.forget(agentId);
  await context.runtimes.closeMcp(agentId);
  await publisher.publish('background_agent_status', agentId, null, {
    state: 'deleted',
    is_running: false,
    pause_reason: null,
    next_run_at: null,
    reason: 'deleted',
  });
}

/**
 * Writes a change of state, brings the scheduler in line and announces it. With a `condition`
 * the stored agent no longer meets, nothing changes and its status is returned as it is.
 */
async function changeState(
  context: ServiceContext,
  agentId: string,
  patch: AgentPatch,
  reason: string,
  condition?: AgentCondition,
): Promise<AgentStatus> {
  const { store } = await context.connect();
  const record = await store.agents.update(agentId, patch, condition);
  if (!record && condition) return context.status(await context.require(agentId));
  if (!record) throw context.notFound(agentId);
  await trackAgent(context, record);
  await context.publishStatus(record, reason);
  return context.status(await context.require(agentId));
}

/** Refuses with `invalid_state` unless the agent is in `state`, the one that can be `done`. */
function requireState(record: AgentRecord, state: 'active' | 'paused', done: string): void {
  if (record.state === state) return;
  throw new NightshiftError(
    'invalid_state',
    `agent "${record.agent_id}" is ${record.state}; only ${state === 'active' ? 'an active' : 'a paused'} agent can be ${done}`,
  );
}
