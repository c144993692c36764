import { Hono } from 'hono';
import { pruneBodySchema } from '../openapi/retention-schemas.js';
import { readJsonInput } from '../request-body.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * `POST /api/retention/prune`: applies retention now (each agent's settings over the fleet's),
 * or with `dry_run` counts what would go; answers the counts in all and per agent.
 */
export function retentionRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  routes.post('/retention/prune', async (c) => {
    const { dry_run } = await readJsonInput(c, pruneBodySchema);
    return c.json(await service.pruneNow({ dry_run: dry_run === true }));
  });
  return routes;
}
