import { Hono } from 'hono';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/** `GET /metrics`: Prometheus text, with gauges from a status snapshot taken now. */
export function metricsRoute({ service, metrics }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  routes.get('/metrics', async (c) => {
    // A failing store fails the scrape, so Prometheus reports the target down rather than stale gauges.
    metrics.recordSnapshot(await service.listAgents());
    metrics.retention.record(service.retentionStats());
    const { text, contentType } = await metrics.render();
    return c.body(text, 200, { 'Content-Type': contentType });
  });
  return routes;
}
