import { Hono, type Context } from 'hono';
import { eventStreamResponse } from '../event-stream-response.js';
import { eventCursor, integerParameter } from '../query-parameters.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/** True when the client asked for a JSON page of stored events rather than a live stream. */
function wantsJson(c: Context): boolean {
  const accept = c.req.header('accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/event-stream');
}

/**
 * `GET /api/events` (the fleet) and `GET /api/agents/:agent_id/events`: server-sent events, or
 * with `Accept: application/json` a page of stored events `{ events }` after `since` (default the
 * start), at most `limit` — an exact read of the history, where a stream never says it has ended.
 */
export function eventRoutes(context: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();

  const respond = async (c: Context<ServerEnvironment>, agentId: string | undefined) => {
    const since = eventCursor(c);
    if (wantsJson(c)) {
      const limit = integerParameter(c, 'limit', { min: 1, max: 10_000, fallback: 1000 });
      const events = await context.service.readEvents({
        ...(agentId === undefined ? {} : { agent_id: agentId }),
        after: since ?? '0',
        limit,
      });
      return c.json({ events });
    }
    return eventStreamResponse(c, context, agentId, since);
  };

  routes.get('/events', async (c) => respond(c, undefined));

  routes.get('/agents/:agent_id/events', async (c) => {
    const agentId = c.req.param('agent_id');
    // An unknown agent is a 404 now, not an empty stream that never ends.
    await context.service.getAgentStatus(agentId);
    return respond(c, agentId);
  });

  return routes;
}
