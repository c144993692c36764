import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { renderAgentPage } from '../dashboard/agent-page.js';
import { renderFleetPage } from '../dashboard/fleet-page.js';
import { contentSecurityPolicy } from '../dashboard/page-layout.js';
import { renderRunPage } from '../dashboard/run-page.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * The dashboard pages. They are public shells holding no fleet data: their scripts fetch it
 * from the API with the token the user enters, so a page reveals nothing without it.
 */
export function dashboardRoutes({ options }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  const tokenRequired = options.token !== undefined;

  const page = (c: Context<ServerEnvironment>, render: (nonce: string) => string) => {
    const nonce = randomBytes(16).toString('base64');
    c.header('Content-Security-Policy', contentSecurityPolicy(nonce));
    return c.html(render(nonce));
  };

  routes.get('/', (c) => page(c, (nonce) => renderFleetPage({ tokenRequired, nonce })));
  routes.get('/agents/:agent_id', (c) =>
    page(c, (nonce) => renderAgentPage({ agentId: c.req.param('agent_id'), tokenRequired, nonce })),
  );
  routes.get('/runs/:run_id', (c) =>
    page(c, (nonce) => renderRunPage({ runId: c.req.param('run_id'), tokenRequired, nonce })),
  );
  return routes;
}
