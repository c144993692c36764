import type { LanguageModelV3 } from '@ai-sdk/provider';
import {
  outcomeUnknown,
  RunGuardrails,
  runAgent,
  type GuardrailFunction,
  type AgentRunResult,
  type RunAgentOptions,
} from '../agent/index.js';
import type { AgentDefinition } from '../config/agent-definition.js';
import { errorMessage, NightshiftError } from '../errors.js';
import {
  addUsage,
  emptyUsage,
  isWaiting,
  type AgentRecord,
  type AttemptRecord,
  type ErrorInfo,
  type Lease,
  type RunRecord,
  type RunStatus,
  type RunStep,
  type Store,
  type WaitingStatus,
} from '../storage/contracts/index.js';
import type { ToolDefinition } from '../tools/index.js';
import { runApprovalsFor } from './approvals/run-approvals.js';
import type { ServiceBudgets } from './budgets/service-budgets.js';
import { abortableSleep } from './abortable-sleep.js';
import { retryDelayMs } from './retry-delay.js';
import type { RunTurns } from './run-turns.js';
import { abortReasons, endingOnAbort } from './runs/abort-reasons.js';
import { freshAttempts, resumeChain, resumeMarker } from './runs/resume-plan.js';
import { renewalIntervalMs } from './runs/run-heartbeat.js';
import { replaySourceOf } from './replay/replay-source.js';
import type {
  AttemptFailure,
  EndedRun,
  RunTransitions,
  TransitionContext,
} from './runs/run-transitions.js';
import { TRACING_OFF, type RunTrace, type RunTracing } from './telemetry/run-tracing.js';

/** The model and tools one agent's runs use (built once per definition). */
export interface AgentRuntime {
  /** The definition with its `${NAME}` references read from the environment, as runs use it. */
  definition: AgentDefinition;
  model: LanguageModelV3;
  tools: ReadonlyMap<string, ToolDefinition>;
  /** The functions the definition's guardrail checks may name. */
  guardrails?: ReadonlyMap<string, GuardrailFunction>;
}

/** What executing a run needs from the service; its `store` is behind the service's guard. */
export interface ExecutorContext extends TransitionContext {
  /** Every write that changes the run's status goes through these. */
  transitions: RunTransitions;
  /** Builds (or reuses) the model and tools; rejects when they cannot be had (a missing key, an MCP server down). */
  runtimeFor(record: AgentRecord): Promise<AgentRuntime>;
  /** Where a run that has just started waits for its turn, so ticks due meanwhile start on time. */
  turns: RunTurns;
  /** Prices and the budgets each run's calls are held against. */
  budgets: ServiceBudgets;
  /** Traces runs (`telemetry`); default off. */
  tracing?: RunTracing;
}

/** How {@link executeRun} takes the run. */
export interface ExecuteOptions {
  /** The claim itself recorded the run as running (status and `started_at`): no first write. */
  claimedRunning?: boolean;
  /**
   * The agent's overlap lease the run holds, handed over (no longer renewed) for its terminal
   * write to give up with it; the caller gives it up otherwise (`EndedRun.leaseReleased`).
   */
  overlapLease?: () => Lease;
}

/** One attempt's result: the runtime's, or a setup failure carrying any Nightshift error code. */
type AttemptResult = Omit<AgentRunResult, 'error'> & { error: ErrorInfo | null };

/** What an attempt that could not even start (no model, unknown tool) returns: retrying will not help. */
function setupFailure(error: unknown): AttemptResult {
  return {
    status: 'failed',
    output: null,
    error: {
      code: NightshiftError.isInstance(error) ? error.code : 'run_error',
      message: errorMessage(error),
    },
    usage: emptyUsage(),
    steps: 0,
    tool_calls: 0,
    tools_started: false,
    side_effects: false,
  };
}

/**
 * Executes a claimed run to a terminal state: attempts with timeouts and retries, the run
 * record and its lease kept current, lifecycle events around the runtime's own. Every write is
 * fenced by this process's lease on the run: if another process took the run over (this one
 * stalled past its lease), this one stops and writes nothing more. Never throws for the run's
 * failure.
 */
