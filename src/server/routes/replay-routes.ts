import { Hono } from 'hono';
import { replayBodySchema } from '../openapi/replay-schemas.js';
import { readJsonInput } from '../request-body.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * `POST /api/runs/:run_id/replay` (`{ model?, tools?, wait? }`): runs an ended run again from
 * its journal, answering 201 with the new run; `GET /api/runs/:run_id/replay-diff`: a replay
 * compared with its original, call by call.
 */
export function replayRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  routes.post('/runs/:run_id/replay', async (c) => {
    const body = await readJsonInput(c, replayBodySchema);
    return c.json(await service.replayRun(c.req.param('run_id'), body), 201);
  });
  routes.get('/runs/:run_id/replay-diff', async (c) =>
    c.json(await service.replayDiff(c.req.param('run_id'))),
  );
  return routes;
}
