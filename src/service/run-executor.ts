import type { LanguageModelV3 } from '@ai-sdk/provider';
import { runAgent } from '../agent/index.js';
import type { AgentRunResult } from '../agent/index.js';
import { errorMessage, NightshiftError } from '../errors.js';
import {
  addUsage,
  emptyUsage,
  type AgentRecord,
  type AttemptRecord,
  type ErrorInfo,
  type RunRecord,
  type RunStatus,
  type Store,
} from '../storage/contracts/index.js';
import type { ToolDefinition } from '../tools/index.js';
import { abortableSleep } from './abortable-sleep.js';
import type { EventPublisher } from './event-publisher.js';
import { retryDelayMs } from './retry-delay.js';

/** The model and tools one agent's runs use (built once per definition). */
export interface AgentRuntime {
  model: LanguageModelV3;
  tools: ReadonlyMap<string, ToolDefinition>;
}

/** What executing a run needs from the service. */
export interface ExecutorContext {
  store: Store;
  events: EventPublisher;
  now: () => Date;
  instanceId: string;
  leaseTtlMs: number;
  runtimeFor(record: AgentRecord): AgentRuntime;
}

/** Abort reasons the service uses; they decide a run's terminal status. */
export const abortReasons = {
  cancelled: (why: string) => new NightshiftError('cancelled', why),
  shutdown: () =>
    new NightshiftError('shutting_down', 'the service shut down before the run finished'),
};

function statusOnAbort(signal: AbortSignal): { status: RunStatus; error: ErrorInfo } {
  const reason: unknown = signal.reason;
  if (NightshiftError.isInstance(reason) && reason.code === 'shutting_down') {
    return { status: 'interrupted', error: { code: 'interrupted', message: reason.message } };
  }
  return { status: 'cancelled', error: { code: 'cancelled', message: errorMessage(reason) } };
}

/**
 * Executes a claimed run to a terminal state: attempts with timeouts and retries, the run
 * record and its lease kept current, lifecycle events around the runtime's own. Returns the
 * final record; never throws for the run's failure.
 */
export async function executeRun(
  context: ExecutorContext,
  agent: AgentRecord,
  claimed: RunRecord,
  signal: AbortSignal,
): Promise<RunRecord> {
  const { store, events, now } = context;
  const task = agent.definition.task_config;
  const runId = claimed.run_id;
  const startedAt = claimed.started_at ?? now().toISOString();
  const attempts: AttemptRecord[] = [...claimed.attempts];
  let usage = attempts.reduce((sum, attempt) => addUsage(sum, attempt.usage), emptyUsage());
  const leaseUntil = () => new Date(now().getTime() + context.leaseTtlMs).toISOString();
  await store.runs.update(runId, {
    status: 'running',
    started_at: startedAt,
    lease_owner: context.instanceId,
    lease_expires_at: leaseUntil(),
  });
  const heartbeat = setInterval(
    () => {
      void store.runs.update(runId, { lease_expires_at: leaseUntil() }).catch(() => undefined);
    },
    Math.max(50, Math.floor(context.leaseTtlMs / 3)),
  );
  heartbeat.unref();

  let final: { status: RunStatus; output: string | null; error: ErrorInfo | null } | undefined;
  try {
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
        const runtime = context.runtimeFor(agent);
        result = await runAgent({
          definition: agent.definition,
          model: runtime.model,
          tools: runtime.tools,
          runId,
          query: claimed.query,
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
        // Building the model or tools failed (a missing key, a bad tool): retrying will not help.
        const code = NightshiftError.isInstance(error) ? error.code : 'run_error';
        setupFailed = true;
        result = {
          status: 'failed',
          output: null,
          error: { code: code as never, message: errorMessage(error) },
          usage: emptyUsage(),
          steps: 0,
          tool_calls: 0,
          tools_started: false,
        };
      }
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
      });
      await store.runs.update(runId, {
        attempts: [...attempts],
        usage,
        lease_expires_at: leaseUntil(),
      });
      if (status === 'completed') {
        final = { status, output: result.output, error: null };
        break;
      }
      const retryable = (status === 'failed' || status === 'timed_out') && !setupFailed;
      const willRetry = retryable && attempt <= task.max_retries && !signal.aborted;
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
      const waited = await abortableSleep(retryDelayMs(task, attempt + 1), signal);
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
  }

  const endedAt = now();
  const durationMs = Math.max(0, endedAt.getTime() - new Date(startedAt).getTime());
  const record = (await store.runs.update(runId, {
    status: final.status,
    output: final.output,
    error: final.error,
    usage,
    ended_at: endedAt.toISOString(),
    attempts,
    lease_owner: null,
    lease_expires_at: null,
  })) ?? {
    ...claimed,
    status: final.status,
    output: final.output,
    error: final.error,
    usage,
    attempts,
  };
  if (final.status === 'completed') {
    await events.publish('background_task_completed', agent.agent_id, runId, {
      output: final.output ?? '',
      duration_ms: durationMs,
      usage,
    });
  }
  await store.agents.updateStats(agent.agent_id, {
    run: {
      status: final.status,
      ended_at: endedAt.toISOString(),
      duration_ms: durationMs,
      total_tokens: usage.total_tokens,
      error: final.error,
    },
    scheduled_at: claimed.trigger === 'schedule' ? claimed.scheduled_at : undefined,
  });
  return record;
}
