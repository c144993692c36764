import { Hono } from 'hono';
import {
  emptyBodySchema,
  pauseBodySchema,
  runBodySchema,
  stopBodySchema,
} from '../openapi/request-schemas.js';
import { readJsonInput } from '../request-body.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/** `POST /api/agents/:agent_id/{start,pause,resume,stop,run}`: the lifecycle buttons. */
export function agentActionRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();

  routes.post('/agents/:agent_id/start', async (c) => {
    await readJsonInput(c, emptyBodySchema);
    return c.json(await service.startAgent(c.req.param('agent_id')));
  });

  routes.post('/agents/:agent_id/pause', async (c) => {
    const { reason } = await readJsonInput(c, pauseBodySchema);
    return c.json(
      await service.pauseAgent(c.req.param('agent_id'), reason === undefined ? {} : { reason }),
    );
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

  return routes;
}
