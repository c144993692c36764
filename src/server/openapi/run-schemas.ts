import { z } from 'zod';
import { ERROR_CODES } from '../../errors.js';
import {
  RUN_STATUSES,
  RUN_TRIGGERS,
  STEP_KINDS,
  STEP_STATES,
  TOOL_OUTCOMES,
  type AttemptRecord,
  type BudgetStopInfo,
  type ErrorInfo,
  type ModelReply,
  type RecordedToolCall,
  type ReplayMode,
  type ResultCut,
  type RunRecord,
  type RunStep,
  type StepReplay,
  type Usage,
} from '../../storage/contracts/index.js';
import { describing } from './describing.js';

/** An ISO 8601 instant, as every record writes it. */
export const instant = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);

/** A run's model requests, tokens and cost. */
export const usageSchema = describing<Usage>()(
  z.object({
    requests: count,
    input_tokens: count,
    output_tokens: count,
    total_tokens: count,
    cached_input_tokens: count
      .optional()
      .describe("input tokens read from the provider's prompt cache (part of input_tokens)"),
    cost_usd: z
      .number()
      .min(0)
      .optional()
      .describe('what the tokens cost in US dollars; absent when the model is free or unpriced'),
  }),
);

/** Which budget stopped a call (on a `budget.*` error). */
export const budgetStopSchema = describing<BudgetStopInfo>()(
  z.object({
    budget: z.string().describe('the counter, e.g. `agent:archiver:per_day:2026-12-03`'),
    window: z.enum(['per_run', 'per_day', 'per_month']),
    dimension: z.enum(['usd', 'tokens', 'requests', 'tool_calls']),
    asked: z
      .number()
      .min(0)
      .describe("what the refused call would have held at most, in the budget's unit"),
    resets_at: instant.nullable().describe("when the window starts again; null for a run's own"),
  }),
);

/** A recorded failure: its stable code and a message. */
export const errorInfoSchema = describing<ErrorInfo>()(
  z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    retry_blocked: z
      .literal('side_effects')
      .optional()
      .describe('Set when a failed run was not retried because a non-idempotent tool had started.'),
    budget: budgetStopSchema
      .optional()
      .describe(
        'On a `budget.*` error: which budget stopped the run, and what the call asked for.',
      ),
    approval: z
      .object({ approval_id: z.string(), tool_name: z.string(), expires_at: instant })
      .optional()
      .describe('On an `approval_required` error: the tool call the run waits on a person for.'),
  }),
);

/** One attempt of a run. */
export const attemptSchema = describing<AttemptRecord>()(
  z.object({
    attempt: z.number().int().min(1),
    started_at: instant,
    ended_at: instant.nullable(),
    status: z.enum(RUN_STATUSES),
    error: errorInfoSchema.nullable(),
    usage: usageSchema,
    worker_id: z.string().optional().describe('The process that executed the attempt.'),
    resumed_from: z
      .string()
      .nullable()
      .optional()
      .describe(
        'Set on an attempt that went on from the run’s journal after its process died: the last step recorded before (null when none was). Absent on an attempt that started from the beginning.',
      ),
  }),
);

/** A replay's mode: where its model replies and tool results come from. */
export const replayModeSchema = describing<ReplayMode>()(
  z
    .object({
      model: z
        .enum(['recorded', 'live'])
        .describe(
          '`recorded`: the replies come from the original run’s journal; `live`: the model answers afresh.',
        ),
      tools: z
        .enum(['recorded', 'live'])
        .describe(
          '`recorded`: the tool results come from the original run’s journal (no side effect is repeated); `live`: the tools run for real.',
        ),
    })
    .describe('How a replay answers its calls.'),
);

/** One run of one agent. */
export const runRecordSchema = describing<RunRecord>()(
  z.object({
    run_id: z.string(),
    agent_id: z.string(),
    trigger: z.enum(RUN_TRIGGERS),
    scheduled_at: instant,
    created_at: instant,
    started_at: instant.nullable(),
    ended_at: instant.nullable(),
    status: z.enum(RUN_STATUSES),
    query: z.string(),
    attempts: z.array(attemptSchema),
    output: z.string().nullable(),
    output_json: z
      .unknown()
      .describe(
        'The final answer parsed, valid against the agent’s `task_config.output_schema`; null without a schema or an answer.',
      ),
    error: errorInfoSchema.nullable(),
    usage: usageSchema,
    skip_reason: z.string().nullable().describe('Why a `skipped` run was skipped (`overlap`, …).'),
    lease_owner: z.string().nullable().describe('The process that holds a `running` run.'),
    lease_expires_at: instant.nullable(),
    replay_of: z
      .string()
      .optional()
      .describe('A replay (`trigger: replay`): the run it replays. Absent on every other run.'),
    replay_mode: replayModeSchema.optional().describe('A replay: how it answers its calls.'),
  }),
);

