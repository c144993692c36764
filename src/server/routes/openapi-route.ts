import { Hono } from 'hono';
import { openApiDocument } from '../openapi-document.js';
import type { ServerEnvironment } from '../server-context.js';

/** `GET /openapi.json`: the API's description (public: it holds no fleet data). */
export function openApiRoute(): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();
  routes.get('/openapi.json', (c) => c.json(openApiDocument));
  return routes;
}
