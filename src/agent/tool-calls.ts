import { digest } from './canonical-digest.js';
import { jsonSchema, tool, zodSchema, type Schema, type Tool, type ToolSet } from 'ai';
import type { z } from 'zod';
import { errorMessage, NightshiftError } from '../errors.js';
import type {
  ApprovalWaitInfo,
  RunStep,
  StepApproval,
  StepReplay,
  ToolOutcome,
} from '../storage/contracts/index.js';
import type { ToolDefinition } from '../tools/index.js';
import type { AgentEventSink } from './agent-events.js';
import { deniedResult, type ApprovalVerdict, type RunApprovals } from './run-approvals.js';
import { isBudgetStop, type BudgetStop, type RunBudget } from './run-budget.js';
import {
  journalResult,
  outcomeUnknown,
  unknownOutcomeResult,
  type RunJournal,
} from './run-journal.js';
import { notRecordedResult, type RunReplay } from './run-replay.js';
import { isGuardrailBlock, type GuardrailScreen } from './guardrails.js';

/** Writes a run's steps as they happen (a `RunStore` is one). */
export interface StepRecorder {
  appendStep(step: RunStep): Promise<void>;
  updateStep(runId: string, stepId: string, patch: Partial<RunStep>): Promise<void>;
}

/** What every tool call of one run shares. */
export interface ToolCallContext {
  agentId: string;
  runId: string;
  attempt: number;
  /** Seconds one tool call may take. */
  toolCallTimeout: number;
  /** Private or loopback hosts the agent's network tools may reach anyway. */
  allowHosts: readonly string[];
  runSignal: AbortSignal;
  emit: AgentEventSink;
  recorder: StepRecorder | undefined;
  now: () => Date;
  nextStepIndex: () => number;
  /** What a resumed run recorded before its process died (empty for a fresh attempt). */
  journal: RunJournal;
  /** Settles when every tool call started so far has recorded its end. */
  inFlight: Set<Promise<unknown>>;
  onToolStarted: (toolCallId: string, idempotent: boolean) => void;
  /** A call answered from the journal was of a tool that is not idempotent (it ran before the crash). */
  onSideEffectsBefore: () => void;
  /** The budgets a tool call is held against before it runs (none: not held). */
  budget: RunBudget | undefined;
  /** Ends the run with the budget's code: the call would cross it, so it does not run. */
  stopForBudget: (stop: BudgetStop) => never;
  /** The calls a person decides on (none: every call runs). */
  approvals: RunApprovals | undefined;
  /** Stops the run to wait for a person (once the calls already running have ended). */
  stopForApproval: (approval: ApprovalWaitInfo) => Promise<never>;
  /** A replay: with recorded tools, every call is answered from the original run's journal. */
  replay?: RunReplay | undefined;
  /** `agent_config.guardrails`: arguments are screened before a call runs, results before the model sees them. */
  guardrails?: GuardrailScreen | undefined;
}

/** The tool call a guardrail hit names. */
function meta(toolName: string, toolCallId: string) {
  return { tool_name: toolName, tool_call_id: toolCallId };
}

/** Rejects when the signal aborts, with its reason. */
export function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function isZodSchema(schema: unknown): schema is z.ZodType {
  return typeof schema === 'object' && schema !== null && '_zod' in schema;
}

/**
 * Wraps a registered tool for the AI SDK loop: the call is recorded `started` before it runs,
 * gets a hard timeout (a tool that ignores its abort signal does not hold the run), and a
 * failure or timeout becomes an error result for the model while the run goes on.
 */
