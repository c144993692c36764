import type { LanguageModelV3 } from '@ai-sdk/provider';
import { runAgent, type AgentRunResult } from '../agent/index.js';
import type { AgentDefinition } from '../config/agent-definition.js';
import { errorMessage, NightshiftError } from '../errors.js';
import {
  addUsage,
  emptyUsage,
  type AgentRecord,
  type AttemptRecord,
  type ErrorInfo,
  type RunPatch,
  type RunRecord,
  type RunStatus,
  type Store,
} from '../storage/contracts/index.js';
import type { ToolDefinition } from '../tools/index.js';
import { abortableSleep } from './abortable-sleep.js';
import type { EventPublisher } from './event-publisher.js';
import { retryDelayMs } from './retry-delay.js';
import type { RunTurns } from './run-turns.js';

/** The model and tools one agent's runs use (built once per definition). */
export interface AgentRuntime {
  /** The definition with its `${NAME}` references read from the environment, as runs use it. */
  definition: AgentDefinition;
  model: LanguageModelV3;
  tools: ReadonlyMap<string, ToolDefinition>;
}

/** What executing a run needs from the service. */
export interface ExecutorContext {
  /** The store behind the service's guard: what a run writes is redacted and capped there. */
  store: Store;
  events: EventPublisher;
  now: () => Date;
  instanceId: string;
  leaseTtlMs: number;
  /** Builds (or reuses) the model and tools; rejects when they cannot be had (a missing key, an MCP server down). */
  runtimeFor(record: AgentRecord): Promise<AgentRuntime>;
  /** Where a run that has just started waits for its turn, so ticks due meanwhile start on time. */
  turns: RunTurns;
}

/** How a run ended: its record, and the agent's record once its stats took the run in. */
export interface ExecutedRun {
  run: RunRecord;
  /** Undefined when the run's end was not recorded (its lease was lost) or the agent is gone. */
  agent: AgentRecord | undefined;
}

/** Abort reasons the service uses; they decide a run's terminal status. */
export const abortReasons = {
  cancelled: (why: string) => new NightshiftError('cancelled', why),
  shutdown: () =>
    new NightshiftError('shutting_down', 'the service shut down before the run finished'),
  leaseLost: () =>
    new NightshiftError(
      'invalid_state',
      'this process lost the run’s lease; another process has it',
    ),
  /** An infrastructure fault (the store was out past the lease), not anyone's decision: `interrupted`. */
  overlapLost: (holder: string | undefined) =>
    new NightshiftError(
      'storage_unavailable',
      `the agent’s overlap lease expired while the store could not be reached, and ${holder ? `${holder} holds it now` : 'another run holds it now'}`,
    ),
};

function statusOnAbort(signal: AbortSignal): { status: RunStatus; error: ErrorInfo } {
  const reason: unknown = signal.reason;
  if (
    NightshiftError.isInstance(reason) &&
    (reason.code === 'shutting_down' || reason.code === 'storage_unavailable')
  ) {
    return { status: 'interrupted', error: { code: 'interrupted', message: reason.message } };
  }
  return { status: 'cancelled', error: { code: 'cancelled', message: errorMessage(reason) } };
}

/** The instant a lease taken now expires. */
export function leaseExpiry(context: Pick<ExecutorContext, 'now' | 'leaseTtlMs'>): string {
  return new Date(context.now().getTime() + context.leaseTtlMs).toISOString();
}

