import { Hono } from 'hono';
import { backfillBodySchema } from '../openapi/backfill-schemas.js';
import {
  emptyBodySchema,
  pauseBodySchema,
  runBodySchema,
  stopBodySchema,
  tagRunBodySchema,
} from '../openapi/request-schemas.js';
import { readJsonInput } from '../request-body.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * `POST /api/agents/:agent_id/{start,pause,resume,stop,run}`: the lifecycle buttons;
 * `POST /api/agents/:agent_id/backfill`: the ticks of a past range, within the budgets; and
 * `POST /api/tags/:tag/{pause,resume,run}`: the same buttons for every agent with a tag.
 */
export function agentActionRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();

  routes.post('/agents/:agent_id/start', async (c) => {
    await readJsonInput(c, emptyBodySchema);
    return c.json(await service.startAgent(c.req.param('agent_id')));
  });

  routes.post('/agents/:agent_id/pause', async (c) => {
    const note = await readJsonInput(c, pauseBodySchema);
    return c.json(await service.pauseAgent(c.req.param('agent_id'), note));
  });

  routes.post('/agents/:agent_id/resume', async (c) => {
    await readJsonInput(c, emptyBodySchema);
    return c.json(await service.resumeAgent(c.req.param('agent_id')));
  });

  routes.post('/agents/:agent_id/stop', async (c) => {
    const { cancel } = await readJsonInput(c, stopBodySchema);
    return c.json(
      await service.stopAgent(c.req.param('agent_id'), cancel === undefined ? {} : { cancel }),
    );
  });

  routes.post('/agents/:agent_id/run', async (c) => {
    const { query, wait } = await readJsonInput(c, runBodySchema);
    const run = await service.runNow(c.req.param('agent_id'), { query, wait });
    // 202 while the run goes on in the background; 200 once it has ended.
    return c.json(run, run.ended_at === null ? 202 : 200);
  });

  routes.post('/agents/:agent_id/backfill', async (c) => {
    // The body's shape is read here; the service checks the range (and names each bad field).
    const body = await readJsonInput(c, backfillBodySchema);
    const plan = await service.backfill(c.req.param('agent_id'), body);
    // 202 while the ticks that fit run in the background; 200 for a plan that starts nothing.
    return c.json(plan, plan.counts.queued > 0 ? 202 : 200);
  });

  // By tag: every agent whose definition lists it; the answer says per agent what happened.
  routes.post('/tags/:tag/pause', async (c) => {
    const note = await readJsonInput(c, pauseBodySchema);
    return c.json(await service.pauseAgents({ tag: c.req.param('tag') }, note));
  });

  routes.post('/tags/:tag/resume', async (c) => {
    await readJsonInput(c, emptyBodySchema);
    return c.json(await service.resumeAgents({ tag: c.req.param('tag') }));
  });

  routes.post('/tags/:tag/run', async (c) => {
    const { query } = await readJsonInput(c, tagRunBodySchema);
    return c.json(await service.runAgentsNow({ tag: c.req.param('tag') }, { query }));
  });

  return routes;
}
