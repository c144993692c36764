import { errorMessage, NightshiftError } from '../../errors.js';
import type { RunningServer } from '../../server/index.js';
import {
  BackgroundAgentService,
  partitionOf,
  type AgentStatus,
  type Partition,
} from '../../service/index.js';
import type { NightshiftEvent } from '../../storage/index.js';
import type { CliContext } from '../cli-context.js';
import { createLogger, type LogLevel } from '../create-logger.js';
import { describeSchedule, formatSeconds } from '../describe-schedule.js';
import { createEventLineFormatter, formatInstant } from '../event-line.js';
import { loadRunnableFile } from '../load-runnable-file.js';
import {
  announceReady,
  checkShareable,
  parentGone,
  startManagerProcesses,
  type ManagerProcesses,
} from '../manager-processes.js';
import { packageVersion } from '../package-version.js';
import { createRedactor } from '../redact.js';
import { runnerServiceOptions, type FleetProcessFlags } from '../runner-service-options.js';
import {
  describeHttpServer,
  httpServerSettings,
  startHttpServer,
  type HttpServerFlags,
} from '../start-http-server.js';
import { syncAgents, type SyncedAgent } from '../sync-agents.js';

/** Options of `nightshift run`. */
export interface RunCommandOptions extends HttpServerFlags, FleetProcessFlags {
  logLevel: LogLevel;
  /** `--processes N`: the agents run in N manager processes sharing the store (default 1). */
  processes?: number;
  /** Hidden `--partition i/N`: this process is manager i of a `--processes N` parent. */
  partition?: Partition;
}

/**
 * `nightshift run <file>`: puts the file's agents in the store (new ones created, stored ones
 * updated to the file's definition, paused and stopped ones left so), serves the HTTP API and
 * dashboard when the file has a `server` block (or `--port` is given), runs every active agent of
 * the store in this process and prints a line per run start and end, fleet-wide, until SIGINT or
 * SIGTERM; then closes the server, shuts down gracefully and resolves.
 *
 * With `--processes N` (N > 1) this process syncs the file and prints the run lines (each
 * tagged `[i]`, the manager whose share holds the agent), and runs no agent itself: it starts N
 * managers, this CLI again with `--partition i/N`, whose own lines it prints tagged the same
 * way. Each arms the ticks of its share of the agents; manager 0 serves the HTTP API (so a
 * manual run asked of it runs there). A manager that dies is reported, not restarted: the others
 * go on and recover its runs. A signal is passed on to every manager, and waited for.
 */
