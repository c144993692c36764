import type { LanguageModelV3 } from '@ai-sdk/provider';
import {
  APICallError,
  generateText,
  RetryError,
  wrapLanguageModel,
  type ModelMessage,
  type StepResult,
  type TelemetrySettings,
  type ToolSet,
} from 'ai';
import type { AgentDefinition } from '../config/agent-definition.js';
import { errorMessage, NightshiftError } from '../errors.js';
import {
  addUsage,
  emptyUsage,
  type ApprovalWaitInfo,
  type MessageStore,
  type RunStep,
  type StoredMessage,
  type Usage,
} from '../storage/contracts/index.js';
import type { ToolDefinition } from '../tools/index.js';
import type { AgentEventSink } from './agent-events.js';
import { sanitizeConversation, selectHistory } from './conversation.js';
import { approvalOfStop, approvalStopError, type RunApprovals } from './run-approvals.js';
import type { AgentErrorCode, AgentRunResult, AgentRunStatus } from './run-result.js';
import { isGuardrailBlock, RunGuardrails, withAnswer } from './guardrails.js';
import { whenAborted, wrapTools, type StepRecorder } from './tool-calls.js';
import { runWarningOf } from './providers/scripted-model.js';
import type { ModelPricing } from '../config/pricing.js';
import {
  budgetMiddleware,
  budgetStopError,
  budgetStopInfoOf,
  DEFAULT_BUDGETED_OUTPUT_TOKENS,
  isBudgetStopError,
  type BudgetStop,
  type RunBudget,
} from './run-budget.js';
import { journalMiddleware, RunJournal, usageOf, type ModelCallInProgress } from './run-journal.js';
import { recordedHistory, replayMiddleware, RunReplay, type ReplaySource } from './run-replay.js';
import {
  listProblems,
  nativeOutput,
  outputInstruction,
  repairMessage,
  structuredOutput,
  supportsNativeOutput,
} from './structured-output.js';

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
  /**
   * The recorded steps this attempt goes on from (a run resumed after its process died): their
   * model calls are answered from the journal, their tool calls return what they recorded. Their
   * usage is part of `priorUsage`.
   */
  journal?: readonly RunStep[];
  /** The index of this attempt's first step (a resumed attempt's marker takes index 0). */
  firstStepIndex?: number;
  /** Retries of one model call on 429, 5xx and network errors (AI SDK retry); not new requests. */
  maxRetries?: number;
  /** The model's price, when it has one: each model call's usage records its `cost_usd`. */
  pricing?: ModelPricing;
  /**
   * The budgets each model request and tool call is held against before it is made; a call
   * that does not fit is not made, and the run ends `budget_exceeded` with the budget's code.
   */
  budget?: RunBudget;
  /**
   * The tool calls a person decides on: a call a rule matches waits for its decision, and the
   * run ends `awaiting_approval` to wait with it (the service suspends it until the decision).
   */
  approvals?: RunApprovals;
  /**
   * A replay of an earlier run: its history is the original's, its model replies and tool
   * results come from the original's journal where `mode` says `recorded`, and it stores no
   * conversation.
   */
  replay?: ReplaySource;
  /**
   * The AI SDK's OpenTelemetry settings (the service's traces): its model and tool call spans,
   * under the span active where the run is called. Without it, no spans.
   */
  telemetry?: TelemetrySettings;
  /**
   * The checks on what reaches the model and what leaves it; by default the definition's
   * `agent_config.guardrails` (without functions: give them here, `RunGuardrails.of`).
   */
  guardrails?: RunGuardrails;
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
  const journal = new RunJournal(options.journal ?? []);
  const replay = options.replay ? new RunReplay(options.replay) : undefined;
  const recordedReplies = replay?.mode.model === 'recorded';
  // A replay leaves the agent's conversation as it found it.
  const messages = replay ? undefined : options.messages;
  let historyRecorded = journal.modelCalls.length > 0;
  let divergenceWarned = false;
  // Limits count the run's usage up to the current step: what came before the journal, then
  // each journal call as it is answered again, then this attempt's own calls.
  const beforeJournal = subtractUsage(prior, journal.replayedUsage());
  const replayed = emptyUsage();
  let modelCalls = 0;
  let steps = 0;
  let toolCalls = 0;
  let toolsStarted = false;
  let sideEffects = false;
  let stepIndex = options.firstStepIndex ?? 0;
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
  // Hits are events; a block ends the run `failed` with code `guardrail`.
  const guardrails = (options.guardrails ?? RunGuardrails.of(definition, options.runId)).forRun(
    emit,
    (error) => controller.abort(error),
  );

  const result = (
    status: AgentRunStatus,
    output: string | null,
    error: AgentRunResult['error'],
    outputJson?: { value: unknown },
  ): AgentRunResult => ({
    status,
    output,
    ...(outputJson ? { output_json: outputJson.value } : {}),
    error,
    usage: { ...usage },
    steps,
    tool_calls: toolCalls,
    tools_started: toolsStarted,
    side_effects: sideEffects,
  });

  const limitReached = (): StopReason | undefined => {
    if (steps >= limits.max_steps) return 'max_steps';
    const spent = addUsage(addUsage(beforeJournal, replayed), usage);
    if (limits.request_limit > 0 && spent.requests >= limits.request_limit) return 'request_limit';
    if (limits.total_tokens_limit > 0 && spent.total_tokens >= limits.total_tokens_limit) {
      return 'total_tokens_limit';
    }
    return undefined;
  };
  const limitResult = (reason: StopReason, after = '') =>
    result('budget_exceeded', null, {
      code: reason,
      message:
        LIMIT_MESSAGES[reason](reason === 'max_steps' ? limits.max_steps : limits[reason]) + after,
    });

  // The answer must be JSON valid against the schema; native providers are given it as well.
  const outputSchema = definition.task_config.output_schema;
  const structured = outputSchema ? structuredOutput(outputSchema) : undefined;
  const native = structured !== undefined && supportsNativeOutput(options.model);
  const system = structured
    ? [definition.system_instruction, outputInstruction(structured.schema)]
        .filter((part) => part.trim() !== '')
        .join('\n\n')
    : definition.system_instruction;

  const maxOutputTokens =
    definition.model_config.max_tokens ??
    (options.budget ? DEFAULT_BUDGETED_OUTPUT_TOKENS : undefined);
  /** Ends the run at once: a call would cross a budget, so it is not made. */
  const stopForBudget = (stop: BudgetStop): never => {
    const error = budgetStopError(stop);
    controller.abort(error);
    throw error;
  };

  /**
   * Ends the run to wait for a person at a tool call: the calls of the same reply already
   * running finish and are recorded first, so the resumed run finds their results.
   */
  let awaitingApproval: NightshiftError | undefined;
  const stopForApproval = async (approval: ApprovalWaitInfo): Promise<never> => {
    const error = approvalStopError(approval);
    awaitingApproval ??= error;
    await Promise.allSettled([...inFlight]);
    controller.abort(awaitingApproval);
    throw awaitingApproval;
  };

  const sessionId =
    options.sessionId ??
    definition.task_config.session_id ??
    (definition.task_config.session_policy === 'per_run' ? options.runId : definition.agent_id);
  const userMessage: { role: 'user'; content: string } = { role: 'user', content: query };
  let produced: ModelMessage[] = [];
  /** The messages of the generations before the current one, with the repair requests. */
  let earlier: ModelMessage[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const executedCalls = new Set<string>();
  let current: ModelCallInProgress = { replay: undefined, stepId: undefined };

  try {
    // A resumed run's first calls are answered from the journal: only a live call is limited.
    const before = journal.modelCalls.length === 0 ? limitReached() : undefined;
    if (before && before !== 'max_steps') return limitResult(before);

    const history = replay
      ? replay.history()
      : messages
        ? selectHistory(
            (await messages.list(sessionId, {
              limit: Math.min(limits.memory_config.value, MAX_HISTORY_MESSAGES),
            })) as ModelMessage[],
            limits.memory_config,
          )
        : [];
    userMessage.content = String(await guardrails.screen('query', query));
    await emit({ type: 'user_message', payload: { message: userMessage.content } });
    // The original's history was over the journal's cap: the replay is sent without it.
    const cut = replay?.historyCut();
    if (cut) {
      await emit({
        type: 'run_warning',
        payload: {
          code: 'replay_history_missing',
          message: `the original run's history (${cut.original_chars} characters of JSON) was over the journal's cap of ${cut.cap_chars}: the replay is sent without it`,
        },
      });
    }

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
      journal,
      inFlight,
      budget: options.budget,
      stopForBudget,
      approvals: options.approvals,
      stopForApproval,
      replay,
      guardrails,
      onSideEffectsBefore: () => {
        sideEffects = true;
      },
      onToolStarted: (toolCallId, idempotent) => {
        executedCalls.add(toolCallId);
        if (!idempotent) sideEffects = true;
        toolsStarted = true;
        toolCalls += 1;
      },
    });

    // The journal answers recorded calls first; only a live request reaches the budget's hold.
    const budgeted = options.budget
      ? [
          budgetMiddleware(
            options.budget,
            () => current.stepId,
            async (stop) => {
              // Never sent: not a request, and its step says why it has no reply.
              usage.requests -= 1;
              if (current.stepId) {
                await options.recorder
                  ?.updateStep(options.runId, current.stepId, {
                    state: 'completed',
                    ended_at: now().toISOString(),
                    usage: emptyUsage(),
                    error: stop.message,
                  })
                  .catch((error: unknown) => {
                    storageFailure ??= error;
                  });
              }
              return stopForBudget(stop);
            },
            (reported) => usageOf(reported, options.pricing).usage,
          ),
        ]
      : [];
    const model = wrapLanguageModel({
      model: options.model,
      middleware: [
        journalMiddleware(
          () => current,
          async (call, reply, callUsage) => {
            if (!call.stepId) return;
            try {
              await options.recorder?.updateStep(options.runId, call.stepId, {
                state: 'completed',
                ended_at: now().toISOString(),
                usage: callUsage,
                finish_reason: reply.finish_reason,
                reply,
                ...(call.requestDigest === undefined ? {} : { request_digest: call.requestDigest }),
                ...(call.replayStep ? { replay: call.replayStep } : {}),
              });
            } catch (error) {
              storageFailure ??= error;
            }
            const diverged = call.replayStep?.diverged;
            if (diverged && !divergenceWarned) {
              divergenceWarned = true;
              try {
                await emit({
                  type: 'run_warning',
                  payload: { code: 'replay_diverged', message: `step ${call.stepId}: ${diverged}` },
                });
              } catch (error) {
                storageFailure ??= error;
              }
            }
            // Write-ahead: a reply that could not be recorded is not acted on.
            if (storageFailure) throw storageFailure;
          },
          options.pricing,
        ),
        ...(replay ? [replayMiddleware(replay, () => current)] : []),
        ...budgeted,
      ],
    });
    const settings = {
      model,
      system,
      tools,
      ...(native
        ? {
            output: nativeOutput(outputSchema!),
            // Strict mode refuses schemas with optional properties; the run validates anyway.
            providerOptions: { openai: { strictJsonSchema: false } },
          }
        : {}),
      maxRetries: options.maxRetries ?? 2,
      abortSignal: controller.signal,
      ...(options.telemetry ? { experimental_telemetry: options.telemetry } : {}),
      ...(definition.model_config.temperature === undefined
        ? {}
        : { temperature: definition.model_config.temperature }),
      // Under a budget a reply is capped, so the hold before the request is its worst case.
      ...(maxOutputTokens === undefined ? {} : { maxOutputTokens }),
      ...(definition.model_config.top_p === undefined
        ? {}
        : { topP: definition.model_config.top_p }),
      // Evaluated only after a step that called tools: the loop stops before the next model call.
      stopWhen: () => limitReached() !== undefined,
      experimental_onStepStart: async () => {
        const modelCallIndex = modelCalls;
        const fromJournal = journal.modelCalls[modelCalls++];
        current = { replay: fromJournal, stepId: undefined, modelCallIndex };
        // Answered from the journal: no request, nothing new to record.
        if (fromJournal) return;
        // A request counts when it is made, even if it then fails: it may have been billed. A
        // replay's recorded reply is not asked for.
        if (!recordedReplies) usage.requests += 1;
        const index = stepIndex++;
        const stepId = `${attempt}.${index}`;
        current.stepId = stepId;
        // The first call of an attempt from the beginning records what it was sent before the
        // query, so a replay sends the same.
        const input = historyRecorded ? {} : recordedHistory(history);
        historyRecorded = true;
        try {
          await options.recorder?.appendStep({
            run_id: options.runId,
            step_id: stepId,
            attempt,
            index,
            kind: 'model_call',
            state: 'started',
            started_at: now().toISOString(),
            ended_at: null,
            ...input,
          });
        } catch (error) {
          storageFailure ??= error;
        }
      },
      onStepFinish: async (step: StepResult<ToolSet>) => {
        steps += 1;
        produced = [...earlier, ...step.response.messages];
        const call = current;
        if (call.replay) {
          // Its events were published, and its usage counted, when it was first answered.
          Object.assign(replayed, addUsage(replayed, call.replay.usage));
          return;
        }
        const stepUsage = call.usage ?? emptyUsage();
        const problems = call.problems ?? [];
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
        // Requests were counted as they were made.
        Object.assign(usage, addUsage(usage, { ...stepUsage, requests: 0 }));
        try {
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
    };
    const generate = (messages: ModelMessage[]) => generateText({ ...settings, messages });
    /** One generation (the model ↔ tools loop) to its answer, under the run's timeout. */
    const answer = async (messages: ModelMessage[]) => {
      const generation = generate(messages);
      // The race makes the timeout hard; the losing promise must not become an unhandled rejection.
      generation.catch(() => undefined);
      const generated = await Promise.race([generation, aborted]);
      produced = [...earlier, ...generated.response.messages];
      if (storageFailure) throw storageFailure;
      return generated;
    };

    let repairsLeft = definition.task_config.output_repairs;
    let generated = await answer([...history, userMessage]);
    for (;;) {
      const last = generated.steps.at(-1);
      const reason = last && last.finishReason === 'tool-calls' ? limitReached() : undefined;
      if (reason) return limitResult(reason);
      if (!last || last.finishReason === 'tool-calls' || generated.text.trim() === '') {
        return result('failed', null, {
          code: 'no_answer',
          message: 'the model ended without an answer',
        });
      }
      if (!structured) {
        const { text } = await guardrails.answer(generated.text);
        produced = withAnswer(produced, generated.text, text);
        await emit({ type: 'final_answer', payload: { message: text } });
        return result('completed', text, null);
      }
      const checked = structured.check(generated.text);
      if (checked.valid) {
        const { text, value } = await guardrails.answer(generated.text, {
          value: checked.value,
          valid: (answer) => structured.check(answer).valid,
        });
        produced = withAnswer(produced, generated.text, text);
        await emit({ type: 'final_answer', payload: { message: text, output_json: value } });
        return result('completed', text, null, { value });
      }
      const problems = listProblems(checked.problems);
      const repairs = definition.task_config.output_repairs;
      if (repairsLeft === 0) {
        return result('failed', null, {
          code: 'output_invalid',
          message: `the answer is not valid against task_config.output_schema (after ${repairs} repair${repairs === 1 ? '' : 's'}): ${problems}`,
        });
      }
      // A repair is a model call like any other: the run's limits decide whether it is made.
      const limit = limitReached();
      if (limit) return limitResult(limit, ` (the answer was invalid: ${problems})`);
      // An answer from the journal was warned of when it was first given.
      if (!current.replay) {
        await emit({
          type: 'run_warning',
          payload: {
            code: 'output_invalid',
            message: `the answer is not valid against task_config.output_schema, asking for a repair: ${problems}`,
          },
        });
      }
      repairsLeft -= 1;
      earlier = [...produced, repairMessage(checked.problems)];
      generated = await answer([...history, userMessage, ...earlier]);
    }
  } catch (error) {
    if (controller.signal.aborted) {
      const reason: unknown = controller.signal.reason;
      if (isGuardrailBlock(reason)) {
        return result('failed', null, { code: 'guardrail', message: reason.message });
      }
      const approval = approvalOfStop(reason);
      if (approval) {
        return result('awaiting_approval', null, {
          code: 'approval_required',
          message: (reason as Error).message,
          approval,
        });
      }
      if (isBudgetStopError(reason)) {
        const budget = budgetStopInfoOf(reason);
        return result('budget_exceeded', null, {
          code: reason.code as AgentErrorCode,
          message: reason.message,
          ...(budget ? { budget } : {}),
        });
      }
      if (NightshiftError.isInstance(reason) && reason.code === 'timeout') {
        return result('timed_out', null, { code: 'timeout', message: reason.message });
      }
      return result('cancelled', null, {
        code: 'cancelled',
        message: NightshiftError.isInstance(reason) ? reason.message : 'the run was cancelled',
      });
    }
    if (NightshiftError.isInstance(error) && error.code === 'replay_diverged') {
      // The step of the reply the original never got says why it has none.
      if (current.stepId) {
        await options.recorder
          ?.updateStep(options.runId, current.stepId, {
            state: 'completed',
            ended_at: now().toISOString(),
            usage: emptyUsage(),
            error: error.message,
            replay: { source_step_id: null, diverged: error.message },
          })
          .catch(() => undefined);
      }
      return result('failed', null, { code: 'replay_diverged', message: error.message });
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
    if (messages && produced.length > 0) {
      // A stored conversation must stay valid to send again: no tool call without its result.
      const turn = sanitizeConversation([userMessage, ...produced]) as StoredMessage[];
      await appendOnce(messages, sessionId, turn, journal.modelCalls.length > 0).catch(
        () => undefined,
      );
    }
  }
}

/**
 * Appends the run's turn to its session. A resumed run replays its turn exactly, so when its
 * process died after storing the turn and before ending the run, the session already ends with
 * it: it is not stored twice.
 */
async function appendOnce(
  messages: MessageStore,
  sessionId: string,
  turn: StoredMessage[],
  resumed: boolean,
): Promise<void> {
  if (resumed) {
    const tail = await messages.list(sessionId, { limit: turn.length });
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (tail.length === turn.length && tail.every((message, index) => same(message, turn[index])))
      return;
  }
  await messages.append(sessionId, turn);
}

/** `a - b`, never below zero. */
function subtractUsage(a: Usage, b: Usage): Usage {
  return {
    requests: Math.max(0, a.requests - b.requests),
    input_tokens: Math.max(0, a.input_tokens - b.input_tokens),
    output_tokens: Math.max(0, a.output_tokens - b.output_tokens),
    total_tokens: Math.max(0, a.total_tokens - b.total_tokens),
  };
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
