import type { MiddlewareHandler } from 'hono';
import { errorBody } from './api-error.js';
import { hostForUrl, isWildcardHost } from './loopback-host.js';
import type { ServerEnvironment } from './server-context.js';

/** Paths a load balancer or orchestrator probes by IP: they reveal nothing, so any Host may ask. */
const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/**
 * Refuses requests whose `Host` header does not name this server (403), so a web page on a
 * DNS name that an attacker rebinds to 127.0.0.1 cannot talk to it. Accepted: `127.0.0.1`,
 * `localhost`, `[::1]` and the configured host, each with the port the request arrived on,
 * and any exact value in `allowedHosts`.
 */
export function hostGuard(
  host: string,
  allowedHosts: readonly string[],
): MiddlewareHandler<ServerEnvironment> {
  const names = ['127.0.0.1', 'localhost', '[::1]'];
  if (!isWildcardHost(host)) names.push(hostForUrl(host).toLowerCase());
  const extra = new Set(allowedHosts);
  return async (c, next) => {
    if (PROBE_PATHS.has(c.req.path)) return next();
    const header = (c.req.header('host') ?? '').toLowerCase();
    if (extra.has(header) || namesThisServer(header, names, c.env?.incoming?.socket?.localPort)) {
      return next();
    }
    return c.json(errorBody('host_not_allowed', 'the Host header does not name this server'), 403);
  };
}

function namesThisServer(
  header: string,
  names: readonly string[],
  port: number | undefined,
): boolean {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(header);
  if (!match) return false;
  const [, name = '', portText] = match;
  if (!names.includes(name)) return false;
  // Without a socket (app.request() in tests) the port cannot be known; the name still must match.
  if (port === undefined) return true;
  return portText === undefined ? port === 80 : Number(portText) === port;
}