export async function runCommand(
  file: string,
  options: RunCommandOptions,
  context: CliContext,
): Promise<void> {
  const { config, routers } = loadRunnableFile(file, context.env);
  const processes = options.partition ? 1 : (options.processes ?? 1);
  if (processes > 1) checkShareable(config, file, processes);
  const http = httpServerSettings(config.server, options, context.env);
  const redact = createRedactor([...config.secrets, ...(http?.token ? [http.token] : [])]);
  const say = (line: string) => context.out(redact(line));
  const logger = createLogger(options.logLevel, redact);
  // The parent of a --processes fleet runs no agent, but prints every run's line.
  context.tuneHeap?.(options.heapGrowth);
  const service = new BackgroundAgentService(routers.memory, routers.events, {
    ...runnerServiceOptions(config, options, context.env, logger),
    // A `bullmq` scheduler makes this process a BullMQ worker (run) or producer (serve).
    scheduler: config.scheduler,
    ...(options.partition ? { partition: options.partition } : {}),
  });
  if (options.partition)
    return runPartition(options.partition, options, context, { service, http, logger, say });
  // Listen before starting anything: a signal during start-up shuts down as soon as it is done.
  const stop = context.waitForStop();
  const streamControl = new AbortController();
  let printing: Promise<void> | undefined;
  let server: RunningServer | undefined;
  let managers: ManagerProcesses | undefined;
  try {
    // Definitions first, then the manager: it restores and recovers runs with the file's definitions.
    const synced = await syncAgents(service, config.agents);
    const inProcesses = processes > 1 ? ` in ${processes} manager processes` : '';
    say(
      `nightshift ${packageVersion()}: running ${file}${inProcesses} (memory ${routers.memory.description}, events ${routers.events.description})`,
    );
    for (const agent of synced.agents) say(`  ${await describeSyncedAgent(service, agent)}`);
    for (const other of synced.others) say(`  ${describeOther(other)}`);
    // Follow the log before the manager starts, so the lines of first runs are not missed.
    const tagged = (line: string, agentId: string) =>
      say(processes > 1 ? `[${partitionOf(agentId, processes)}] ${line}` : line);
    printing = printRunLines(
      service.streamAgentEvents(undefined, { signal: streamControl.signal }),
      tagged,
    ).catch((error: unknown) =>
      context.err(redact(`warning: run lines stopped: ${errorMessage(error)}`)),
    );
    // Before the manager: a port that is taken fails the start before any run begins, and the
    // first runs can already reach the server (a health check of this very process, say).
    if (processes > 1) {
      managers = startManagerProcesses({
        file,
        count: processes,
        flags: (index) => managerFlags(options, index),
        env: context.env,
        out: say,
        err: (line) => context.err(redact(line)),
        onUnexpectedExit: ({ index, code }) =>
          context.err(
            redact(
              `warning: manager ${index} ended (${String(code)}) and is not restarted: the ticks of its share wait for a restart; the other managers recover its runs`,
            ),
          ),
      });
      // A signal while they start stops them at once (one not ready yet may just die of it).
      const fleet = managers;
      void stop.then((signal) => fleet.stop(signal));
      const started = await Promise.race([fleet.ready.then(() => true), stop.then(() => false)]);
      if (started)
        say(`nightshift: ${processes} managers running (pids ${managers.pids.join(', ')})`);
    } else {
      if (http) {
        server = await startHttpServer(service, http, logger);
        say(describeHttpServer(server, http));
      }
      await service.startManager();
    }
  } catch (error) {
    streamControl.abort();
    await server?.close();
    await managers?.stop('SIGTERM');
    await service.shutdown({ timeout: 0 });
    throw error;
  }

  // A fleet whose managers all ended has nothing left to run.
  const signal = await (managers
    ? Promise.race([stop, managers.allExited.then(() => undefined)])
    : stop);
  if (signal === undefined) {
    streamControl.abort();
    await service.shutdown({ timeout: 0 });
    await printing;
    throw new NightshiftError('internal', `every manager of --processes ${processes} ended`);
  }
  // The same signal within a second is one Ctrl-C forwarded by a wrapper (npm, tsx): see main.ts.
  say(
    `${signal}: shutting down (runs in flight get up to ${formatSeconds(options.shutdownTimeout)}; ${signal} again a second or more from now exits without waiting)`,
  );
  // The API first: nothing may ask a service that is shutting down for new work.
  await server?.close();
  // Each manager gets the signal (a terminal's Ctrl-C reached them already: the same one twice
  // within a second counts once) and its runs in flight their grace.
  await managers?.stop(signal);
  await service.shutdown({ timeout: options.shutdownTimeout * 1000 });
  // Lines of runs that ended during shutdown are buffered in the stream: let them print first.
  await new Promise((resolve) => setImmediate(resolve));
  streamControl.abort();
  await printing;
  say('nightshift: stopped');
}

async function printRunLines(
  events: AsyncIterable<NightshiftEvent>,
  say: (line: string, agentId: string) => void,
): Promise<void> {
  const format = createEventLineFormatter();
  for await (const event of events) {
    const line = format(event);
    if (line !== undefined) say(line, event.agent_id);
  }
}

/** The flags of manager `index` of a `--processes` fleet: the parent's, and only manager 0 serves. */
function managerFlags(options: RunCommandOptions, index: number): string[] {
  const flags = [
    '--shutdown-timeout',
    String(options.shutdownTimeout),
    '--lease-ttl',
    String(options.leaseTtl),
    '--log-level',
    options.logLevel,
    '--heap-growth',
    String(options.heapGrowth),
  ];
  if (index > 0 || options.server === false) return [...flags, '--no-server'];
  return options.port === undefined ? flags : [...flags, '--port', String(options.port)];
}

/**
 * Manager `partition.index` of a `--processes` parent (or started by hand with `--partition`):
 * arms the ticks of its share, serves the HTTP API if asked, prints only its own lines (the
 * parent synced the file and prints the run lines), until a signal or its parent's end.
 */
async function runPartition(
  partition: Partition,
  options: RunCommandOptions,
  context: CliContext,
  parts: {
    service: BackgroundAgentService;
    http: ReturnType<typeof httpServerSettings>;
    logger: ReturnType<typeof createLogger>;
    say: (line: string) => void;
  },
): Promise<void> {
  const { service, http, logger, say } = parts;
  const stop = Promise.race([context.waitForStop(), parentGone()]);
  let server: RunningServer | undefined;
  try {
    if (http) {
      server = await startHttpServer(service, http, logger);
      say(describeHttpServer(server, http));
    }
    await service.startManager();
  } catch (error) {
    await server?.close();
    await service.shutdown({ timeout: 0 });
    throw error;
  }
  say(
    `manager ${partition.index} of ${partition.count} running (pid ${process.pid}, instance ${service.instanceId})`,
  );
  announceReady();
  const signal = await stop;
  say(`${signal}: shutting down`);
  await server?.close();
  await service.shutdown({ timeout: options.shutdownTimeout * 1000 });
  say('stopped');
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
