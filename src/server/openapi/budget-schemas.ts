import { z } from 'zod';
import { tagNameSchema } from '../../config/agent-definition.js';
import { BUDGET_SCOPES, BUDGET_WINDOWS } from '../../errors.js';
import type { BudgetGrantInput, BudgetGrantRecord, BudgetView } from '../../service/index.js';
import {
  BUDGET_GRANTS_LISTED,
  type BudgetGrantEntry,
  type BudgetsOverview,
  type BudgetStanding,
} from '../dashboard/budget-types.js';
import { describing } from './describing.js';
import { instant } from './run-schemas.js';

const count = z.number().int().min(0);
/** An amount in US dollars, to the millionth. */
const usd = z.number().min(0);
const nonEmpty = z.string().min(1);

/** What a budget counts in each dimension: spent, held or granted. */
const amountsSchema = z.object({
  usd: usd.describe('US dollars.'),
  tokens: count,
  requests: count,
  tool_calls: count,
});

/**
 * `POST /api/budgets/grants`: more of one window of one scope's budget, until it resets. The
 * document's description of the body: the service checks it (and names each bad field), the
 * type check keeps the two the same shape.
 */
export const budgetGrantInputSchema = describing<BudgetGrantInput>()(
  z.strictObject({
    scope: z
      .union([
        z.strictObject({ agent_id: nonEmpty }),
        z.strictObject({ tag: tagNameSchema }),
        z.strictObject({ fleet: z.literal(true) }),
      ])
      .describe('Whose budget: one agent’s, one tag’s, or the whole fleet’s.'),
    window: z.enum(BUDGET_WINDOWS).describe('The day’s or the month’s budget.'),
    usd: usd.max(1_000_000_000).optional().describe('More US dollars.'),
    tokens: count.optional().describe('More tokens.'),
    requests: count.optional().describe('More model requests.'),
    tool_calls: count.optional().describe('More tool calls.'),
    by: nonEmpty.max(200).describe('Who grants it.'),
    note: nonEmpty.max(2_000).describe('Why.'),
    expires_at: instant
      .optional()
      .describe(
        'When the grant stops counting, if before its window resets: an ISO 8601 instant with its offset, in the future. What it granted and is not spent by then no longer counts.',
      ),
  }),
).describe(
  'More of one window of a budget, until that window resets or `expires_at`, whichever comes first. At least one of usd, tokens, requests and tool_calls.',
);

const scopeFields = {
  scope: z.enum(BUDGET_SCOPES),
  name: z.string().nullable().describe('The agent id or the tag; null for the fleet.'),
  window: z.enum(BUDGET_WINDOWS),
  budget: z.string().describe("The counter's key, e.g. `agent:archiver:per_day:2026-12-03`."),
};

/**
 * One budget as it stands now. Held against both the service's `BudgetView` and the dashboard's
 * mirror of it: one schema equal to both types makes them equal to each other.
 */
const budgetStandingSchema = z.object({
  ...scopeFields,
  resets_at: instant.describe('When the window ends and the budget starts again from nothing.'),
  limits: z
    .object({
      usd: usd.optional(),
      tokens: count.optional(),
      requests: count.optional(),
      tool_calls: count.optional(),
    })
    .describe('The limits as configured: only the dimensions capped.'),
  spent: amountsSchema.describe('What calls that were made used.'),
  held: amountsSchema.describe('What calls in flight have reserved.'),
  granted: amountsSchema.describe('What people granted on top of the limits, this window.'),
});
export const budgetViewSchema = describing<BudgetView>()(budgetStandingSchema);
describing<BudgetStanding>()(budgetStandingSchema);

/** A grant as the ledger keeps it (both the service's type and the dashboard's). */
const budgetGrantEntrySchema = z.object({
  grant_id: z.string(),
  ...scopeFields,
  usd,
  tokens: count,
  requests: count,
  tool_calls: count,
  by: z.string(),
  note: z.string(),
  granted_at: instant,
  resets_at: instant.describe('When the grant lapses with its window.'),
  expires_at: instant
    .nullable()
    .describe('When it stops counting before its window ends; null when it lasts the window.'),
  expired_at: instant
    .nullable()
    .describe(
      'When it was expired (its amounts left `granted`), soon after `expires_at`; null while it counts, and for a grant without `expires_at`.',
    ),
});
export const budgetGrantRecordSchema = describing<BudgetGrantRecord>()(budgetGrantEntrySchema);
describing<BudgetGrantEntry>()(budgetGrantEntrySchema);

/** `GET /api/budgets`. */
export const budgetsSchema = describing<BudgetsOverview>()(
  z.object({
    budgets: z.array(budgetViewSchema),
    grants: z
      .array(budgetGrantRecordSchema)
      .describe(`The newest grants first, at most ${BUDGET_GRANTS_LISTED}.`),
  }),
);
describing<{ budgets: BudgetView[]; grants: BudgetGrantRecord[] }>()(budgetsSchema);

/** What `POST /api/budgets/grants` answers: the grant, and the budget with it counted. */
export const budgetGrantSchema = describing<{ grant: BudgetGrantRecord; budget: BudgetView }>()(
  z.object({
    grant: budgetGrantRecordSchema,
    budget: budgetViewSchema,
  }),
);
