import { Hono } from 'hono';
import { readRunEvents } from '../dashboard/event-history.js';
import { buildRunReport } from '../dashboard/run-report.js';
import { readJsonObject } from '../request-body.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * `GET /api/runs/:run_id` (one run record with its steps), `…/events` (the events of that run)
 * and `…/report` (everything the run page shows: record, steps, timeline, events, neighbours);
 * `POST /api/runs/:run_id/deny-budget` ends a run waiting for a budget (`{ by, note }`).
 */
export function runRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  routes.get('/runs/:run_id', async (c) => {
    const runId = c.req.param('run_id');
    const run = await service.getRun(runId);
    return c.json({ ...run, steps: await service.getRunSteps(runId) });
  });
  routes.post('/runs/:run_id/deny-budget', async (c) =>
    c.json(await service.denyBudget(c.req.param('run_id'), await readJsonObject(c))),
  );
  routes.get('/runs/:run_id/events', async (c) => {
    const run = await service.getRun(c.req.param('run_id'));
    const { events, complete } = await readRunEvents(service, run);
    return c.json({ run_id: run.run_id, events, complete });
  });
  routes.get('/runs/:run_id/report', async (c) =>
    c.json(await buildRunReport(service, c.req.param('run_id'))),
  );
  return routes;
}
