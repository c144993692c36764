import type { MiddlewareHandler } from 'hono';
import { errorBody } from './api-error.js';
import { constantTimeEqual } from './constant-time-equal.js';
import type { ServerEnvironment } from './server-context.js';

/**
 * Requires `Authorization: Bearer <token>` (401 otherwise). The token is only ever compared,
 * in constant time; it is never echoed, logged or accepted in a URL (URLs end up in logs).
 *
 * Not `hono/bearer-auth`: it refuses any token with a character outside the RFC 6750 token68
 * set (`NIGHTSHIFT_TOKEN` may hold any text, so such a server could never be reached) and
 * answers a malformed header with 400 and its own body, thrown as an `HTTPException`.
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