/** What an attempt that could not even start (no model, unknown tool) returns: retrying will not help. */
function setupFailure(error: unknown): AgentRunResult {
  return {
    status: 'failed',
    output: null,
    error: {
      code: (NightshiftError.isInstance(error) ? error.code : 'run_error') as never,
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
 * failure. `claimedRunning`: the claim itself recorded the run as running (status and
 * `started_at`), so the first write is not needed.
 */
export async function executeRun(
  context: ExecutorContext,
  agent: AgentRecord,
  claimed: RunRecord,
  outerSignal: AbortSignal,
  claimedRunning = false,
): Promise<ExecutedRun> {
  const { store, events, now, instanceId } = context;
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

  /** Writes to the run if this process still holds it. */
  const write = async (patch: RunPatch): Promise<boolean> => {
    if (lost) return false;
    const record = await store.runs.update(runId, patch, {
      lease_owner: instanceId,
    });
    if (!record) {
      lost = true;
      controller.abort(abortReasons.leaseLost());
      return false;
    }
    latest = record;
    return true;
  };

  const heartbeat = setInterval(
    () => void write({ lease_expires_at: leaseExpiry(context) }).catch(() => undefined),
    Math.max(50, Math.floor(context.leaseTtlMs / 3)),
  );
  heartbeat.unref();

  const unrecorded = (): ExecutedRun => ({ run: latest, agent: undefined });
  let final: { status: RunStatus; output: string | null; error: ErrorInfo | null } | undefined;
  try {
    if (
      !claimedRunning &&
      !(await write({
        status: 'running',
        started_at: startedAt,
        lease_expires_at: leaseExpiry(context),
      }))
    )
      return unrecorded();
    // The run has started: the rest waits its turn, so ticks due meanwhile (a fleet started
    // together) start on time instead of after every run before them.
    await context.turns.wait();
    for (let attempt = attempts.length + 1; final === undefined; attempt += 1) {
      const attemptStart = now().toISOString();
      await events.publish('background_task_started', agent.agent_id, runId, {
        scheduled_at: claimed.scheduled_at,
        trigger: claimed.trigger,
        attempt,
        query: claimed.query,
      });
      let result: AgentRunResult;
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
          messages: store.messages,
          recorder: store.runs,
          signal,
          timeoutMs: task.timeout * 1000,
          priorUsage: usage,
          now,
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
      if (status === 'cancelled' && signal.aborted) ({ status, error } = statusOnAbort(signal));
      usage = addUsage(usage, result.usage);
      attempts.push({
        attempt,
        started_at: attemptStart,
        ended_at: now().toISOString(),
        status,
        error,
        usage: result.usage,
        worker_id: instanceId,
      });
      if (status === 'completed') {
        final = { status, output: result.output, error: null };
        break;
      }
      const retryable = (status === 'failed' || status === 'timed_out') && !setupFailed;
      const retriesLeft = attempt <= task.max_retries && !signal.aborted;
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
      await events.publish('background_task_error', agent.agent_id, runId, {
        error: error ?? { code: 'unknown', message: 'the attempt failed' },
        attempt,
        will_retry: willRetry,
        status,
      });
      if (!willRetry) {
        final = { status, output: null, error };
        break;
      }
      // The final write records the last attempt; one followed by a retry is recorded now.
      if (
        !(await write({ attempts: [...attempts], usage, lease_expires_at: leaseExpiry(context) }))
      )
        return unrecorded();
      const waited = await abortableSleep(retryDelayMs(task, attempt + 1), signal);
      if (lost) return unrecorded();
      if (!waited) final = { ...statusOnAbort(signal), output: null };
    }
  } catch (error) {
    // The store failed under the run: record what can be recorded, and say so.
    final = {
      status: 'failed',
      output: null,
      error: { code: 'storage_error', message: errorMessage(error) },
    };
  } finally {
    clearInterval(heartbeat);
    outerSignal.removeEventListener('abort', onOuterAbort);
  }
  if (lost || !final) return unrecorded();

  const endedAt = now();
  const durationMs = Math.max(0, endedAt.getTime() - new Date(startedAt).getTime());
  const written = await write({
    status: final.status,
    output: final.output,
    error: final.error,
    usage,
    ended_at: endedAt.toISOString(),
    attempts,
    lease_owner: null,
    lease_expires_at: null,
  });
  if (!written) return unrecorded();
  if (final.status === 'completed') {
    await events.publish('background_task_completed', agent.agent_id, runId, {
      output: final.output ?? '',
      duration_ms: durationMs,
      usage,
    });
  }
  const updated = await store.agents.updateStats(agent.agent_id, {
    run: {
      status: final.status,
      ended_at: endedAt.toISOString(),
      duration_ms: durationMs,
      total_tokens: usage.total_tokens,
      error: final.error,
    },
    ...(claimed.trigger === 'schedule' ? { scheduled_at: claimed.scheduled_at } : {}),
  });
  return { run: latest, agent: updated };
}
