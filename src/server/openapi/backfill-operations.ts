import {
  agentErrors,
  agentIdParameter,
  bodyErrors,
  errorResponse,
  jsonResponse,
  ref,
  type OperationRow,
} from './operation-parts.js';

/** Backfilling an agent: running the ticks of a past range of its schedule, within its budgets. */
export const BACKFILL_OPERATIONS: readonly OperationRow[] = [
  {
    method: 'post',
    path: '/api/agents/{agent_id}/backfill',
    summary:
      "Run the ticks of a past range of the agent's schedule that have no run yet, within what is left of its budgets",
    description:
      "Each tick is priced at the mean usage of the agent's last 20 ended runs that made a model request, and compared with what is left now of every day and month budget that applies to the agent (its own, its tags', the fleet's): ticks are taken oldest first while the estimate fits every budget, the rest are `over_budget`. With `dry_run` nothing starts; otherwise the ticks that fit start in the background, one after another (trigger `backfill`, `scheduled_at` the tick), until one ends `budget_exceeded`, the agent is paused, stopped or deleted, or the service shuts down. Every call is still held against the budgets when it is made.",
    tag: 'agents',
    parameters: [agentIdParameter],
    body: { schema: 'BackfillBody', required: true },
    responses: {
      '200': jsonResponse('The plan (a dry run, or nothing to start).', ref('BackfillPlan')),
      '202': jsonResponse(
        'The plan, the ticks that fit `queued`: they run in the background.',
        ref('BackfillPlan'),
      ),
      '400': errorResponse(
        '`config_invalid`: a bad, missing or unknown body field, named in `fields`: `from` or `to` not an instant, `from` not before `to`, `to` in the future, or more ticks in the range than a backfill takes (`to`).',
      ),
      '409': errorResponse(
        '`invalid_state`: the agent is paused or stopped, a backfill of it is going on, or this process runs no agents (a dry run works anywhere).',
      ),
      ...agentErrors,
      ...bodyErrors,
    },
  },
];
