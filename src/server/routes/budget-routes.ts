import { Hono } from 'hono';
import { BUDGET_GRANTS_LISTED } from '../dashboard/budget-types.js';
import { readJsonObject } from '../request-body.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * `GET /api/budgets` (every agent's, tag's and the fleet's day and month budget as it stands:
 * limits, spent, held, granted, when it resets; and the newest grants, with their expiry) and
 * `POST /api/budgets/grants` (a person grants more of one budget until its window resets or
 * the grant's `expires_at`).
 */
export function budgetRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();

  routes.get('/budgets', async (c) => {
    // One after the other: the budgets' read expires the grants due, and the grants are then
    // listed as that left them (`expired_at` set where their amounts left `granted`).
    const budgets = await service.listBudgets();
    const grants = await service.listBudgetGrants({ limit: BUDGET_GRANTS_LISTED });
    return c.json({ budgets, grants });
  });

  routes.post('/budgets/grants', async (c) => {
    // The service checks the body (`openapi/budget-schemas.ts` describes it) and names each bad
    // field; here only that it is a JSON object.
    return c.json(await service.grantBudget(await readJsonObject(c)), 201);
  });

  return routes;
}
