/**
 * The HTTP face of Nightshift: JSON API, server-sent events, metrics and dashboard.
 *
 * Safe by default: `startServer` listens on 127.0.0.1:7420 and refuses any other host without
 * a token (`NIGHTSHIFT_TOKEN`). With a token, every `/api` and `/metrics` call needs
 * `Authorization: Bearer <token>`; the token is never accepted in a URL. Every request must
 * name this server in `Host` (DNS-rebinding guard) and browsers may call only from its own
 * origin (no CORS). The dashboard pages are public shells: their scripts keep the token in
 * `sessionStorage` and send it as a header, also for live events, which they read through
 * `fetch` rather than `EventSource` (which cannot send headers).
 *
 * Definitions sent over the API are trusted less than the operator's own: they may name only
 * allowed environment variables (`allowedEnv`, never the token's), and without a token they may
 * not add commands (stdio MCP servers) or URLs unless `allowUnauthenticatedChanges` says so.
 * Bodies must be declared JSON, at most `bodyLimitBytes` long and 64 levels deep.
 */
export { createApp } from './create-app.js';
export { startServer, type RunningServer, type ServerOptions } from './start-server.js';
export {
  DEFAULT_ALLOWED_ENV,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HOST,
  DEFAULT_PORT,
  type AppOptions,
} from './app-options.js';
export type { ApiErrorBody, ServerErrorCode } from './api-error.js';
export { isLoopbackHost } from './loopback-host.js';
export type { ServerEnvironment } from './server-context.js';
export { redactDefinition } from './redact-definition.js';
export { formatUsd } from './dashboard/format-usd.js';
export {
  buildRunReport,
  type RunLink,
  type RunReport,
  type TimelineEntry,
} from './dashboard/run-report.js';