function wrapTool(name: string, definition: ToolDefinition, context: ToolCallContext): Tool {
  const idempotent = definition.idempotent === true;
  const execute = async (input: unknown, options: { toolCallId: string }) => {
    const toolCallId = options.toolCallId;
    const recorded = context.journal.toolCall(toolCallId);
    if (recorded && !outcomeUnknown(recorded)) {
      // Reached before the process died, and its outcome recorded: the model gets it again. A
      // tool that is not idempotent ran in this run: a retry must not run it again.
      if (recorded.idempotent !== true) context.onSideEffectsBefore();
      if (recorded.outcome === 'success' || recorded.outcome === 'unknown_outcome')
        return recorded.result;
      throw new Error(recorded.error ?? `the tool ended with ${recorded.outcome ?? 'an error'}`);
    }
    const index = context.nextStepIndex();
    const stepId = `${context.attempt}.${index}`;
    if (recorded && !idempotent)
      return notRunAgain(name, input, toolCallId, stepId, index, context);
    // Guardrails screen what the model sends: a block ends the run before the call runs.
    if (context.guardrails)
      input = await context.guardrails.screen('tool_args', input, meta(name, toolCallId));
    // A replay of recorded tools runs nothing: the original's result answers the call.
    if (context.replay?.mode.tools === 'recorded')
      return replayedCall(name, input, toolCallId, stepId, index, context.replay, context);
    // A person decides first when a rule asks for one: the run waits, or the call runs with
    // their arguments, or the model is told it was refused.
    let args = input;
    let approval: StepApproval | undefined;
    if (context.approvals) {
      const verdict = await context.approvals.check({
        tool_name: name,
        tool_call_id: toolCallId,
        args: input,
      });
      if (verdict.kind === 'wait') return context.stopForApproval(verdict.approval);
      if (verdict.kind === 'deny')
        return refusedCall(name, input, toolCallId, stepId, index, verdict, context);
      args = verdict.args;
      approval = verdict.approval;
    }
    const held = context.budget ? await context.budget.holdToolCall(stepId, name) : undefined;
    if (held && isBudgetStop(held)) context.stopForBudget(held);
    context.onToolStarted(options.toolCallId, idempotent);
    await context.recorder?.appendStep({
      run_id: context.runId,
      step_id: stepId,
      attempt: context.attempt,
      index,
      kind: 'tool_call',
      state: 'started',
      started_at: context.now().toISOString(),
      ended_at: null,
      tool_name: name,
      tool_call_id: toolCallId,
      args_digest: digest(args),
      args,
      idempotent,
      ...(approval ? { approval } : {}),
    });
    await context.emit({
      type: 'tool_call_started',
      payload: { tool_name: name, tool_args: args, tool_call_id: toolCallId },
    });

    const controller = new AbortController();
    const onRunAbort = () => controller.abort(context.runSignal.reason);
    context.runSignal.addEventListener('abort', onRunAbort, { once: true });
    const timer = setTimeout(
      () =>
        controller.abort(
          new NightshiftError(
            'timeout',
            `tool ${name} timed out after ${context.toolCallTimeout}s`,
          ),
        ),
      context.toolCallTimeout * 1000,
    );
    const finish = async (outcome: ToolOutcome, error?: string, result?: unknown) => {
      await context.recorder?.updateStep(context.runId, stepId, {
        state: 'completed',
        ended_at: context.now().toISOString(),
        outcome,
        ...(error === undefined ? {} : { error }),
        ...(outcome === 'success' ? journalResult(result) : {}),
      });
    };
    const call = (async () => {
      try {
        const output = await Promise.race([
          Promise.resolve().then(() =>
            definition.execute(args, {
              abortSignal: controller.signal,
              agent_id: context.agentId,
              run_id: context.runId,
              tool_call_id: toolCallId,
              allow_hosts: context.allowHosts,
            }),
          ),
          whenAborted(controller.signal),
        ]);
        // Guardrails screen what the tool brought in: the journal records what the model sees.
        const result = context.guardrails
          ? await context.guardrails.screen(
              'tool_result',
              output,
              meta(name, toolCallId),
              (block) => finish('error', block.message),
            )
          : output;
        await finish('success', undefined, result);
        await context.emit({
          type: 'tool_call_result',
          payload: { tool_name: name, tool_args: args, tool_call_id: toolCallId, result },
        });
        return result;
      } catch (error) {
        // A blocked result was recorded as it was blocked, and the run is ending.
        if (isGuardrailBlock(error)) throw error;
        const outcome: ToolOutcome = context.runSignal.aborted
          ? 'cancelled'
          : controller.signal.aborted
            ? 'timeout'
            : 'error';
        const message =
          outcome === 'cancelled'
            ? 'the run ended while the tool was running'
            : errorMessage(error);
        await finish(outcome, message);
        await context.emit({
          type: 'tool_call_error',
          payload: {
            tool_name: name,
            tool_args: args,
            tool_call_id: toolCallId,
            error: message,
            timed_out: outcome === 'timeout',
          },
        });
        throw outcome === 'cancelled' ? context.runSignal.reason : new Error(message);
      } finally {
        clearTimeout(timer);
        context.runSignal.removeEventListener('abort', onRunAbort);
        await held?.settle(undefined);
      }
    })();
    context.inFlight.add(call);
    void call.catch(() => undefined).finally(() => context.inFlight.delete(call));
    return call;
  };
  return tool<unknown, unknown>({
    description: definition.description,
    inputSchema: inputSchemaOf(definition.inputSchema),
    execute,
  });
}

