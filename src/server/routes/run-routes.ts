import { Hono } from 'hono';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/** `GET /api/runs/:run_id`: one run record with its steps. */
export function runRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  routes.get('/runs/:run_id', async (c) => {
    const runId = c.req.param('run_id');
    const run = await service.getRun(runId);
    return c.json({ ...run, steps: await service.getRunSteps(runId) });
  });
  return routes;
}
