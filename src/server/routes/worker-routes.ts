import { Hono } from 'hono';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * `GET /api/workers`: the worker processes of a distributed scheduler, from its heartbeat
 * registry, each with the runs it executes now. Empty with the in-process scheduler, whose
 * runs execute inside the process that runs the agents.
 */
export function workerRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  routes.get('/workers', async (c) => {
    const workers = await service.listWorkers();
    return c.json({
      workers: [...workers].sort((left, right) => left.worker_id.localeCompare(right.worker_id)),
    });
  });
  return routes;
}
