import { Hono } from 'hono';
import { errorBody } from '../api-error.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/** `/healthz` (the process answers) and `/readyz` (its stores answer too). */
export function healthRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  routes.get('/healthz', (c) => c.json({ status: 'ok' }));
  routes.get('/readyz', async (c) => {
    try {
      await service.listAgents();
      return c.json({ status: 'ready' });
    } catch {
      return c.json(errorBody('storage_unavailable', 'the stores do not answer'), 503);
    }
  });
  return routes;
}
