import type { LanguageModelV3 } from '@ai-sdk/provider';
import {
  APICallError,
  generateText,
  RetryError,
  type ModelMessage,
  type StepResult,
  type ToolSet,
} from 'ai';
import type { AgentDefinition } from '../config/agent-definition.js';
import { errorMessage, NightshiftError } from '../errors.js';
import {
  emptyUsage,
  type MessageStore,
  type StoredMessage,
  type Usage,
} from '../storage/contracts/index.js';
import type { ToolDefinition } from '../tools/index.js';
import type { AgentEventSink } from './agent-events.js';
import { sanitizeConversation, selectHistory } from './conversation.js';
import type { AgentErrorCode, AgentRunResult, AgentRunStatus } from './run-result.js';
import { whenAborted, wrapTools, type StepRecorder } from './tool-calls.js';
import { runWarningOf } from './providers/scripted-model.js';
import { readReportedUsage } from './reported-usage.js';

/** Everything one run of one agent needs. Options are camelCase; the definition keeps the seed's keys. */
export interface RunAgentOptions {
  definition: AgentDefinition;
  /** The model to call (see `createModel`). */
  model: LanguageModelV3;
  runId: string;
  /** The tools this agent may use, by name. */
  tools?: ReadonlyMap<string, ToolDefinition>;
  /** Defaults to `task_config.query`. */
  query?: string;
  /** Attempt number within the run (1 for the first). */
  attempt?: number;
  /** Conversation memory; without it the run sees no history and stores none. */
  messages?: MessageStore;
  /** Defaults per `task_config.session_policy`: the agent id, or the run id for `per_run`. */
  sessionId?: string;
  emit?: AgentEventSink;
  recorder?: StepRecorder;
  /** Aborting it cancels the run, aborting the HTTP request or tool in flight; its reason decides the status. */
  signal?: AbortSignal;
  /** A hard bound on the run, in milliseconds (ends it `timed_out`). */
  timeoutMs?: number;
  /** Usage of earlier attempts of the same run: limits count the whole run. */
  priorUsage?: Usage;
  /** Retries of one model call on 429, 5xx and network errors (AI SDK retry); not new requests. */
  maxRetries?: number;
  now?: () => Date;
}

type StopReason = 'max_steps' | 'request_limit' | 'total_tokens_limit';

/**
 * The most stored messages a run reads back. A stored message costs at least one window slot and
 * one estimated token, so reading `memory_config.value` of them never cuts either window short;
 * the cap bounds a huge token_budget (say 1,000,000), which would otherwise read the whole session
 * again on every run. 10,000 messages are far more history than a model is usefully sent.
 */
const MAX_HISTORY_MESSAGES = 10_000;

/** Aborts what a finished run left behind (a tool still running); built once, not per run. */
const RUN_ENDED = new NightshiftError('cancelled', 'the run has ended');

const LIMIT_MESSAGES: Record<StopReason, (limit: number) => string> = {
  max_steps: (limit) => `reached max_steps (${limit}) without a final answer`,
  request_limit: (limit) =>
    `reached request_limit (${limit} model requests) without a final answer`,
  total_tokens_limit: (limit) =>
    `reached total_tokens_limit (${limit} tokens) without a final answer`,
};

