import { BackgroundAgentService } from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { createLogger, type LogLevel } from '../create-logger.js';
import { loadServableFile } from '../load-runnable-file.js';
import { packageVersion } from '../package-version.js';
import { createRedactor } from '../redact.js';
import { describeHttpServer, httpServerSettings, startHttpServer } from '../start-http-server.js';

/** Options of `nightshift serve`. */
export interface ServeCommandOptions {
  /** Serve on this port instead of the file's (0 picks a free one). */
  port?: number;
  logLevel: LogLevel;
}

/**
 * `nightshift serve <file>`: the HTTP API and dashboard over the file's store, in a process that
 * runs no agents (no manager): it inspects and manages what other processes run — pause,
 * resume, stop, update and delete are durable and reach every one of them. Asking it to run an
 * agent now is refused by the service, which says that no manager runs here. Serves until
 * SIGINT or SIGTERM, then closes and resolves.
 */
export async function serveCommand(
  file: string,
  options: ServeCommandOptions,
  context: CliContext,
): Promise<void> {
  const { config, routers } = loadServableFile(file, context.env);
  const http = httpServerSettings(config.server, { port: options.port }, context.env, true);
  // `always` makes the settings defined; the check only narrows the type.
  if (!http) throw new Error('serve: no server settings');
  const redact = createRedactor([...config.secrets, ...(http.token ? [http.token] : [])]);
  const say = (line: string) => context.out(redact(line));
  const logger = createLogger(options.logLevel, redact);
  const service = new BackgroundAgentService(routers.memory, routers.events, {
    env: context.env,
    secrets: config.secrets,
    // Definitions created or updated through this server are checked against the same tools.
    toolSettings: config.toolSettings,
    // A `bullmq` scheduler makes this process a BullMQ worker (run) or producer (serve).
    scheduler: config.scheduler,
    // What `POST /api/retention/prune` applies (this process runs no manager, so no sweep).
    retention: config.retention,
    logger,
  });
  const stop = context.waitForStop();
  let server;
  try {
    server = await startHttpServer(service, http, logger);
  } catch (error) {
    await service.shutdown({ timeout: 0 });
    throw error;
  }
  say(
    `nightshift ${packageVersion()}: serving ${file} (memory ${routers.memory.description}, events ${routers.events.description}); no agents run in this process`,
  );
  say(describeHttpServer(server, http));
  const signal = await stop;
  say(`${signal}: shutting down`);
  await server.close();
  await service.shutdown({ timeout: 0 });
  say('nightshift: stopped');
}
