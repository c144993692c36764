import { errorMessage } from '../../errors.js';
import type { RunningServer } from '../../server/index.js';
import { BackgroundAgentService, type AgentStatus } from '../../service/index.js';
import type { NightshiftEvent } from '../../storage/index.js';
import type { CliContext } from '../cli-context.js';
import { createLogger, type LogLevel } from '../create-logger.js';
import { describeSchedule, formatSeconds } from '../describe-schedule.js';
import { createEventLineFormatter, formatInstant } from '../event-line.js';
import { loadRunnableFile } from '../load-runnable-file.js';
import { packageVersion } from '../package-version.js';
import { createRedactor } from '../redact.js';
import { runnerServiceOptions, type RunnerFlags } from '../runner-service-options.js';
import {
  describeHttpServer,
  httpServerSettings,
  startHttpServer,
  type HttpServerFlags,
} from '../start-http-server.js';
import { syncAgents, type SyncedAgent } from '../sync-agents.js';

/** Options of `nightshift run`. */
export interface RunCommandOptions extends HttpServerFlags, RunnerFlags {
  logLevel: LogLevel;
}

/**
 * `nightshift run <file>`: puts the file's agents in the store (new ones created, stored ones
 * updated to the file's definition, paused and stopped ones left so), serves the HTTP API and
 * dashboard when the file has a `server` block (or `--port` is given), runs every active agent of
 * the store in this process and prints a line per run start and end, fleet-wide, until SIGINT or
 * SIGTERM; then closes the server, shuts down gracefully and resolves.
 */
export async function runCommand(
  file: string,
  options: RunCommandOptions,
  context: CliContext,
): Promise<void> {
  const { config, routers } = loadRunnableFile(file, context.env);
  const http = httpServerSettings(config.server, options, context.env);
  const redact = createRedactor([...config.secrets, ...(http?.token ? [http.token] : [])]);
  const say = (line: string) => context.out(redact(line));
  const logger = createLogger(options.logLevel, redact);
  const service = new BackgroundAgentService(routers.memory, routers.events, {
    ...runnerServiceOptions(config, options, context.env, logger),
    // A `bullmq` scheduler makes this process a BullMQ worker (run) or producer (serve).
    scheduler: config.scheduler,
  });
  // Listen before starting anything: a signal during start-up shuts down as soon as it is done.
  const stop = context.waitForStop();
  const streamControl = new AbortController();
  let printing: Promise<void> | undefined;
  let server: RunningServer | undefined;
  try {
    // Definitions first, then the manager: it restores and recovers runs with the file's definitions.
    const synced = await syncAgents(service, config.agents);
    say(
      `nightshift ${packageVersion()}: running ${file} (memory ${routers.memory.description}, events ${routers.events.description})`,
    );
    for (const agent of synced.agents) say(`  ${await describeSyncedAgent(service, agent)}`);
    for (const other of synced.others) say(`  ${describeOther(other)}`);
    // Follow the log before the manager starts, so the lines of first runs are not missed.
    printing = printRunLines(
      service.streamAgentEvents(undefined, { signal: streamControl.signal }),
      say,
    ).catch((error: unknown) =>
      context.err(redact(`warning: run lines stopped: ${errorMessage(error)}`)),
    );
    // Before the manager: a port that is taken fails the start before any run begins, and the
    // first runs can already reach the server (a health check of this very process, say).
    if (http) {
      server = await startHttpServer(service, http, logger);
      say(describeHttpServer(server, http));
    }
    await service.startManager();
  } catch (error) {
    streamControl.abort();
    await server?.close();
    await service.shutdown({ timeout: 0 });
    throw error;
  }

  const signal = await stop;
  // The same signal within a second is one Ctrl-C forwarded by a wrapper (npm, tsx): see main.ts.
  say(
    `${signal}: shutting down (runs in flight get up to ${formatSeconds(options.shutdownTimeout)}; ${signal} again a second or more from now exits without waiting)`,
  );
  // The API first: nothing may ask a service that is shutting down for new work.
  await server?.close();
  await service.shutdown({ timeout: options.shutdownTimeout * 1000 });
  // Lines of runs that ended during shutdown are buffered in the stream: let them print first.
  await new Promise((resolve) => setImmediate(resolve));
  streamControl.abort();
  await printing;
  say('nightshift: stopped');
}

async function printRunLines(
  events: AsyncIterable<NightshiftEvent>,
  say: (line: string) => void,
): Promise<void> {
  const format = createEventLineFormatter();
  for await (const event of events) {
    const line = format(event);
    if (line !== undefined) say(line);
  }
}

async function describeSyncedAgent(
  service: BackgroundAgentService,
  agent: SyncedAgent,
): Promise<string> {
  const status = await service.getAgentStatus(agent.agent_id);
  const definition = await service.getAgentDefinition(agent.agent_id);
  const change = agent.definition === 'unchanged' ? '' : ` (${agent.definition})`;
  const head = `${agent.agent_id}${change}: ${describeSchedule(definition)}`;
  if (status.state === 'active') {
    const next = status.next_run_at
      ? `next run ${formatInstant(status.next_run_at)}`
      : 'no next run';
    return `${head}; active, ${next}, ${status.run_count} runs so far`;
  }
  const why = status.pause_reason ? ` (${status.pause_reason})` : '';
  return `${head}; ${status.state}${why}, left ${status.state}`;
}

function describeOther(status: AgentStatus): string {
  const running = status.state === 'active' ? ', runs here too' : '';
  return `${status.agent_id} (in the store, not in the file): ${status.state}${running}`;
}
