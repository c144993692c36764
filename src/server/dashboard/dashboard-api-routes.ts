import { Hono, type Context } from 'hono';
import { invalidField } from '../api-error.js';
import { integerParameter } from '../query-parameters.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';
import { readRecentEvents } from './event-history.js';
import { buildFleetOverview } from './fleet-overview.js';
import { buildInbox } from './inbox.js';

/** The oldest "today" a viewer may ask about: a day back across any time zone. */
const DAY_START_RANGE_MS = 48 * 3_600_000;

/**
 * JSON the dashboard's pages read in one request each, computed from the service's public
 * reads with bounded work: `GET /api/overview` (the fleet at a glance), `GET
 * /api/events/recent` (the newest events, which a forward-only log cannot page to directly) and
 * `GET /api/inbox` (everything waiting on a person, and how many: the header of every page).
 */
export function dashboardApiRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();

  routes.get('/overview', async (c) => {
    const hours = integerParameter(c, 'hours', { min: 1, max: 24, fallback: 3 });
    const now = new Date();
    return c.json(
      await buildFleetOverview(service, { hours, dayStart: dayStartParameter(c, now), now }),
    );
  });

  routes.get('/events/recent', async (c) => {
    const limit = integerParameter(c, 'limit', { min: 1, max: 500, fallback: 50 });
    const agentId = c.req.query('agent_id');
    // An unknown agent is a 404, as on its event stream, rather than an empty list.
    if (agentId !== undefined) await service.getAgentStatus(agentId);
    const events = await readRecentEvents(service, {
      count: limit,
      ...(agentId === undefined ? {} : { agentId }),
    });
    return c.json({ events });
  });

  routes.get('/inbox', async (c) => c.json(await buildInbox(service, new Date())));

  return routes;
}

/** `?day_start=`: the viewer's midnight (ISO), within the last 48 hours; default midnight UTC. */
function dayStartParameter(c: Context, now: Date): Date {
  const text = c.req.query('day_start');
  if (text === undefined) {
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  }
  const instant = Date.parse(text);
  if (
    !Number.isFinite(instant) ||
    instant > now.getTime() ||
    now.getTime() - instant > DAY_START_RANGE_MS
  ) {
    throw invalidField('day_start', 'must be an ISO date-time within the last 48 hours');
  }
  return new Date(instant);
}
