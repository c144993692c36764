import type { MiddlewareHandler } from 'hono';
import { NONCE, secureHeaders } from 'hono/secure-headers';
import type { ServerEnvironment } from './server-context.js';

/**
 * Hono's other default headers, off: the server often speaks plain HTTP on a loopback address,
 * where HSTS and the cross-origin policies would only confuse.
 */
const HONO_DEFAULTS_OFF = {
  crossOriginResourcePolicy: false,
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  strictTransportSecurity: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
} as const;

/** Headers that keep browsers from sniffing, framing or leaking what this server returns. */
export function securityHeaders(): MiddlewareHandler<ServerEnvironment> {
  const headers = secureHeaders({
    ...HONO_DEFAULTS_OFF,
    xContentTypeOptions: true,
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
  });
  return (c, next) =>
    headers(c, async () => {
      await next();
      // Fleet data is private and changes by the second: no cache should keep a copy.
      if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
    });
}

/**
 * The Content-Security-Policy of every dashboard page: only the page's own nonce-bearing style
 * and scripts run (the nonce is `c.get('secureHeadersNonce')`), and they may talk only to this
 * server. Injected markup, were any to slip through, could neither run nor send data away.
 */
export function pageSecurityPolicy(): MiddlewareHandler<ServerEnvironment> {
  return secureHeaders({
    ...HONO_DEFAULTS_OFF,
    // The headers every response gets are set once, by securityHeaders().
    xContentTypeOptions: false,
    xFrameOptions: false,
    referrerPolicy: false,
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: [NONCE],
      connectSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  });
}
