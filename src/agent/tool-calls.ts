import { createHash } from 'node:crypto';
import { jsonSchema, tool, type FlexibleSchema, type Tool, type ToolSet } from 'ai';
import type { z } from 'zod';
import { errorMessage, NightshiftError } from '../errors.js';
import type {
  ApprovalWaitInfo,
  RunStep,
  StepApproval,
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
}

/** SHA-256 of the canonical JSON of a value (object keys sorted), for recording arguments without their content. */
export function digest(value: unknown): string {
  const canonical = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(canonical);
    if (item && typeof item === 'object') {
      return Object.fromEntries(
        Object.keys(item)
          .sort()
          .map((key) => [key, canonical((item as Record<string, unknown>)[key])]),
      );
    }
    return item;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)) ?? 'null')
    .digest('hex');
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
        const result = await Promise.race([
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
        await finish('success', undefined, result);
        await context.emit({
          type: 'tool_call_result',
          payload: { tool_name: name, tool_args: args, tool_call_id: toolCallId, result },
        });
        return result;
      } catch (error) {
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
  const inputSchema: FlexibleSchema<unknown> = isZodSchema(definition.inputSchema)
    ? definition.inputSchema
    : jsonSchema<unknown>(definition.inputSchema);
  return tool<unknown, unknown>({
    description: definition.description,
    inputSchema,
    execute,
  });
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

/** The AI SDK tool set of one run. */
export function wrapTools(
  tools: ReadonlyMap<string, ToolDefinition>,
  context: ToolCallContext,
): ToolSet {
  const set: ToolSet = {};
  for (const [name, definition] of tools) set[name] = wrapTool(name, definition, context);
  return set;
}
