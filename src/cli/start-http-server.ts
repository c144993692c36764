import type { ServerSection } from '../config/nightshift-file.js';
import { NightshiftError, type FieldError } from '../errors.js';
import type { BackgroundAgentService, ServiceLogger } from '../service/index.js';
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  isLoopbackHost,
  startServer,
  type RunningServer,
} from '../server/index.js';

/** Where and how the HTTP API and dashboard of a command listen. */
export interface HttpServerSettings {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The bearer token; undefined when the server has none (loopback only). */
  token: string | undefined;
  /** `server.allowed_env`; undefined for the server's default. */
  allowedEnv: readonly string[] | undefined;
  /** `server.allow_unauthenticated_changes`. */
  allowUnauthenticatedChanges: boolean;
  /** The environment the service reads, where a variable holding the token is never allowed. */
  env: Readonly<Record<string, string | undefined>>;
}

/** What the command line says about the server. */
export interface HttpServerFlags {
  /** `--port <n>`: serve, on this port. */
  port?: number;
  /** false with `--no-server`. */
  server?: boolean;
}

/**
 * Where a command serves the API: the file's `server` block, with `--port` over its port and
 * `NIGHTSHIFT_TOKEN` when it names no token. Undefined when nothing asks for a server (no block,
 * no `--port`) unless `always`, or when `--no-server` says no.
 */
export function httpServerSettings(
  section: ServerSection | undefined,
  flags: HttpServerFlags,
  env: Record<string, string | undefined>,
  always = false,
): HttpServerSettings | undefined {
  if (flags.server === false) return undefined;
  if (!always && section === undefined && flags.port === undefined) return undefined;
  const token = section?.token ?? env.NIGHTSHIFT_TOKEN;
  return {
    host: section?.host ?? DEFAULT_HOST,
    port: flags.port ?? section?.port ?? DEFAULT_PORT,
    token: token === '' ? undefined : token,
    allowedEnv: section?.allowed_env,
    allowUnauthenticatedChanges: section?.allow_unauthenticated_changes ?? false,
    env,
  };
}

/** The field error of a server block that would listen beyond loopback without a token. */
export function serverTokenProblem(
  section: ServerSection | undefined,
  env: Record<string, string | undefined>,
): FieldError | undefined {
  const settings = httpServerSettings(section, {}, env);
  if (!settings || settings.token !== undefined || isLoopbackHost(settings.host)) return undefined;
  return {
    path: 'server.token',
    message: `required to listen on ${settings.host}, which other machines can reach (or set NIGHTSHIFT_TOKEN)`,
  };
}

/**
 * Starts the HTTP server over `service`. A port that is taken (or forbidden) is a
 * `config_invalid` error naming `server.port`, not a stack trace.
 */
export async function startHttpServer(
  service: BackgroundAgentService,
  settings: HttpServerSettings,
  logger: ServiceLogger,
): Promise<RunningServer> {
  try {
    return await startServer(service, {
      host: settings.host,
      port: settings.port,
      // Never undefined: startServer would fall back to this process's own NIGHTSHIFT_TOKEN.
      token: settings.token ?? '',
      allowedEnv: settings.allowedEnv,
      allowUnauthenticatedChanges: settings.allowUnauthenticatedChanges,
      env: settings.env,
      logger,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${settings.host}:${settings.port}`;
    const field =
      code === 'EADDRNOTAVAIL'
        ? { path: 'server.host', message: 'is not an address of this machine' }
        : code === 'EADDRINUSE' || code === 'EACCES'
          ? { path: 'server.port', message: 'choose another with server.port or --port' }
          : undefined;
    if (!field) throw error;
    const reason =
      code === 'EADDRINUSE'
        ? 'it is in use'
        : code === 'EACCES'
          ? 'permission denied'
          : 'no such address';
    throw new NightshiftError('config_invalid', `cannot listen on ${where}: ${reason}`, {
      cause: error,
      fields: [field],
    });
  }
}

/** `http: http://127.0.0.1:7420 (no token: loopback only)`. */
export function describeHttpServer(server: RunningServer, settings: HttpServerSettings): string {
  const access = settings.token === undefined ? 'no token: loopback only' : 'token required';
  return `http: ${server.url} (${access})`;
}
