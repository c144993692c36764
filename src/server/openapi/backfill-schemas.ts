import { z } from 'zod';
import { BUDGET_SCOPES, BUDGET_WINDOWS } from '../../errors.js';
import {
  BACKFILL_MAX_TICKS,
  BACKFILL_TICK_STATUSES,
  type BackfillOptions,
  type BackfillPlan,
} from '../../service/index.js';
import { RUN_STATUSES } from '../../storage/contracts/index.js';
import { describing } from './describing.js';
import { instant } from './run-schemas.js';

const count = z.number().int().min(0);
/**
 * An instant in a request: any string reaches the service, which reads it and says what is
 * wrong with it; the document says what it should be.
 */
const requestInstant = z.string().meta({ format: 'date-time' });
/** A mean per run: requests and tool calls to the hundredth. */
const mean = z.number().min(0);

/**
 * `POST /api/agents/{agent_id}/backfill`: a past range of the agent's schedule. The route reads
 * the body with it; the service checks the range itself (and names each bad field).
 */
export const backfillBodySchema = describing<BackfillOptions>()(
  z.strictObject({
    from: requestInstant.describe(
      'The range’s start (included): an ISO 8601 instant with Z or an offset.',
    ),
    to: requestInstant.describe(
      `The range’s end (included): after \`from\`, not after now, at most ${BACKFILL_MAX_TICKS} ticks from it.`,
    ),
    dry_run: z.boolean().optional().describe('Plan only: start nothing.'),
  }),
).describe('A past range of the agent’s schedule whose ticks to run.');

const tickSchema = z.object({
  scheduled_at: instant.describe('The tick: the run’s `scheduled_at`.'),
  run_id: z.string().describe('The run id the schedule derives for the tick.'),
  status: z
    .enum(BACKFILL_TICK_STATUSES)
    .describe(
      '`already_ran`: it has a run record; `fits`: a dry run would start it; `queued`: started, after the ticks before it; `over_budget`: the estimate does not fit a budget.',
    ),
  run_status: z
    .enum(RUN_STATUSES)
    .nullable()
    .describe('The status of its run record, for a tick that already ran.'),
});

const estimateSchema = z.object({
  runs: count.describe(
    'How many of the agent’s recent ended runs that made a model request the estimate is the mean of (at most 20); 0: no history.',
  ),
  per_run: z
    .object({
      cost_usd: z
        .number()
        .min(0)
        .nullable()
        .describe('US dollars; null when none of those runs recorded a cost.'),
      total_tokens: count,
      requests: mean,
      tool_calls: mean.nullable().describe('Null when no budget that applies caps tool calls.'),
    })
    .nullable()
    .describe('The mean usage per run; null without history (the estimate is unknown).'),
});

const budgetSchema = z.object({
  scope: z.enum(BUDGET_SCOPES),
  name: z.string().nullable().describe('The agent id or the tag; null for the fleet.'),
  window: z.enum(BUDGET_WINDOWS),
  budget: z.string().describe("The counter's key, e.g. `agent:archiver:per_day:2026-12-03`."),
  resets_at: instant,
  left: z
    .object({
      usd: z.number().min(0).optional(),
      tokens: count.optional(),
      requests: count.optional(),
      tool_calls: count.optional(),
    })
    .describe('What is left of each capped dimension now: limit + granted − spent − held.'),
  runs_that_fit: count
    .nullable()
    .describe(
      'How many estimated runs fit what is left; null when the estimate sets no limit (unknown, or 0, in every dimension the budget caps).',
    ),
});

/** What a backfill answers: the plan (a dry run), or the plan with the ticks it started. */
export const backfillPlanSchema = describing<BackfillPlan>()(
  z.object({
    agent_id: z.string(),
    from: instant,
    to: instant,
    dry_run: z.boolean(),
    ticks: z.array(tickSchema).describe('Every tick of the schedule in the range, oldest first.'),
    counts: z
      .object({
        already_ran: count,
        fits: count,
        queued: count,
        over_budget: count,
      })
      .describe('How many ticks are in each status.'),
    estimate: estimateSchema,
    budgets: z
      .array(budgetSchema)
      .describe(
        'Every day and month budget that applies to the agent now: its own, its tags’, the fleet’s.',
      ),
    notes: z.array(z.string()).describe('What the plan rests on, in words.'),
  }),
);
