import { z } from 'zod';
import { ERROR_CODES } from '../../errors.js';
import {
  RUN_STATUSES,
  RUN_TRIGGERS,
  STEP_KINDS,
  STEP_STATES,
  TOOL_OUTCOMES,
  type AttemptRecord,
  type ErrorInfo,
  type RunRecord,
  type RunStep,
  type Usage,
} from '../../storage/contracts/index.js';
import { describing } from './describing.js';

/** An ISO 8601 instant, as every record writes it. */
export const instant = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);

/** A run's model requests and tokens. */
export const usageSchema = describing<Usage>()(
  z.object({
    requests: count,
    input_tokens: count,
    output_tokens: count,
    total_tokens: count,
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
  }),
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
    error: errorInfoSchema.nullable(),
    usage: usageSchema,
    skip_reason: z.string().nullable().describe('Why a `skipped` run was skipped (`overlap`, …).'),
    lease_owner: z.string().nullable().describe('The process that holds a `running` run.'),
    lease_expires_at: instant.nullable(),
  }),
);

/** One step of a run: a model call, or a tool call recorded `started` before the tool runs. */
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
    tool_name: z.string().optional(),
    tool_call_id: z.string().optional(),
    args_digest: z.string().optional().describe('SHA-256 of the canonical JSON of the arguments.'),
    outcome: z.enum(TOOL_OUTCOMES).optional(),
    error: z.string().optional(),
  }),
);

/** `GET /api/runs/{run_id}`: the record with its steps. */
export const runWithStepsSchema = runRecordSchema.extend({ steps: z.array(runStepSchema) });
