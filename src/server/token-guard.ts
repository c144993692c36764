import type { MiddlewareHandler } from 'hono';
import { errorBody } from './api-error.js';
import { constantTimeEqual } from './constant-time-equal.js';
import type { ServerEnvironment } from './server-context.js';

/**
 * Requires `Authorization: Bearer <token>` (401 otherwise). The token is only ever compared,
 * in constant time; it is never echoed, logged or accepted in a URL (URLs end up in logs).
 */
export function tokenGuard(token: string): MiddlewareHandler<ServerEnvironment> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match?.[1] !== undefined && constantTimeEqual(match[1], token)) return next();
    c.header('WWW-Authenticate', 'Bearer realm="nightshift"');
    return c.json(
      errorBody(
        'unauthorized',
        header === '' ? 'a bearer token is required' : 'the bearer token is not valid',
      ),
      401,
    );
  };
}