export async function executeRun(
  context: ExecutorContext,
  agent: AgentRecord,
  claimed: RunRecord,
  outerSignal: AbortSignal,
  options: ExecuteOptions = {},
): Promise<EndedRun> {
  const tracing = context.tracing ?? TRACING_OFF;
  // Only while the trace export is still being set up, at the service's start.
  const starting = tracing.whenReady();
  if (starting) await starting;
  // One trace per active stretch of the run: to its end, or to a wait.
  const runTrace = tracing.startRun(agent, claimed);
  let ended: EndedRun | undefined;
  try {
    ended = await executeStretch(context, agent, claimed, outerSignal, options, runTrace);
    return ended;
  } finally {
    runTrace.end(ended?.run ?? claimed);
  }
}

/** {@link executeRun} under the run's trace. */
async function executeStretch(
  context: ExecutorContext,
  agent: AgentRecord,
  claimed: RunRecord,
  outerSignal: AbortSignal,
  { claimedRunning = false, overlapLease }: ExecuteOptions,
  runTrace: RunTrace,
): Promise<EndedRun> {
  const { store, events, now, instanceId, transitions } = context;
  const task = agent.definition.task_config;
  const runId = claimed.run_id;
  const startedAt = claimed.started_at ?? now().toISOString();
  const attempts: AttemptRecord[] = [...claimed.attempts];
  let usage = attempts.reduce((sum, attempt) => addUsage(sum, attempt.usage), emptyUsage());
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(outerSignal.reason);
  if (outerSignal.aborted) onOuterAbort();
  outerSignal.addEventListener('abort', onOuterAbort, { once: true });
  const signal = controller.signal;
  let lost = false;
  let latest: RunRecord = claimed;

  /** Makes a transition of the run if this process still holds it. */
  const write = async (transition: () => Promise<RunRecord | undefined>): Promise<boolean> => {
    if (lost) return false;
    const record = await transition();
    if (!record) {
      lost = true;
      controller.abort(abortReasons.leaseLost());
      return false;
    }
    latest = record;
    return true;
  };

  const heartbeat = setInterval(
    () => void write(() => transitions.heartbeat(runId)).catch(() => undefined),
    renewalIntervalMs(context.leaseTtlMs),
  );
  heartbeat.unref();

  const unrecorded = (): EndedRun => ({ run: latest, agent: undefined });
  let final:
    | { status: RunStatus; output: string | null; output_json: unknown; error: ErrorInfo | null }
    | undefined;
  let lastFailure: AttemptFailure | undefined;
  try {
    if (!claimedRunning && !(await write(() => transitions.start(runId, startedAt))))
      return unrecorded();
    // The run has started: the rest waits its turn, so ticks due meanwhile (a fleet started
    // together) start on time instead of after every run before them.
    await context.turns.wait();
    // A replay answers from its original's journal where its mode says `recorded`.
    const replay = await replaySourceOf(store.runs, claimed);
    for (let attempt = attempts.length + 1; final === undefined; attempt += 1) {
      const attemptStart = now().toISOString();
      await events.publish('background_task_started', agent.agent_id, runId, {
        scheduled_at: claimed.scheduled_at,
        trigger: claimed.trigger,
        attempt,
        query: claimed.query,
      });
      const resume = await resumeOf(context, agent, runId, attempts, attempt);
      const attemptTrace = runTrace.startAttempt(attempt, resume ? resume.from : undefined);
      let result: AttemptResult;
      let setupFailed = false;
      try {
        const runtime = await context.runtimeFor(agent);
        result = await runAgent({
          definition: runtime.definition,
          model: runtime.model,
          tools: runtime.tools,
          runId,
          // The agent's own query is read with its references; one given for a run, as it is.
          query:
            claimed.query === agent.definition.task_config.query
              ? runtime.definition.task_config.query
              : claimed.query,
          attempt,
          // A replay leaves the agent's conversation as it found it.
          ...(replay ? { replay } : { messages: store.messages }),
          recorder: store.runs,
          guardrails: RunGuardrails.of(runtime.definition, runId, runtime.guardrails),
          signal,
          // A run that waited counts only the time it was active against its timeout.
          timeoutMs: Math.max(1_000, task.timeout * 1000 - activeBeforeWait(attempts)),
          priorUsage: usage,
          ...(resume ? { journal: resume.journal, firstStepIndex: 1 } : {}),
          ...budgetOptions(context, runtime.definition, runId, store),
          ...approvalOptions(context, runtime.definition, runId, store),
          now,
          ...attemptTrace.options,
          emit: async (event) => {
            await events.publish(event.type, agent.agent_id, runId, event.payload);
          },
        });
      } catch (error) {
        // A configuration problem will not fix itself; an MCP server that is down might.
        setupFailed =
          NightshiftError.isInstance(error) &&
          (error.code === 'config_invalid' || error.code === 'missing_api_key');
        result = setupFailure(error);
      }
      if (lost) return unrecorded();
      let status: RunStatus = result.status;
      let error: ErrorInfo | null = result.error;
      if (status === 'cancelled' && signal.aborted)
        ({ status, error } = endingOnAbort(signal.reason));
      usage = addUsage(usage, result.usage);
      // A day's or month's budget ran out and the agent waits for more: the run stops here,
      // holding nothing, and a grant or the window's reset wakes it (`wakeWaitingRuns`).
      // A tool call waits for a person: so does the run, holding nothing, until the decision.
      const waitingFor: WaitingStatus | undefined =
        status === 'awaiting_approval'
          ? 'awaiting_approval'
          : status === 'budget_exceeded' &&
              waitsForBudget(agent.definition, error) &&
              !signal.aborted
            ? 'awaiting_budget'
            : undefined;
      attempts.push({
        attempt,
        started_at: attemptStart,
        ended_at: now().toISOString(),
        status: waitingFor ?? status,
        error,
        usage: result.usage,
        worker_id: instanceId,
        ...(resume ? { resumed_from: resume.from } : {}),
      });
      attemptTrace.end(waitingFor ?? status, error);
      if (waitingFor && error) {
        const suspended = await transitions.suspend(latest, {
          status: waitingFor,
          attempts,
          usage,
          error,
        });
        return suspended ? { run: suspended, agent: undefined } : unrecorded();
      }
      if (status === 'completed') {
        final = {
          status,
          output: result.output,
          output_json: result.output_json ?? null,
          error: null,
        };
        break;
      }
      // A replay is one attempt (resumed after a crash like any run): it shows what happens.
      // A guardrail's block is a security stop: it is not tried again by itself.
      const retryable =
        (status === 'failed' || status === 'timed_out') &&
        !setupFailed &&
        !replay &&
        error?.code !== 'guardrail';
      // Resumes are bounded apart (`max_resumes`): only attempts that started afresh are retries.
      const retriesLeft = freshAttempts(attempts) <= task.max_retries && !signal.aborted;
      // A tool that is not idempotent may have taken effect: repeating the run could do it twice.
      const blocked = retryable && retriesLeft && result.side_effects && !task.retry_side_effects;
      if (blocked && error) {
        error = {
          ...error,
          message: `${error.message} (not retried: a tool that is not idempotent had started; set task_config.retry_side_effects to retry anyway)`,
          retry_blocked: 'side_effects',
        };
        attempts[attempts.length - 1] = { ...attempts[attempts.length - 1]!, error };
      }
      const willRetry = retryable && retriesLeft && !blocked;
      const failure: AttemptFailure = {
        error: error ?? { code: 'unknown', message: 'the attempt failed' },
        attempt,
        willRetry,
        status,
      };
      if (!willRetry) {
        // Told once the run's end is on the record, as a completed run's event is.
        lastFailure = failure;
        final = { status, output: null, output_json: null, error };
        break;
      }
      await transitions.attemptFailed(claimed, failure);
      // The final write records the last attempt; one followed by a retry is recorded now.
      if (!(await write(() => transitions.retry(runId, attempts, usage)))) return unrecorded();
      const waited = await abortableSleep(retryDelayMs(task, attempt + 1), signal);
      if (lost) return unrecorded();
      if (!waited) final = { ...endingOnAbort(signal.reason), output: null, output_json: null };
    }
  } catch (error) {
    // The store failed under the run: record what can be recorded, and say so.
    final = {
      status: 'failed',
      output: null,
      output_json: null,
      error: { code: 'storage_error', message: errorMessage(error) },
    };
  } finally {
    clearInterval(heartbeat);
    outerSignal.removeEventListener('abort', onOuterAbort);
  }
  const ended =
    lost || !final
      ? unrecorded()
      : ((await transitions.finish(latest, { ...final, usage, attempts }, overlapLease?.())) ??
        unrecorded());
  // The last attempt's failure, after the terminal write: whoever hears it reads the run ended.
  if (lastFailure) await transitions.attemptFailed(claimed, lastFailure);
  return ended;
}

