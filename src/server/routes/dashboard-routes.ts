import { Hono, type Context } from 'hono';
import { renderAgentPage } from '../dashboard/agent-page.js';
import { dashboardScripts, type DashboardPage } from '../dashboard/dashboard-scripts.js';
import { renderFleetPage } from '../dashboard/fleet-page.js';
import { renderInboxPage } from '../dashboard/inbox-page.js';
import type { PageRequest } from '../dashboard/page-layout.js';
import { renderRunPage } from '../dashboard/run-page.js';
import { pageSecurityPolicy } from '../security-headers.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * The dashboard pages. They are public shells holding no fleet data: their scripts fetch it
 * from the API with the token the user enters, so a page reveals nothing without it.
 */
export function dashboardRoutes({ options }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  const tokenRequired = options.token !== undefined;

  const policy = pageSecurityPolicy();
  // The policy's middleware made the nonce before the page is rendered; the page's script
  // is inline, allowed by that nonce alone.
  const page = async (
    c: Context<ServerEnvironment>,
    name: DashboardPage,
    render: (request: PageRequest) => string,
  ) => {
    const script = (await dashboardScripts())[name];
    return c.html(render({ tokenRequired, nonce: c.get('secureHeadersNonce') ?? '', script }));
  };

  routes.get('/', policy, (c) => page(c, 'fleet-page', renderFleetPage));
  routes.get('/agents/:agent_id', policy, (c) =>
    page(c, 'agent-page', (request) => renderAgentPage(request, c.req.param('agent_id'))),
  );
  routes.get('/runs/:run_id', policy, (c) =>
    page(c, 'run-page', (request) => renderRunPage(request, c.req.param('run_id'))),
  );
  routes.get('/inbox', policy, (c) => page(c, 'inbox-page', renderInboxPage));
  return routes;
}
