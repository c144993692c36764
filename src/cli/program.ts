import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { TERMINAL_STATUSES } from '../storage/index.js';
import type { CliContext } from './cli-context.js';
import { agentsCommand, type AgentsCommandOptions } from './commands/agents.js';
import { runCommand, type RunCommandOptions } from './commands/run.js';
import { runsCommand, type RunsCommandOptions } from './commands/runs.js';
import { validateCommand } from './commands/validate.js';
import { LOG_LEVELS } from './create-logger.js';
import { packageVersion } from './package-version.js';
import { errorLines } from './report-error.js';
import { createRedactor } from './redact.js';

const RUN_STATUSES = ['pending', 'running', ...TERMINAL_STATUSES];

/** Builds the `nightshift` command line; actions write through `context` and throw on failure. */
export function createProgram(context: CliContext): Command {
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
      'run the agents of a Nightshift file until SIGINT or SIGTERM, printing a line per run',
    )
    .argument('<file>', 'the Nightshift file (.yaml, .yml or .json)')
    .addOption(
      new Option(
        '--shutdown-timeout <seconds>',
        'on SIGINT / SIGTERM, how long runs in flight may finish before they end interrupted',
      )
        .argParser(seconds({ allowZero: true }))
        .default(30),
    )
    .addOption(
      new Option(
        '--lease-ttl <seconds>',
        "how long a run's lease lasts without renewal (a crashed process's runs are recovered after it)",
      )
        .argParser(seconds({ allowZero: false }))
        .default(30),
    )
    .addOption(
      new Option('--log-level <level>', 'log level of warnings on standard error')
        .choices(LOG_LEVELS)
        .default('warn'),
    )
    .action((file: string, options: RunCommandOptions) => runCommand(file, options, context));

  program
    .command('validate')
    .description('check a Nightshift file and show each agent with its next fire times')
    .argument('<file>', 'the Nightshift file (.yaml, .yml or .json)')
    .action((file: string) => validateCommand(file, context));

  const storeOptions = (command: Command) =>
    command
      .option(
        '--memory <url>',
        'the store to read, as a database URL such as sqlite:./.nightshift/nightshift.db (default: DATABASE_URL, else that file)',
      )
      .option(
        '--file <nightshift-file>',
        "read the store named by a Nightshift file's memory section",
      )
      .option('--json', 'print JSON instead of a table');

  storeOptions(
    program
      .command('agents')
      .description('list the agents of a store with their state and counters (runs nothing)'),
  ).action((options: AgentsCommandOptions) => agentsCommand(options, context));

  storeOptions(
    program
      .command('runs')
      .description("list an agent's runs, newest first (runs nothing)")
      .argument('<agent_id>', 'the agent'),
  )
    .addOption(
      new Option('--limit <n>', 'at most this many runs').argParser(positiveInteger).default(20),
    )
    .addOption(new Option('--status <status>', 'only runs in this status').choices(RUN_STATUSES))
    .action((agentId: string, options: RunsCommandOptions) =>
      runsCommand(agentId, options, context),
    );

  return program;
}

/**
 * Runs the command line `argv` (without `node` and the script) and returns the exit code:
 * 0 on success, 1 for an error (printed as `error: …` with one line per bad field), commander's
 * own code for a usage error.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  try {
    await createProgram(context).parseAsync([...argv], { from: 'user' });
    return 0;
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

function seconds(options: { allowZero: boolean }): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    const valid = Number.isFinite(parsed) && (options.allowZero ? parsed >= 0 : parsed > 0);
    if (!valid || value.trim() === '') {
      throw new InvalidArgumentError(
        options.allowZero
          ? 'must be a number of seconds, 0 or more'
          : 'must be a number of seconds greater than 0',
      );
    }
    return parsed;
  };
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('must be a whole number greater than 0');
  }
  return parsed;
}