/** Runs one agent once: model ↔ tools under hard limits, with memory and events. Never throws for a run's failure. */
export async function runAgent(options: RunAgentOptions): Promise<AgentRunResult> {
  const { definition } = options;
  const limits = definition.agent_config;
  const now = options.now ?? (() => new Date());
  const emit: AgentEventSink = options.emit ?? (() => undefined);
  const attempt = options.attempt ?? 1;
  const prior = options.priorUsage ?? emptyUsage();
  const query = options.query ?? definition.task_config.query;
  const usage = emptyUsage();
  let steps = 0;
  let toolCalls = 0;
  let toolsStarted = false;
  let sideEffects = false;
  let stepIndex = 0;
  let storageFailure: unknown;

  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            controller.abort(
              new NightshiftError(
                'timeout',
                `the run exceeded its timeout of ${options.timeoutMs} ms`,
              ),
            ),
          options.timeoutMs,
        );
  const aborted = whenAborted(controller.signal);
  aborted.catch(() => undefined);

  const result = (
    status: AgentRunStatus,
    output: string | null,
    error: { code: AgentErrorCode; message: string } | null,
  ): AgentRunResult => ({
    status,
    output,
    error,
    usage: { ...usage },
    steps,
    tool_calls: toolCalls,
    tools_started: toolsStarted,
    side_effects: sideEffects,
  });

  const limitReached = (): StopReason | undefined => {
    if (steps >= limits.max_steps) return 'max_steps';
    if (limits.request_limit > 0 && prior.requests + usage.requests >= limits.request_limit)
      return 'request_limit';
    if (
      limits.total_tokens_limit > 0 &&
      prior.total_tokens + usage.total_tokens >= limits.total_tokens_limit
    ) {
      return 'total_tokens_limit';
    }
    return undefined;
  };
  const limitResult = (reason: StopReason) =>
    result('budget_exceeded', null, {
      code: reason,
      message: LIMIT_MESSAGES[reason](reason === 'max_steps' ? limits.max_steps : limits[reason]),
    });

  const sessionId =
    options.sessionId ??
    definition.task_config.session_id ??
    (definition.task_config.session_policy === 'per_run' ? options.runId : definition.agent_id);
  const userMessage: ModelMessage = { role: 'user', content: query };
  let produced: ModelMessage[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const executedCalls = new Set<string>();

  try {
    const before = limitReached();
    if (before && before !== 'max_steps') return limitResult(before);

    const history = options.messages
      ? selectHistory(
          (await options.messages.list(sessionId, {
            limit: Math.min(limits.memory_config.value, MAX_HISTORY_MESSAGES),
          })) as ModelMessage[],
          limits.memory_config,
        )
      : [];
    await emit({ type: 'user_message', payload: { message: query } });

    const tools = wrapTools(options.tools ?? new Map(), {
      agentId: definition.agent_id,
      runId: options.runId,
      attempt,
      toolCallTimeout: limits.tool_call_timeout,
      allowHosts: definition.allow_hosts,
      runSignal: controller.signal,
      emit,
      recorder: options.recorder,
      now,
      nextStepIndex: () => stepIndex++,
      inFlight,
      onToolStarted: (toolCallId, idempotent) => {
        executedCalls.add(toolCallId);
        if (!idempotent) sideEffects = true;
        toolsStarted = true;
        toolCalls += 1;
      },
    });

    let modelStepId: string | undefined;
    const generation = generateText({
      model: options.model,
      system: definition.system_instruction,
      messages: [...history, userMessage],
      tools,
      maxRetries: options.maxRetries ?? 2,
      abortSignal: controller.signal,
      ...(definition.model_config.temperature === undefined
        ? {}
        : { temperature: definition.model_config.temperature }),
      ...(definition.model_config.max_tokens === undefined
        ? {}
        : { maxOutputTokens: definition.model_config.max_tokens }),
      ...(definition.model_config.top_p === undefined
        ? {}
        : { topP: definition.model_config.top_p }),
      // Evaluated only after a step that called tools: the loop stops before the next model call.
      stopWhen: () => limitReached() !== undefined,
      experimental_onStepStart: async () => {
        // A request counts when it is made, even if it then fails: it may have been billed.
        usage.requests += 1;
        const index = stepIndex++;
        modelStepId = `${attempt}.${index}`;
        try {
          await options.recorder?.appendStep({
            run_id: options.runId,
            step_id: modelStepId,
            attempt,
            index,
            kind: 'model_call',
            state: 'started',
            started_at: now().toISOString(),
            ended_at: null,
          });
        } catch (error) {
          storageFailure ??= error;
        }
      },
      onStepFinish: async (step: StepResult<ToolSet>) => {
        steps += 1;
        const { usage: stepUsage, problems } = readReportedUsage(step.usage);
        if (problems.length > 0) {
          await emit({
            type: 'run_warning',
            payload: {
              code: 'usage_clamped',
              message: `the provider reported implausible token counts: ${problems.join('; ')}`,
            },
          });
        }
        // What the provider warned of (a scripted template left unfilled, a setting it ignores).
        for (const warning of step.warnings ?? []) {
          await emit({ type: 'run_warning', payload: runWarningOf(warning) });
        }
        usage.input_tokens += stepUsage.input_tokens;
        usage.output_tokens += stepUsage.output_tokens;
        usage.total_tokens += stepUsage.total_tokens;
        produced = step.response.messages;
        try {
          if (modelStepId) {
            await options.recorder?.updateStep(options.runId, modelStepId, {
              state: 'completed',
              ended_at: now().toISOString(),
              usage: stepUsage,
              finish_reason: step.finishReason,
            });
          }
          // Malformed calls (unknown tool, input failing its schema) never reach a tool: report them too.
          for (const part of step.content) {
            if (part.type === 'tool-error' && !executedCalls.has(part.toolCallId)) {
              await emit({
                type: 'tool_call_error',
                payload: {
                  tool_name: part.toolName,
                  tool_args: part.input,
                  tool_call_id: part.toolCallId,
                  error: errorMessage(part.error),
                  timed_out: false,
                },
              });
            }
          }
          if (step.toolCalls.length > 0 && step.text.trim() !== '') {
            await emit({ type: 'agent_message', payload: { message: step.text } });
          }
        } catch (error) {
          storageFailure ??= error;
        }
      },
    });
    // The race makes the timeout hard; the losing promise must not become an unhandled rejection.
    generation.catch(() => undefined);
    const generated = await Promise.race([generation, aborted]);
    produced = generated.response.messages;
    if (storageFailure) throw storageFailure;

    const last = generated.steps.at(-1);
    const reason = last && last.finishReason === 'tool-calls' ? limitReached() : undefined;
    if (reason) return limitResult(reason);
    if (!last || last.finishReason === 'tool-calls' || generated.text.trim() === '') {
      return result('failed', null, {
        code: 'no_answer',
        message: 'the model ended without an answer',
      });
    }
    await emit({ type: 'final_answer', payload: { message: generated.text } });
    return result('completed', generated.text, null);
  } catch (error) {
    if (controller.signal.aborted) {
      const reason: unknown = controller.signal.reason;
      if (NightshiftError.isInstance(reason) && reason.code === 'timeout') {
        return result('timed_out', null, { code: 'timeout', message: reason.message });
      }
      return result('cancelled', null, {
        code: 'cancelled',
        message: NightshiftError.isInstance(reason) ? reason.message : 'the run was cancelled',
      });
    }
    if (error === storageFailure) {
      return result('failed', null, {
        code: 'storage_error',
        message: `could not record the run: ${errorMessage(error)}`,
      });
    }
    return result('failed', null, { code: 'model_error', message: describeModelError(error) });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
    if (!controller.signal.aborted) controller.abort(RUN_ENDED);
    await Promise.allSettled([...inFlight]);
    if (options.messages && produced.length > 0) {
      // A stored conversation must stay valid to send again: no tool call without its result.
      await options.messages
        .append(sessionId, sanitizeConversation([userMessage, ...produced]) as StoredMessage[])
        .catch(() => undefined);
    }
  }
}

/** A model failure in a line: the HTTP status when there is one, and the provider's message. */
function describeModelError(error: unknown): string {
  const cause = RetryError.isInstance(error) ? error.lastError : error;
  if (APICallError.isInstance(cause)) {
    const retried = RetryError.isInstance(error) ? ` after ${error.errors.length} attempts` : '';
    return `model request failed${retried}: ${cause.statusCode ?? 'network error'} ${cause.message}`;
  }
  return errorMessage(error);
}
