import { Hono } from 'hono';
import { eventStreamResponse } from '../event-stream-response.js';
import { eventCursor } from '../query-parameters.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/** `GET /api/events` (the fleet) and `GET /api/agents/:agent_id/events`, as server-sent events. */
export function eventRoutes(context: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();

  routes.get('/events', async (c) => eventStreamResponse(c, context, undefined, eventCursor(c)));

  routes.get('/agents/:agent_id/events', async (c) => {
    const agentId = c.req.param('agent_id');
    const since = eventCursor(c);
    // An unknown agent is a 404 now, not an empty stream that never ends.
    await context.service.getAgentStatus(agentId);
    return eventStreamResponse(c, context, agentId, since);
  });

  return routes;
}
