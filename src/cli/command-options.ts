import { InvalidArgumentError, Option, type Command } from 'commander';
import { LOG_LEVELS } from './create-logger.js';
import { DEFAULT_HEAP_GROWTH, MAX_HEAP_GROWTH } from './heap-growth.js';
import { MINIMUM_LEASE_SECONDS, secondsArgument } from './seconds-argument.js';

/** How every command names its Nightshift file argument. */
export const FILE_ARGUMENT = 'the Nightshift file (.yaml, .yml or .json)';

/** `--url` and `--token`: commands that only work through a server. */
export function serverOptions(command: Command): Command {
  return command
    .option(
      '--url <url>',
      'the HTTP API of a running Nightshift, e.g. http://127.0.0.1:7420 (default: NIGHTSHIFT_URL)',
    )
    .option('--token <token>', 'its bearer token (default: NIGHTSHIFT_TOKEN)');
}

/** Where a command reads: a server (`--url`, `NIGHTSHIFT_URL`) or a store (`--memory`, `--file`). */
export function targetOptions(command: Command): Command {
  return serverOptions(command)
    .option(
      '--memory <url>',
      'read a store directly, as a database URL such as sqlite:./.nightshift/nightshift.db (default: DATABASE_URL, else that file)',
    )
    .option(
      '--file <nightshift-file>',
      "read the store named by a Nightshift file's memory section directly",
    )
    .option('--json', 'print JSON instead of a table');
}

/** `--port`, described for the command that takes it. */
export function portOption(description: string): Option {
  return new Option('--port <port>', `${description} (0 picks a free one)`).argParser(port);
}

/** `--log-level` of a long-running command's warnings. */
export function logLevelOption(): Option {
  return new Option('--log-level <level>', 'log level of warnings on standard error')
    .choices(LOG_LEVELS)
    .default('warn');
}

/** `--shutdown-timeout` of a process that runs agents. */
export function shutdownTimeoutOption(): Option {
  return new Option(
    '--shutdown-timeout <seconds>',
    'on SIGINT / SIGTERM, how long runs in flight may finish before they end interrupted',
  )
    .argParser(secondsArgument('zero_or_more'))
    .default(30);
}

/** `--lease-ttl` of a process that runs agents, described for it. */
export function leaseTtlOption(description: string): Option {
  return new Option('--lease-ttl <seconds>', description)
    .argParser(secondsArgument({ minimum: MINIMUM_LEASE_SECONDS }))
    .default(30);
}

/** Parses a whole number greater than 0 (`--limit`, `--concurrency`). */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('must be a whole number greater than 0');
  }
  return parsed;
}

/** Parses an event id (`42`, `1700000000000-3`), `0` for the start. */
export function eventId(value: string): string {
  if (!/^\d+(?:-\d+)?$/.test(value)) {
    throw new InvalidArgumentError('must be an event id (42, or 1700000000000-3), 0 for the start');
  }
  return value;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65_535) {
    throw new InvalidArgumentError('must be a port number from 0 to 65535');
  }
  return parsed;
}

/** `--heap-growth` of the commands that run a fleet (`nightshift run`, `nightshift worker`). */
export function heapGrowthOption(): Option {
  return new Option(
    '--heap-growth <percent>',
    `how far the heap may grow past what it holds alive before V8 collects it fully, in percent: a steady RSS for a long-running fleet (0: V8's own choice, up to 300 %; a --heap-growing-percent in NODE_OPTIONS wins)`,
  )
    .argParser((value: string) => {
      const parsed = Number(value);
      if (!/^\d+$/.test(value.trim()) || parsed > MAX_HEAP_GROWTH)
        throw new InvalidArgumentError(`must be a whole number from 0 to ${MAX_HEAP_GROWTH}`);
      return parsed;
    })
    .default(DEFAULT_HEAP_GROWTH);
}

/** The most manager processes `nightshift run --processes` starts. */
export const MAX_PROCESSES = 64;

/** `--processes` of `nightshift run`: how many manager processes share the fleet. */
export function processesOption(): Option {
  return new Option(
    '--processes <n>',
    `run the agents in this many manager processes on the shared store, their ticks split between them (1 to ${MAX_PROCESSES})`,
  )
    .argParser((value: string) => {
      const parsed = Number(value);
      if (!/^\d+$/.test(value.trim()) || !Number.isInteger(parsed) || parsed < 1)
        throw new InvalidArgumentError('must be a whole number from 1 up');
      if (parsed > MAX_PROCESSES)
        throw new InvalidArgumentError(
          `must be at most ${MAX_PROCESSES} (one machine's cores; more machines share a store too)`,
        );
      return parsed;
    })
    .default(1);
}

/**
 * The hidden `--partition <index>/<count>` a `--processes N` parent starts each manager with:
 * this one arms the ticks of share `index` of `count`.
 */
export function partitionOption(): Option {
  return new Option('--partition <index/count>', 'this manager of a --processes fleet')
    .argParser((value: string) => {
      const match = /^(\d+)\/(\d+)$/.exec(value);
      const index = Number(match?.[1]);
      const count = Number(match?.[2]);
      if (!match || count < 1 || count > MAX_PROCESSES || index >= count)
        throw new InvalidArgumentError(
          `must be <index>/<count>, 0 <= index < count <= ${MAX_PROCESSES}`,
        );
      return { index, count };
    })
    .hideHelp();
}