/** A tool call as the model asked for it, in a recorded reply. */
const recordedToolCallSchema = describing<RecordedToolCall>()(
  z.object({
    tool_call_id: z.string(),
    tool_name: z.string(),
    args: z.unknown().optional().describe('The arguments, parsed.'),
    args_text: z
      .string()
      .optional()
      .describe('The arguments as the model sent them, when they were not valid JSON.'),
  }),
);

/** What a model call answered, recorded before any tool of it runs. */
const modelReplySchema = describing<ModelReply>()(
  z
    .object({
      text: z.string(),
      tool_calls: z.array(recordedToolCallSchema),
      finish_reason: z.string(),
    })
    .describe(
      'What the model answered, recorded before any tool of it runs: enough to answer it again.',
    ),
);

/** Where a stored tool result was cut to the journal's cap. */
export const resultCutSchema = describing<ResultCut>()(
  z
    .object({
      cap_chars: count.describe('The cap, in characters of JSON.'),
      original_chars: count.describe('The length of the whole result, in characters of JSON.'),
    })
    .describe(
      'Set when the stored result was cut to the journal’s cap (`result` is then its JSON, cut).',
    ),
);

/** On a step of a replay: the original's step it was answered from or compared with. */
const stepReplaySchema = describing<StepReplay>()(
  z
    .object({
      source_step_id: z
        .string()
        .nullable()
        .describe('The original run’s step (null: the original had none to match).'),
      diverged: z
        .string()
        .optional()
        .describe('Why this step is not what the original did at its place (absent: the same).'),
    })
    .describe('Steps of a replay: where each came from and whether it diverged.'),
);

/**
 * One step of a run: a model call, a tool call recorded `started` before the tool runs, or the
 * marker of where a resumed attempt went on from.
 */
export const runStepSchema = describing<RunStep>()(
  z.object({
    run_id: z.string(),
    step_id: z.string().describe('`${attempt}.${index}`, unique within the run.'),
    attempt: z.number().int().min(1),
    index: z.number().int().min(0),
    kind: z.enum(STEP_KINDS),
    state: z.enum(STEP_STATES),
    started_at: instant,
    ended_at: instant.nullable(),
    usage: usageSchema.optional(),
    finish_reason: z.string().optional(),
    reply: modelReplySchema.optional(),
    tool_name: z.string().optional(),
    tool_call_id: z.string().optional(),
    args_digest: z.string().optional().describe('SHA-256 of the canonical JSON of the arguments.'),
    args: z.unknown().optional().describe('The arguments (redacted like every stored value).'),
    idempotent: z
      .boolean()
      .optional()
      .describe(
        'Whether the tool may run twice safely (it decides what a resumed run does with the call).',
      ),
    outcome: z
      .enum(TOOL_OUTCOMES)
      .optional()
      .describe(
        '`unknown_outcome`: a resumed run found the call started and not finished, and did not run it again (the tool is not idempotent).',
      ),
    error: z.string().optional(),
    result: z
      .unknown()
      .optional()
      .describe('What the tool returned (redacted; cut to the journal’s cap, see `result_cut`).'),
    result_cut: resultCutSchema.optional(),
    approval: z
      .object({
        approval_id: z.string(),
        state: z.enum(['approved', 'denied', 'expired']),
        decided_by: z.string().nullable(),
        edited: z.boolean(),
      })
      .optional()
      .describe(
        'Tool calls a person decided on: whose decision, and whether they changed the arguments.',
      ),
    resumed_from: z
      .string()
      .nullable()
      .optional()
      .describe(
        'Resume steps: the last step recorded before the process died (null when none was).',
      ),
    request_digest: z
      .string()
      .optional()
      .describe(
        'Model calls: SHA-256 of the canonical JSON of the request as sent (prompt, tools, settings).',
      ),
    input_history: z
      .array(z.unknown())
      .optional()
      .describe(
        'The run’s first model call: the conversation history sent before the query (redacted), so a replay sends the same.',
      ),
    input_history_cut: resultCutSchema
      .optional()
      .describe('Set instead of `input_history` when the history was over the journal’s cap.'),
    replay: stepReplaySchema.optional(),
  }),
);

/** `GET /api/runs/{run_id}`: the record with its steps. */
export const runWithStepsSchema = runRecordSchema.extend({ steps: z.array(runStepSchema) });
