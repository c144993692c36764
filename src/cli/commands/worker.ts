import { Option, type Command } from 'commander';
import { NightshiftError } from '../../errors.js';
import { BackgroundAgentService, createBullmqScheduler } from '../../service/index.js';
import { maskUrl, resolveRedisUrl } from '../../storage/index.js';
import type { CliContext } from '../cli-context.js';
import {
  heapGrowthOption,
  leaseTtlOption,
  logLevelOption,
  positiveInteger,
  shutdownTimeoutOption,
} from '../command-options.js';
import { createLogger, type LogLevel } from '../create-logger.js';
import { formatSeconds } from '../describe-schedule.js';
import { loadServableFile } from '../load-runnable-file.js';
import { packageVersion } from '../package-version.js';
import { createRedactor } from '../redact.js';
import { runnerServiceOptions, type FleetProcessFlags } from '../runner-service-options.js';

/** Options of `nightshift worker`. */
export interface WorkerCommandOptions extends FleetProcessFlags {
  /** The Redis of the BullMQ queue; overrides the file's `scheduler.url`. */
  redis?: string;
  /** Runs this process takes at once; overrides the file's `scheduler.concurrency`. */
  concurrency?: number;
  /** The BullMQ queue name (every process of one fleet uses the same). */
  queue: string;
  logLevel: LogLevel;
}

/** Registers `nightshift worker <file>` on the program. */
export function registerWorkerCommand(program: Command, context: CliContext): void {
  program
    .command('worker')
    .description(
      'execute the runs of a fleet scheduled by BullMQ on Redis, and nothing else, until SIGINT or SIGTERM (a second one, a second or more after the first, exits without waiting for runs in flight); agents are managed through any other process (nightshift serve, the API, the CLI)',
    )
    .argument(
      '<file>',
      'the Nightshift file giving the store and the scheduler (its agents are not read)',
    )
    .option(
      '--redis <url>',
      "the Redis of the BullMQ queue (default: the file's scheduler.url, else REDIS_URL)",
    )
    .addOption(
      new Option(
        '--concurrency <n>',
        "runs this process executes at once (default: the file's, else 50)",
      ).argParser(positiveInteger),
    )
    .option(
      '--queue <name>',
      'the BullMQ queue name, the same in every process of the fleet',
      'nightshift',
    )
    .addOption(shutdownTimeoutOption())
    .addOption(
      leaseTtlOption(
        "how long a run's lease and its job's lock last without renewal (a killed worker's runs are recovered after it)",
      ),
    )
    .addOption(logLevelOption())
    .addOption(heapGrowthOption())
    .action((file: string, options: WorkerCommandOptions) => workerCommand(file, options, context));
}

/**
 * `nightshift worker <file>`: a BullMQ worker that executes runs of the file's store, taking
 * `concurrency` at once, until SIGINT or SIGTERM. It creates and changes no agent: they are
 * managed from any process sharing the store. On a signal it stops taking jobs, lets runs in
 * flight finish within the shutdown timeout (then they end `interrupted`) and resolves.
 */
async function workerCommand(
  file: string,
  options: WorkerCommandOptions,
  context: CliContext,
): Promise<void> {
  const { config, routers } = loadServableFile(file, context.env);
  const fromFile = config.scheduler.kind === 'bullmq' ? config.scheduler : undefined;
  if (!fromFile && options.redis === undefined) {
    throw new NightshiftError(
      'config_invalid',
      `${file}: a worker takes its runs from BullMQ: set scheduler: { kind: bullmq, url: … } in the file, or pass --redis <url>`,
      {
        fields: [
          { path: 'scheduler.kind', message: 'must be bullmq for a worker (or pass --redis)' },
        ],
      },
    );
  }
  const url = resolveRedisUrl(options.redis ?? fromFile?.url, context.env);
  const concurrency = options.concurrency ?? fromFile?.concurrency ?? 50;
  const redact = createRedactor(config.secrets);
  const say = (line: string) => context.out(redact(line));
  context.tuneHeap?.(options.heapGrowth);
  const service = new BackgroundAgentService(routers.memory, routers.events, {
    ...runnerServiceOptions(config, options, context.env, createLogger(options.logLevel, redact)),
    scheduler: createBullmqScheduler({
      url,
      concurrency,
      queueName: options.queue,
      env: context.env,
    }),
  });
  // Listen before starting anything: a signal during start-up shuts down as soon as it is done.
  const stop = context.waitForStop();
  try {
    await service.startManager();
  } catch (error) {
    await service.shutdown({ timeout: 0 });
    throw error;
  }
  say(
    `nightshift ${packageVersion()}: worker ${service.instanceId} for ${file} (memory ${routers.memory.description}, events ${routers.events.description}; queue ${options.queue} on ${maskUrl(url)}, ${concurrency} runs at once)`,
  );
  const signal = await stop;
  // The same signal within a second is one Ctrl-C forwarded by a wrapper (npm, tsx): see main.ts.
  say(
    `${signal}: no new runs; runs in flight get up to ${formatSeconds(options.shutdownTimeout)} (${signal} again a second or more from now exits without waiting)`,
  );
  await service.shutdown({ timeout: options.shutdownTimeout * 1000 });
  say('nightshift: worker stopped');
}
