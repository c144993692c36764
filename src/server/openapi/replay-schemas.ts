import { z } from 'zod';
import { TOOL_OUTCOMES, RUN_STATUSES } from '../../storage/contracts/index.js';
import type {
  ModelCallSummary,
  ReplayDiff,
  ReplayDiffRow,
  ToolCallSummary,
} from '../../service/index.js';
import { describing } from './describing.js';
import { replayModeSchema } from './run-schemas.js';

const SOURCES = ['recorded', 'live'] as const;

/** The body of `POST /api/runs/{run_id}/replay`: where the replay's answers come from. */
export const replayBodySchema = z.strictObject({
  model: z
    .enum(SOURCES)
    .optional()
    .describe(
      '`recorded` (the default): each model call is answered with the original’s reply, and a request that differs is marked; `live`: the agent’s current model answers afresh.',
    ),
  tools: z
    .enum(SOURCES)
    .optional()
    .describe(
      '`recorded` (the default): each tool call is answered with the original’s result and no tool runs; `live`: the tools run for real.',
    ),
  wait: z
    .boolean()
    .optional()
    .describe('Answer when the replay has ended (default false: as soon as it has started).'),
});

const modelCallSummarySchema = describing<ModelCallSummary>()(
  z
    .object({
      step_id: z.string(),
      request_digest: z.string().optional(),
      text: z.string().describe('The reply’s text (empty when the call recorded none).'),
      tool_calls: z
        .array(z.object({ tool_name: z.string(), args: z.unknown() }))
        .describe('The tool calls the reply asked for, in order.'),
    })
    .describe('A model call.'),
);

const toolCallSummarySchema = describing<ToolCallSummary>()(
  z
    .object({
      step_id: z.string(),
      tool_name: z.string(),
      args: z.unknown(),
      outcome: z.enum(TOOL_OUTCOMES).nullable().describe('Null when the call never ended.'),
      result: z.unknown(),
      error: z.string().optional().describe('A failed call’s message.'),
    })
    .describe('A tool call.'),
);

const stepSummarySchema = z.union([modelCallSummarySchema, toolCallSummarySchema]);

const replayDiffRowSchema = describing<ReplayDiffRow>()(
  z
    .object({
      index: z.number().int().min(0).describe('The row’s place in the diff, from 0.'),
      kind: z.enum(['model_call', 'tool_call']),
      original: stepSummarySchema
        .nullable()
        .describe('Null: the original made no such call (the replay made an extra one).'),
      replay: stepSummarySchema.nullable().describe('Null: the replay did not make this call.'),
      same: z.boolean(),
      differences: z
        .array(z.string())
        .describe('Why the row is not the same, most telling first; empty when it is.'),
    })
    .describe('One call of the original, of the replay, or of both, paired.'),
);

/** `GET /api/runs/{run_id}/replay-diff`: a replay compared with its original, step by step. */
export const replayDiffSchema = describing<ReplayDiff>()(
  z
    .object({
      original_run_id: z.string(),
      replay_run_id: z.string(),
      mode: replayModeSchema,
      status: z.object({ original: z.enum(RUN_STATUSES), replay: z.enum(RUN_STATUSES) }),
      first_divergence: z
        .object({
          index: z.number().int().min(0).describe('The row.'),
          step_id: z
            .string()
            .nullable()
            .describe('The replay’s step at that row (null: the replay did not make the call).'),
          reason: z.string().describe('The row’s first difference.'),
        })
        .nullable()
        .describe('Where the replay first did something other than the original; null: nowhere.'),
      steps: z.array(replayDiffRowSchema),
      answer: z
        .object({
          original: z.string().nullable(),
          replay: z.string().nullable(),
          same: z.boolean(),
        })
        .describe('The final answers (null: the run has none).'),
    })
    .describe('A replay compared with the run it replays, call by call.'),
);
