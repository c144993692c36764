import { randomBytes } from 'node:crypto';
import { NightshiftError, type FieldError } from '../../errors.js';
import { isTerminal, type ReplayMode, type RunRecord } from '../../storage/contracts/index.js';
import { newRunRecord } from '../run-records.js';
import { outcomeChain } from './replay-source.js';
import type { ServiceContext } from '../service-context.js';
import { diffReplay, type ReplayDiff } from './replay-diff.js';

/** How to replay a run (`replayRun`). */
export interface ReplayOptions {
  /** `recorded` (the default): the original's replies answer; `live`: the model answers afresh. */
  model?: 'recorded' | 'live';
  /** `recorded` (the default): the original's results answer and no tool runs; `live`: tools run. */
  tools?: 'recorded' | 'live';
  /** Resolve when the replay has ended (default: at once, with the run just started). */
  wait?: boolean;
}

const SOURCES = ['recorded', 'live'] as const;

/** The options of a replay, checked: `config_invalid` names a bad field. */
export function parseReplayOptions(input: unknown): ReplayOptions & { mode: ReplayMode } {
  const fields: FieldError[] = [];
  const options = (input ?? {}) as Record<string, unknown>;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new NightshiftError('config_invalid', 'replay options must be an object', {
      fields: [{ path: '(root)', message: 'must be an object' }],
    });
  }
  const source = (key: 'model' | 'tools'): 'recorded' | 'live' => {
    const value = options[key];
    if (value === undefined) return 'recorded';
    if ((SOURCES as readonly unknown[]).includes(value)) return value as 'recorded' | 'live';
    fields.push({
      path: key,
      message: `must be "recorded" or "live", got ${JSON.stringify(value)}`,
    });
    return 'recorded';
  };
  const mode: ReplayMode = { model: source('model'), tools: source('tools') };
  if (options.wait !== undefined && typeof options.wait !== 'boolean')
    fields.push({ path: 'wait', message: 'must be a boolean' });
  for (const key of Object.keys(options)) {
    if (!['model', 'tools', 'wait'].includes(key))
      fields.push({ path: key, message: 'is not a replay option (model, tools, wait)' });
  }
  if (fields.length > 0) {
    throw new NightshiftError(
      'config_invalid',
      `invalid replay options: ${fields.map((field) => `${field.path} ${field.message}`).join('; ')}`,
      { fields },
    );
  }
  return { ...mode, mode, wait: options.wait === true };
}

/** The run id of a replay: unique, and still naming its agent and time. */
export function replayRunId(agentId: string, at: Date): string {
  return `${agentId}.replay-${at.getTime()}-${randomBytes(3).toString('hex')}`;
}

/**
 * Runs an ended run's agent again on the run's query and history, as a new run (`trigger:
 * replay`, `replay_of`): the current definition, with model replies and tool results from the
 * original's journal where the mode says `recorded`. It runs in this process, outside the
 * agent's schedule and overlap policy, and is not one of the agent's runs in its stats.
 */
export async function replayRun(
  context: ServiceContext,
  runId: string,
  input: unknown,
): Promise<RunRecord> {
  const options = parseReplayOptions(input);
  const original = await requireRun(context, runId);
  if (!isTerminal(original.status)) {
    throw new NightshiftError(
      'invalid_state',
      `run "${runId}" is ${original.status}: only a run that has ended can be replayed`,
      { details: { run_id: runId, status: original.status } },
    );
  }
  if (original.status === 'skipped') {
    throw new NightshiftError(
      'invalid_state',
      `run "${runId}" was skipped (${original.skip_reason ?? 'no reason recorded'}): it has nothing to replay`,
      { details: { run_id: runId, status: original.status } },
    );
  }
  const agent = await context.require(original.agent_id);
  const dispatcher = context.requireDispatcher();
  const now = context.now();
  const run = newRunRecord({
    runId: replayRunId(agent.agent_id, now),
    agentId: agent.agent_id,
    trigger: 'replay',
    scheduledAt: now,
    query: original.query,
    now,
    ...context.lease(),
    replayOf: original.run_id,
    replayMode: options.mode,
  });
  const dispatched = await dispatcher.dispatch(agent, run);
  if (!dispatched) throw new NightshiftError('internal', `replay ${run.run_id} was claimed twice`);
  if (!options.wait || isTerminal(dispatched.status)) return context.redactor.redact(dispatched);
  return context.redactor.redact((await dispatcher.completion(run.run_id)) ?? dispatched);
}

/** The step-by-step comparison of a replay with its original. */
export async function replayDiffOf(context: ServiceContext, runId: string): Promise<ReplayDiff> {
  const { store } = await context.connect();
  const replay = await requireRun(context, runId);
  if (!replay.replay_of) {
    throw new NightshiftError(
      'invalid_state',
      `run "${runId}" is not a replay (trigger ${replay.trigger}): replay it first (replayRun)`,
      { details: { run_id: runId } },
    );
  }
  const original = await requireRun(context, replay.replay_of);
  const [originalSteps, replaySteps] = await Promise.all([
    store.runs.listSteps(original.run_id),
    store.runs.listSteps(replay.run_id),
  ]);
  return context.redactor.redact(
    diffReplay(
      { run: original, steps: outcomeChain(original, originalSteps) },
      { run: replay, steps: outcomeChain(replay, replaySteps) },
    ),
  );
}

async function requireRun(context: ServiceContext, runId: string): Promise<RunRecord> {
  const { store } = await context.connect();
  const run = await store.runs.get(runId);
  if (!run) {
    throw new NightshiftError('run_not_found', `no run with id "${runId}"`, {
      details: { run_id: runId },
    });
  }
  return run;
}
