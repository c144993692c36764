import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { TERMINAL_STATUSES } from '../storage/index.js';
import type { CliContext } from './cli-context.js';
import { agentRunCommand, type AgentRunCommandOptions } from './commands/agent-run.js';
import {
  agentDeleteCommand,
  agentPauseCommand,
  agentResumeCommand,
  agentsApplyCommand,
  agentsCreateCommand,
  agentsListCommand,
  agentStatusCommand,
  agentStopCommand,
  type AgentsCommandOptions,
  type ApplyCommandOptions,
  type DeleteCommandOptions,
  type PauseCommandOptions,
  type StopCommandOptions,
} from './commands/agents.js';
import { eventsCommand, type EventsCommandOptions } from './commands/events.js';
import { runCommand, type RunCommandOptions } from './commands/run.js';
import { registerRunsShowCommand, runsCommand, type RunsCommandOptions } from './commands/runs.js';
import { serveCommand, type ServeCommandOptions } from './commands/serve.js';
import { validateCommand } from './commands/validate.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerWorkersCommand } from './commands/workers.js';
import { LOG_LEVELS } from './create-logger.js';
import { packageVersion } from './package-version.js';
import { errorLines } from './report-error.js';
import { createRedactor } from './redact.js';
import { MINIMUM_LEASE_SECONDS, secondsArgument } from './seconds-argument.js';

const RUN_STATUSES = ['pending', 'running', ...TERMINAL_STATUSES];

const FILE_ARGUMENT = 'the Nightshift file (.yaml, .yml or .json)';

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
    .addOption(
      new Option(
        '--shutdown-timeout <seconds>',
        'on SIGINT / SIGTERM, how long runs in flight may finish before they end interrupted',
      )
        .argParser(secondsArgument('zero_or_more'))
        .default(30),
    )
    .addOption(
      new Option(
        '--lease-ttl <seconds>',
        "how long a run's lease lasts without renewal (a crashed process's runs are recovered after it)",
      )
        .argParser(secondsArgument({ minimum: MINIMUM_LEASE_SECONDS }))
        .default(30),
    )
    .addOption(portOption('serve the HTTP API and dashboard on this port'))
    .addOption(
      new Option(
        '--no-server',
        "do not serve the HTTP API, whatever the file's server block says",
      ).conflicts('port'),
    )
    .addOption(logLevelOption())
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

  const agents = program
    .command('agents')
    .description(
      'list, inspect, create, apply, pause, resume, stop, run and delete agents, in a store or through a server (--url)',
    );

  targetOptions(
    agents
      .command('list', { isDefault: true })
      .description('list the agents with their state and counters (the default)'),
  ).action((options: AgentsCommandOptions) => agentsListCommand(options, context));

  targetOptions(
    agents.command('status').description("one agent's status").argument('<agent_id>', 'the agent'),
  ).action((agentId: string, options: AgentsCommandOptions) =>
    agentStatusCommand(agentId, options, context),
  );

  targetOptions(
    agents
      .command('pause')
      .description('take an agent off its schedule until resumed (a run in flight finishes)')
      .argument('<agent_id>', 'the agent')
      .option('--reason <text>', 'why, shown with its status'),
  ).action((agentId: string, options: PauseCommandOptions) =>
    agentPauseCommand(agentId, options, context),
  );

  targetOptions(
    agents
      .command('resume')
      .description('put a paused agent back on its schedule')
      .argument('<agent_id>', 'the agent'),
  ).action((agentId: string, options: AgentsCommandOptions) =>
    agentResumeCommand(agentId, options, context),
  );

  targetOptions(
    agents
      .command('stop')
      .description('take an agent off its schedule for good (until started again)')
      .argument('<agent_id>', 'the agent')
      .option('--cancel', 'also cancel the run in flight'),
  ).action((agentId: string, options: StopCommandOptions) =>
    agentStopCommand(agentId, options, context),
  );

  serverOptions(
    agents
      .command('apply')
      .description(
        "create or update the agents of a Nightshift file and print what changed, through a server (--url) or on the file's own store; new agents are started, paused and stopped ones stay so",
      )
      .argument('<file>', FILE_ARGUMENT)
      .option('--dry-run', 'print what would change, and change nothing'),
  )
    .option('--json', 'print JSON')
    .action((file: string, options: ApplyCommandOptions) =>
      agentsApplyCommand(file, options, context),
    );

  targetOptions(
    agents
      .command('create')
      .description(
        'create and start new agents from a JSON definition, or a .yaml / .json file holding one or a list (agents apply updates existing ones)',
      )
      .argument('<file-or-json>', 'a definition as JSON, or a file holding one or a list'),
  ).action((source: string, options: AgentsCommandOptions) =>
    agentsCreateCommand(source, options, context),
  );

  targetOptions(
    agents
      .command('delete')
      .description(
        'delete an agent with its runs and its conversation, for good (asks first on a terminal)',
      )
      .argument('<agent_id>', 'the agent')
      .option('--yes', 'delete without asking (needed when there is no terminal to ask on)'),
  ).action((agentId: string, options: DeleteCommandOptions) =>
    agentDeleteCommand(agentId, options, context),
  );

  serverOptions(
    agents
      .command('run')
      .description(
        'run an agent now through a server (exit code 1 when the run ends other than completed)',
      )
      .argument('<agent_id>', 'the agent')
      .option('--wait', 'wait for the run to end and print its answer')
      .option('--query <text>', "this run's query instead of the agent's task_config.query"),
  )
    .option('--json', 'print JSON')
    .action(async (agentId: string, options: AgentRunCommandOptions) =>
      exitWith(await agentRunCommand(agentId, options, context)),
    );

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
  registerRunsShowCommand(runs, targetOptions, context);

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

/** `--url` and `--token`: commands that only work through a server. */
function serverOptions(command: Command): Command {
  return command
    .option(
      '--url <url>',
      'the HTTP API of a running Nightshift, e.g. http://127.0.0.1:7420 (default: NIGHTSHIFT_URL)',
    )
    .option('--token <token>', 'its bearer token (default: NIGHTSHIFT_TOKEN)');
}

/** Where a command reads: a server (`--url`, `NIGHTSHIFT_URL`) or a store (`--memory`, `--file`). */
function targetOptions(command: Command): Command {
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

function portOption(description: string): Option {
  return new Option('--port <port>', `${description} (0 picks a free one)`).argParser(port);
}

function logLevelOption(): Option {
  return new Option('--log-level <level>', 'log level of warnings on standard error')
    .choices(LOG_LEVELS)
    .default('warn');
}

function writeLines(text: string, write: (line: string) => void): void {
  for (const line of text.replace(/\n$/, '').split('\n')) write(line);
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('must be a whole number greater than 0');
  }
  return parsed;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65_535) {
    throw new InvalidArgumentError('must be a port number from 0 to 65535');
  }
  return parsed;
}

function eventId(value: string): string {
  if (!/^\d+(?:-\d+)?$/.test(value)) {
    throw new InvalidArgumentError('must be an event id (42, or 1700000000000-3), 0 for the start');
  }
  return value;
}
