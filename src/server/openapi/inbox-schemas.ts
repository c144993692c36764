import { z } from 'zod';
import { RUN_STATUSES } from '../../storage/contracts/index.js';
import type { OperatorInbox } from '../dashboard/inbox-types.js';
import { approvalRecordSchema } from './approval-schemas.js';
import { describing } from './describing.js';
import { errorInfoSchema, instant } from './run-schemas.js';

const count = z.number().int().min(0);

/** Where a grant wakes a run waiting for a budget: the body's `scope` and `window` of a grant. */
const grantTargetSchema = z
  .object({
    scope: z.union([
      z.object({ agent_id: z.string() }),
      z.object({ tag: z.string() }),
      z.object({ fleet: z.literal(true) }),
    ]),
    window: z.enum(['per_day', 'per_month']),
  })
  .nullable()
  .describe(
    'The `scope` and `window` of the grant (`POST /api/budgets/grants`) that wakes the run; null when none can (a run’s own budget).',
  );

/** `GET /api/inbox`: everything that waits on a person. */
export const operatorInboxSchema = describing<OperatorInbox>()(
  z.object({
    generated_at: instant,
    counts: z
      .object({
        approvals: count,
        budget_waits: count,
        paused_agents: count,
        total: count,
      })
      .describe(
        'How many of each are listed, and in all: the count in every dashboard page’s header.',
      ),
    approvals: z
      .array(approvalRecordSchema)
      .describe('Tool calls waiting for a decision (`pending`), newest first.'),
    budget_waits: z
      .array(
        z.object({
          run_id: z.string(),
          agent_id: z.string(),
          waiting_since: instant.describe(
            'When the run stopped to wait: the end of its last attempt.',
          ),
          error: errorInfoSchema.describe(
            'What stopped it; `budget` says which budget, what the call asked for, when it resets.',
          ),
          grant: grantTargetSchema,
        }),
      )
      .describe('Runs in `awaiting_budget`, newest first: a grant wakes one, a denial ends it.'),
    paused_agents: z
      .array(
        z.object({
          agent_id: z.string(),
          pause_reason: z.string(),
          paused_at: instant.describe('When it was paused: its record’s last change.'),
          consecutive_failures: count,
          last_run_status: z.enum(RUN_STATUSES).nullable(),
          last_error: errorInfoSchema.nullable(),
        }),
      )
      .describe(
        'Agents the service paused after failed runs in a row (`auto_pause_after_failures`), the most recently paused first; `POST /api/agents/{agent_id}/resume` resumes one.',
      ),
  }),
);
