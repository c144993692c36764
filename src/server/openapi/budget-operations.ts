import {
  bodyErrors,
  errorResponse,
  jsonResponse,
  ref,
  standardErrors,
  type OperationRow,
} from './operation-parts.js';

/** The operations on budgets: how each stands, and a person granting more. */
export const BUDGET_OPERATIONS: readonly OperationRow[] = [
  {
    method: 'get',
    path: '/api/budgets',
    summary:
      "Every agent's, tag's and the fleet's day and month budget as it stands (limits, spent, held, granted, when it resets), and the newest grants",
    description:
      "A run's own budget (`budget_config.per_run`) is not listed: it lasts as long as its run. Amounts are in the budget's units: US dollars for `usd`.",
    tag: 'budgets',
    responses: {
      '200': jsonResponse('The budgets and the newest grants.', ref('Budgets')),
      ...standardErrors,
    },
  },
  {
    method: 'post',
    path: '/api/budgets/grants',
    summary:
      "Grant more of one window of a scope's budget, until that window resets or the grant's `expires_at`",
    description:
      'The grant is added to the limits of the budget of the current day or month (in the agent’s time zone for an agent’s budget, UTC otherwise) and lapses with it, or at `expires_at` when that comes first (what it granted and is not spent then stops counting; the ledger keeps `expired_at`); every grant is kept with who made it and why. A `budget_granted` event announces it.',
    tag: 'budgets',
    body: { schema: 'BudgetGrantInput', required: true },
    responses: {
      '201': jsonResponse('The grant, and the budget with it counted.', ref('BudgetGrant')),
      '400': errorResponse(
        '`config_invalid`: a bad, missing or unknown body field, named in `fields` (`scope`, `window`, `usd`, `by`, `note`, `expires_at` not an instant or not in the future …), or no amount to grant.',
      ),
      '404': errorResponse('`agent_not_found`: `scope.agent_id` names no agent.'),
      '409': errorResponse(
        '`invalid_state`: the scope has no budget for that window (nothing to grant more of).',
      ),
      ...bodyErrors,
      ...standardErrors,
    },
  },
];
