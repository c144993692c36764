import { Command, CommanderError, Option } from 'commander';
import { RUN_STATUSES } from '../storage/index.js';
import type { CliContext } from './cli-context.js';
import {
  eventId,
  FILE_ARGUMENT,
  heapGrowthOption,
  leaseTtlOption,
  logLevelOption,
  partitionOption,
  portOption,
  positiveInteger,
  processesOption,
  serverOptions,
  shutdownTimeoutOption,
  targetOptions,
} from './command-options.js';
import { registerAgentsCommand } from './commands/agents-command.js';
import { registerApprovalsCommand } from './commands/approvals.js';
import { registerBudgetsCommand } from './commands/budgets.js';
import { registerPruneCommand } from './commands/prune.js';
import { eventsCommand, type EventsCommandOptions } from './commands/events.js';
import { runCommand, type RunCommandOptions } from './commands/run.js';
import { registerRunsShowCommand, runsCommand, type RunsCommandOptions } from './commands/runs.js';
import { registerRunsReplayCommand } from './commands/runs-replay.js';
import { serveCommand, type ServeCommandOptions } from './commands/serve.js';
import { validateCommand } from './commands/validate.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerWorkersCommand } from './commands/workers.js';
import { packageVersion } from './package-version.js';
import { errorLines } from './report-error.js';
import { createRedactor } from './redact.js';

/**
 * Builds the `nightshift` command line; actions write through `context` and throw on failure.
 * An action that ends with an exit code of its own (a run that failed) hands it to `exitWith`.
 */
export function createProgram(
  context: CliContext,
  exitWith: (code: number) => void = () => undefined,
): Command {
  const program = new Command('nightshift')
    .description('Run autonomous LLM agents in the background, on schedules.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help')
    .showHelpAfterError('(run nightshift --help for usage)')
    .configureOutput({
      writeOut: (text) => writeLines(text, context.out),
      writeErr: (text) => writeLines(text, context.err),
    })
    .exitOverride();

  program
    .command('run')
    .description(
      'run the agents of a Nightshift file until SIGINT or SIGTERM, printing a line per run; serves the HTTP API and dashboard when the file has a server block',
    )
    .argument('<file>', FILE_ARGUMENT)
    .addOption(shutdownTimeoutOption())
    .addOption(
      leaseTtlOption(
        "how long a run's lease lasts without renewal (a crashed process's runs are recovered after it)",
      ),
    )
    .addOption(portOption('serve the HTTP API and dashboard on this port'))
    .addOption(
      new Option(
        '--no-server',
        "do not serve the HTTP API, whatever the file's server block says",
      ).conflicts('port'),
    )
    .addOption(logLevelOption())
    .addOption(heapGrowthOption())
    .addOption(processesOption())
    .addOption(partitionOption())
    .action((file: string, options: RunCommandOptions) => runCommand(file, options, context));

  program
    .command('serve')
    .description(
      "serve the HTTP API and dashboard over a Nightshift file's store without running agents, until SIGINT or SIGTERM",
    )
    .argument('<file>', FILE_ARGUMENT)
    .addOption(portOption("serve on this port instead of the file's"))
    .addOption(logLevelOption())
    .action((file: string, options: ServeCommandOptions) => serveCommand(file, options, context));

  registerWorkerCommand(program, context);

  program
    .command('validate')
    .description('check a Nightshift file and show each agent with its next fire times')
    .argument('<file>', FILE_ARGUMENT)
    .action((file: string) => validateCommand(file, context));

  registerAgentsCommand(program, context, exitWith);

  const runs = targetOptions(
    program
      .command('runs')
      .description("list an agent's runs, newest first, from a store or through a server")
      .argument('<agent_id>', 'the agent'),
  )
    .addOption(
      new Option('--limit <n>', 'at most this many runs').argParser(positiveInteger).default(20),
    )
    .addOption(new Option('--status <status>', 'only runs in this status').choices(RUN_STATUSES))
    .action((agentId: string, options: RunsCommandOptions) =>
      runsCommand(agentId, options, context),
    );
  registerRunsShowCommand(runs, context);
  registerRunsReplayCommand(runs, context, exitWith);

  serverOptions(
    program
      .command('events')
      .description(
        "print an agent's events (or the whole fleet's) through a server: the stored history, then live ones with --follow",
      )
      .argument('[agent_id]', 'the agent (default: every agent)'),
  )
    .option(
      '--follow',
      'keep printing live events until SIGINT / SIGTERM, resuming if the connection drops',
    )
    .addOption(
      new Option(
        '--since <event_id>',
        'start after this event (default: the whole history)',
      ).argParser(eventId),
    )
    .option('--json', 'print one JSON event a line')
    .action((agentId: string | undefined, options: EventsCommandOptions) =>
      eventsCommand(agentId, options, context),
    );

  registerWorkersCommand(program, context);

  registerBudgetsCommand(program, context);
  registerApprovalsCommand(program, context);
  registerPruneCommand(program, context);

  return program;
}

/**
 * Runs the command line `argv` (without `node` and the script) and returns the exit code:
 * 0 on success, 1 for an error (printed as `error: …` with one line per bad field) or a command
 * that failed on its own terms, commander's own code for a usage error.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  let exitCode = 0;
  try {
    await createProgram(context, (code) => (exitCode = code)).parseAsync([...argv], {
      from: 'user',
    });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the usage error (or the help / version it was asked for).
      return error.exitCode;
    }
    const debug = Boolean(context.env.NIGHTSHIFT_DEBUG);
    for (const line of errorLines(error, createRedactor([]), debug)) context.err(line);
    return 1;
  }
}

function writeLines(text: string, write: (line: string) => void): void {
  for (const line of text.replace(/\n$/, '').split('\n')) write(line);
}
