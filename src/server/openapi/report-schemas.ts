import { z } from 'zod';
import {
  REPORTED_AGENT_STATES,
  RUN_STATUSES,
  STEP_STATES,
  TOOL_OUTCOMES,
} from '../../storage/contracts/index.js';
import type { FleetOverview } from '../dashboard/fleet-overview-types.js';
import type { RunReport } from '../dashboard/run-report-types.js';
import { describing } from './describing.js';
import { eventSchema } from './event-schemas.js';
import {
  errorInfoSchema,
  instant,
  resultCutSchema,
  runRecordSchema,
  runStepSchema,
  usageSchema,
} from './run-schemas.js';

const count = z.number().int().min(0);
const milliseconds = z.number().int().nullable();

/** Another run of the same agent, as a report links to it. */
const runLinkSchema = z.object({
  run_id: z.string(),
  status: z.enum(RUN_STATUSES),
  scheduled_at: instant,
});

const stepEntry = {
  at: instant,
  attempt: z.number().int().min(1),
  step_id: z.string(),
  state: z.enum(STEP_STATES),
  ended_at: instant.nullable(),
  duration_ms: milliseconds,
};

/** One line of a run's timeline: a model call, a tool call, a resume, or another event of the run. */
const timelineEntrySchema = z.discriminatedUnion('kind', [
  z.object({
    ...stepEntry,
    kind: z.literal('model_call'),
    usage: usageSchema.nullable(),
    finish_reason: z.string().nullable(),
    reply: z
      .string()
      .nullable()
      .describe('The model’s text: a message beside tool calls, or the final answer.'),
    tool_calls: z
      .array(z.object({ tool_call_id: z.string(), tool_name: z.string() }))
      .describe(
        'The tool calls the reply asked for (empty when none, or the reply was not recorded).',
      ),
  }),
  z.object({
    ...stepEntry,
    kind: z.literal('tool_call'),
    tool_name: z.string(),
    tool_call_id: z.string().nullable(),
    outcome: z
      .enum(TOOL_OUTCOMES)
      .nullable()
      .describe(
        '`unknown_outcome`: a resumed run did not run the call again (it may have taken effect).',
      ),
    idempotent: z.boolean().nullable().describe('Null when the step did not record it.'),
    arguments: z
      .unknown()
      .optional()
      .describe('Absent when neither the step nor the run’s events (not read) hold them.'),
    result: z.unknown().optional(),
    result_cut: resultCutSchema.nullable(),
    error: z.string().nullable(),
  }),
  z.object({
    at: instant.describe('When the attempt went on (the marker’s time when events were not read).'),
    attempt: z.number().int().min(1),
    kind: z.literal('resume'),
    step_id: z.string(),
    resumed_from: z
      .string()
      .nullable()
      .describe('The last step recorded before the process died (null when none was).'),
    skipped_model_calls: count
      .nullable()
      .describe('Model calls answered from the journal (null: the run’s events were not read).'),
    unknown_outcome_calls: count
      .nullable()
      .describe(
        'Calls of tools that are not idempotent, found started and not finished: not run again.',
      ),
  }),
  z.object({
    at: instant,
    attempt: z.number().int().min(1),
    kind: z.literal('event'),
    event: eventSchema,
  }),
]);

/** `GET /api/runs/{run_id}/report`: everything the run page shows. */
export const runReportSchema = describing<RunReport>()(
  z.object({
    run: runRecordSchema,
    steps: z.array(runStepSchema),
    timing: z.object({
      scheduled_at: instant,
      created_at: instant,
      started_at: instant.nullable(),
      ended_at: instant.nullable(),
      duration_ms: milliseconds,
      lateness_ms: milliseconds.describe(
        'From when the run was due (a manual run: requested) to its start.',
      ),
    }),
    timeline: z.array(timelineEntrySchema),
    events: z.array(eventSchema).nullable().describe('Null when the events were not read.'),
    events_complete: z.boolean(),
    previous_run: runLinkSchema.nullable(),
    next_run: runLinkSchema.nullable(),
  }),
);

const perStatus = z.partialRecord(z.enum(RUN_STATUSES), count);

/** `GET /api/overview`: the fleet at a glance, from bounded reads. */
export const fleetOverviewSchema = describing<FleetOverview>()(
  z.object({
    generated_at: instant,
    window: z.object({
      start: instant,
      end: instant,
      hours: z.number().int().min(1),
      bucket_minutes: z.number().int().min(1),
    }),
    agents: z.object({
      total: count,
      by_state: z.record(z.enum(REPORTED_AGENT_STATES), count),
      invalid: z.array(z.object({ agent_id: z.string(), invalid_reason: z.string() })),
    }),
    in_flight: z.object({
      runs: count,
      agents: z.array(z.object({ agent_id: z.string(), running_runs: count })),
    }),
    runs: z.object({
      buckets: z.array(
        z
          .object({ start: instant, counts: perStatus })
          .describe('Runs that ended in `[start, start + bucket_minutes)`, by status.'),
      ),
      totals: perStatus,
      failures: count,
      failures_by_hour: z.array(z.object({ start: instant, end: instant, count })),
      recent_failures: z.array(
        z.object({
          run_id: z.string(),
          agent_id: z.string(),
          status: z.enum(RUN_STATUSES),
          ended_at: instant,
          error: errorInfoSchema.nullable(),
        }),
      ),
    }),
    usage_today: z.object({
      since: instant,
      runs: count,
      requests: count,
      input_tokens: count,
      output_tokens: count,
      total_tokens: count,
      cost_usd: z
        .number()
        .min(0)
        .describe('What those runs cost, in US dollars (runs of free or unpriced models count 0).'),
      complete: z.boolean(),
    }),
    coverage: z.object({
      agents_read: count,
      runs_read: count,
      complete_since: instant.nullable(),
    }),
  }),
);
