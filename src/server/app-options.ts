import { DEFAULTS } from '../config/defaults.js';
import type { ServiceLogger } from '../service/index.js';

/** Options of `createApp`; every one has a documented default. */
export interface AppOptions {
  /** Bearer token every `/api` and `/metrics` call must present. Default: none (loopback only). */
  token?: string;
  /** The host the server listens on; requests may name it in their `Host` header. Default `127.0.0.1`. */
  host?: string;
  /** Further exact `Host` header values to accept (a DNS name or a proxy's host:port). Default none. */
  allowedHosts?: readonly string[];
  /** Largest request body accepted, in bytes. Default 256 KiB. */
  bodyLimitBytes?: number;
  /** How often an idle event stream sends a keep-alive comment, in milliseconds. Default 15,000. */
  keepAliveMs?: number;
  /** Ends the event streams and the metrics' event follower when it aborts. */
  signal?: AbortSignal;
  /** Where request failures are logged (a pino logger fits). Default: nowhere. */
  logger?: ServiceLogger;
  /**
   * Environment variables a definition sent over the API may name, in `model_config.api_key_env`
   * or as a `${NAME}` reference anywhere. Default: the providers' standard API key variables.
   * Never the variable holding the server's token, even when listed.
   */
  allowedEnv?: readonly string[];
  /**
   * Lets a server without a token accept agents that run commands (stdio MCP servers) or talk
   * to a URL they did not before (`model_config.base_url`, MCP `url`). Default false: without a
   * token any local process could run commands as this user.
   */
  allowUnauthenticatedChanges?: boolean;
  /**
   * The environment the service resolves references from: a variable in it that holds the
   * token is never allowed. Default `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/** `AppOptions` with every default filled in. */
export interface ResolvedAppOptions {
  token: string | undefined;
  host: string;
  allowedHosts: readonly string[];
  bodyLimitBytes: number;
  keepAliveMs: number;
  signal: AbortSignal | undefined;
  logger: ServiceLogger;
  allowedEnv: readonly string[];
  allowUnauthenticatedChanges: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

/** The variable `startServer` reads its token from by default. */
export const TOKEN_ENV = 'NIGHTSHIFT_TOKEN';
/** The variables definitions sent over the API may name by default: the providers' standard key variables. */
export const DEFAULT_ALLOWED_ENV: readonly string[] = Object.values(DEFAULTS.api_key_env);

/** The default port of `startServer`. */
export const DEFAULT_PORT = 7420;
/** The default host of `startServer`: loopback only. */
export const DEFAULT_HOST = '127.0.0.1';
/** The default request body limit. */
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;

const silentLogger: ServiceLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Fills in the defaults once, at the boundary, without touching the caller's object. */
export function resolveAppOptions(options: AppOptions): ResolvedAppOptions {
  return {
    // An empty token is a forgotten variable, not a password: treat it as none.
    token: options.token === undefined || options.token === '' ? undefined : options.token,
    host: options.host ?? DEFAULT_HOST,
    allowedHosts: (options.allowedHosts ?? []).map((host) => host.toLowerCase()),
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    keepAliveMs: options.keepAliveMs ?? 15_000,
    signal: options.signal,
    logger: options.logger ?? silentLogger,
    allowedEnv: [...new Set(options.allowedEnv ?? DEFAULT_ALLOWED_ENV)],
    allowUnauthenticatedChanges: options.allowUnauthenticatedChanges ?? false,
    env: options.env ?? process.env,
  };
}
