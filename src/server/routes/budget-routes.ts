import { Hono } from 'hono';
import { BUDGET_GRANTS_LISTED } from '../dashboard/budget-types.js';
import { readJsonObject } from '../request-body.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * `GET /api/budgets` (every agent's, tag's and the fleet's day and month budget as it stands:
 * limits, spent, held, granted, when it resets; and the newest grants) and `POST
 * /api/budgets/grants` (a person grants more of one budget until its window resets).
 */
export function budgetRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();

  routes.get('/budgets', async (c) => {
    const [budgets, grants] = await Promise.all([
      service.listBudgets(),
      service.listBudgetGrants({ limit: BUDGET_GRANTS_LISTED }),
    ]);
    return c.json({ budgets, grants });
  });

  routes.post('/budgets/grants', async (c) => {
    // The service checks the body (`openapi/budget-schemas.ts` describes it) and names each bad
    // field; here only that it is a JSON object.
    return c.json(await service.grantBudget(await readJsonObject(c)), 201);
  });

  return routes;
}