/** Each tool's input schema as the AI SDK takes it, converted once (a zod schema's JSON Schema is built on first use, then kept). */
const INPUT_SCHEMAS = new WeakMap<object, Schema<unknown>>();

function inputSchemaOf(schema: ToolDefinition['inputSchema']): Schema<unknown> {
  let converted = INPUT_SCHEMAS.get(schema);
  if (!converted) {
    converted = isZodSchema(schema) ? zodSchema<unknown>(schema) : jsonSchema<unknown>(schema);
    INPUT_SCHEMAS.set(schema, converted);
  }
  return converted;
}

/** A call that does not run, as the journal records it: one step, completed at once. */
interface SettledCall {
  name: string;
  input: unknown;
  toolCallId: string;
  stepId: string;
  index: number;
  idempotent: boolean;
  outcome: ToolOutcome;
  error?: string;
  result: unknown;
  approval?: StepApproval;
  replay?: StepReplay;
}

/** Records a call that does not run (`started` and `completed` at the same instant). */
async function recordSettledCall(call: SettledCall, context: ToolCallContext): Promise<void> {
  const at = context.now().toISOString();
  await context.recorder?.appendStep({
    run_id: context.runId,
    step_id: call.stepId,
    attempt: context.attempt,
    index: call.index,
    kind: 'tool_call',
    state: 'completed',
    started_at: at,
    ended_at: at,
    tool_name: call.name,
    tool_call_id: call.toolCallId,
    args_digest: digest(call.input),
    args: call.input,
    idempotent: call.idempotent,
    outcome: call.outcome,
    ...(call.error === undefined ? {} : { error: call.error }),
    result: call.result,
    ...(call.approval ? { approval: call.approval } : {}),
    ...(call.replay ? { replay: call.replay } : {}),
  });
}

/**
 * A call of a tool that is not idempotent, found started and not finished by a resumed run: it
 * may have taken effect, so it is not run again. The model is told so (a tool result, not an
 * error: the run goes on), the journal records it, and `tool_call_error` says `unknown_outcome`.
 */
async function notRunAgain(
  name: string,
  input: unknown,
  toolCallId: string,
  stepId: string,
  index: number,
  context: ToolCallContext,
): Promise<unknown> {
  const result = unknownOutcomeResult(name);
  context.onToolStarted(toolCallId, false);
  await recordSettledCall(
    {
      name,
      input,
      toolCallId,
      stepId,
      index,
      idempotent: false,
      outcome: 'unknown_outcome',
      error: result.message,
      result,
    },
    context,
  );
  await context.emit({
    type: 'tool_call_error',
    payload: {
      tool_name: name,
      tool_args: input,
      tool_call_id: toolCallId,
      error: result.message ?? 'unknown_outcome',
      timed_out: false,
      unknown_outcome: true,
    },
  });
  return result;
}

