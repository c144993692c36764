import { Hono } from 'hono';
import { lazyModule } from '../../shared/lazy-module.js';
import type { ServerEnvironment } from '../server-context.js';

/**
 * The document is built on the first request, not at import: generating its schemas takes
 * about 20 MB at its peak, which a process that never serves it should not keep as RSS.
 */
const openApi = lazyModule(() => import('../openapi-document.js'));

/** `GET /openapi.json`: the API's description (public: it holds no fleet data). */
export function openApiRoute(): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  routes.get('/openapi.json', async (c) => c.json((await openApi.load()).openApiDocument()));
  return routes;
}