/** Where a resuming attempt goes on from. */
interface Resume {
  journal: RunStep[];
  from: string | null;
}

/**
 * When recovery marked this attempt as resuming the run (its process died), the journal it goes
 * on from; `background_task_resumed` says how far the run had got. Undefined for a fresh attempt.
 */
async function resumeOf(
  context: ExecutorContext,
  agent: AgentRecord,
  runId: string,
  attempts: readonly AttemptRecord[],
  attempt: number,
): Promise<Resume | undefined> {
  // Only recovery marks a resume, after recording the dead attempt `interrupted`, and the wake
  // of a run that waited, after an attempt stopped `awaiting_budget` or `awaiting_approval`.
  const last = attempts.at(-1)?.status;
  if (last !== 'interrupted' && !(last && isWaiting(last))) return undefined;
  const steps = await context.store.runs.listSteps(runId);
  const marker = resumeMarker(steps, attempt);
  if (!marker) return undefined;
  const journal = resumeChain(steps, attempt);
  const latest = new Map<string, RunStep>();
  for (const step of journal) {
    if (step.kind === 'tool_call' && step.tool_call_id) latest.set(step.tool_call_id, step);
  }
  const unknown = [...latest.values()].filter(
    (step) => outcomeUnknown(step) && step.idempotent !== true,
  ).length;
  await context.events.publish('background_task_resumed', agent.agent_id, runId, {
    attempt,
    from_step: marker.resumed_from ?? null,
    skipped_model_calls: journal.filter(
      (step) => step.kind === 'model_call' && step.state === 'completed' && step.reply,
    ).length,
    unknown_outcome_calls: unknown,
  });
  return { journal, from: marker.resumed_from ?? null };
}