/**
 * A call a person (or the approval's timeout) refused: it does not run. The model gets a result
 * saying so (`{ error: 'denied', note }`: the run goes on), and the journal records it, so a
 * resumed run answers it the same way.
 */
async function refusedCall(
  name: string,
  input: unknown,
  toolCallId: string,
  stepId: string,
  index: number,
  verdict: Extract<ApprovalVerdict, { kind: 'deny' }>,
  context: ToolCallContext,
): Promise<unknown> {
  const result = deniedResult(verdict);
  await recordSettledCall(
    {
      name,
      input,
      toolCallId,
      stepId,
      index,
      idempotent: true,
      outcome: 'success',
      result,
      approval: {
        approval_id: verdict.approval_id,
        state: verdict.state,
        decided_by: verdict.decided_by,
        edited: false,
      },
    },
    context,
  );
  await context.emit({
    type: 'tool_call_result',
    payload: { tool_name: name, tool_args: input, tool_call_id: toolCallId, result },
  });
  return result;
}

/**
 * A call of a replay with recorded tools: it does not run. The original's call at its place
 * answers it (its result, or its error); a call the original did not make is told so (a tool
 * result: the run goes on) and marked diverged. The journal records it like any settled call.
 */
async function replayedCall(
  name: string,
  input: unknown,
  toolCallId: string,
  stepId: string,
  index: number,
  replay: RunReplay,
  context: ToolCallContext,
): Promise<unknown> {
  const { step, diverged } = replay.toolCall({
    tool_call_id: toolCallId,
    tool_name: name,
    args: input,
  });
  const answered = step && step.state === 'completed' && step.outcome !== 'cancelled';
  const why = !step
    ? (diverged ?? 'the original made no such call')
    : 'the original call has no recorded outcome';
  const stepReplay: StepReplay = {
    source_step_id: step?.step_id ?? null,
    ...(diverged || !answered ? { diverged: diverged ?? why } : {}),
  };
  const failed = answered && step.outcome !== 'success' && step.outcome !== 'unknown_outcome';
  const error = failed ? (step.error ?? `the tool ended with ${step.outcome}`) : undefined;
  const settled = {
    name,
    input,
    toolCallId,
    stepId,
    index,
    idempotent: step?.idempotent ?? true,
    replay: stepReplay,
  };
  // The current guardrails screen the recorded result as they would a live one.
  const result =
    answered && !failed && context.guardrails
      ? await context.guardrails.screen(
          'tool_result',
          step.result,
          meta(name, toolCallId),
          (block) =>
            recordSettledCall(
              { ...settled, outcome: 'error', error: block.message, result: undefined },
              context,
            ),
        )
      : answered
        ? step.result
        : notRecordedResult(name, why);
  await recordSettledCall(
    {
      ...settled,
      outcome: answered ? step.outcome! : 'success',
      ...(error === undefined ? {} : { error }),
      result: failed ? undefined : result,
    },
    context,
  );
  if (error !== undefined) {
    await context.emit({
      type: 'tool_call_error',
      payload: {
        tool_name: name,
        tool_args: input,
        tool_call_id: toolCallId,
        error,
        timed_out: false,
      },
    });
    throw new Error(error);
  }
  await context.emit({
    type: 'tool_call_result',
    payload: { tool_name: name, tool_args: input, tool_call_id: toolCallId, result },
  });
  return result;
}

/** The AI SDK tool set of one run. */
export function wrapTools(
  tools: ReadonlyMap<string, ToolDefinition>,
  context: ToolCallContext,
): ToolSet {
  const set: ToolSet = {};
  for (const [name, definition] of tools) set[name] = wrapTool(name, definition, context);
  return set;
}
