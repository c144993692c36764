import type { MiddlewareHandler } from 'hono';
import { errorBody } from './api-error.js';
import type { ServerEnvironment } from './server-context.js';

/**
 * Refuses (403) any request a browser sent from another origin: no page elsewhere may drive
 * this server, with or without the user's token (no CORS, no wildcard). Runs after the Host
 * check, so the Host header is known to name this server.
 */
export function originGuard(): MiddlewareHandler<ServerEnvironment> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin === undefined) return next();
    const host = (c.req.header('host') ?? '').toLowerCase();
    const own = [`http://${host}`, `https://${host}`];
    if (own.includes(origin.toLowerCase())) return next();
    return c.json(
      errorBody('origin_not_allowed', 'requests from another origin are not accepted'),
      403,
    );
  };
}
