import type { MiddlewareHandler } from 'hono';
import type { ServerEnvironment } from './server-context.js';

/** Headers that keep browsers from sniffing, framing or leaking what this server returns. */
export function securityHeaders(): MiddlewareHandler<ServerEnvironment> {
  return async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    // Fleet data is private and changes by the second: no cache should keep a copy.
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}