/**
 * Whether a run stopped by this budget error waits for more (`budget_config.on_exhausted:
 * wait`): a day's or a month's budget only, as a grant or the reset can refill those.
 */
export function waitsForBudget(definition: AgentDefinition, error: ErrorInfo | null): boolean {
  const window = error?.budget?.window;
  return (
    definition.budget_config?.on_exhausted === 'wait' &&
    (window === 'per_day' || window === 'per_month')
  );
}

/**
 * How long the run was active before the wait it now goes on from: the attempts it continues
 * (back to the last that started afresh), when the last of them stopped to wait. 0 otherwise:
 * a retry or a resume after a crash has a timeout of its own.
 */
function activeBeforeWait(attempts: readonly AttemptRecord[]): number {
  const last = attempts.at(-1);
  if (!last || !isWaiting(last.status)) return 0;
  let active = 0;
  for (let index = attempts.length - 1; index >= 0; index -= 1) {
    const entry = attempts[index]!;
    if (entry.ended_at)
      active += Math.max(0, Date.parse(entry.ended_at) - Date.parse(entry.started_at));
    if (entry.resumed_from === undefined) break;
  }
  return active;
}

/** The tool calls of the run a person decides on (the agent's `agent_config.approvals`). */
function approvalOptions(
  context: ExecutorContext,
  definition: AgentDefinition,
  runId: string,
  store: Store,
): Pick<RunAgentOptions, 'approvals'> {
  const approvals = runApprovalsFor(
    definition,
    runId,
    store.approvals,
    context.now,
    async (agentId, id, payload) => {
      await context.events.publish('approval_requested', agentId, id, payload);
    },
  );
  return approvals ? { approvals } : {};
}

/** The model's price for the record, and the budgets the run's calls are held against. */
function budgetOptions(
  context: ExecutorContext,
  definition: AgentDefinition,
  runId: string,
  store: Store,
): Pick<RunAgentOptions, 'pricing' | 'budget'> {
  const pricing = context.budgets.recordedPricing(definition);
  const budget = context.budgets.forRun(definition, runId, store.budgets);
  return { ...(pricing ? { pricing } : {}), ...(budget ? { budget } : {}) };
}
