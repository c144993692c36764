import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { FILE_ARGUMENT, serverOptions, targetOptions } from '../command-options.js';
import { agentRunCommand, type AgentRunCommandOptions } from './agent-run.js';
import { expiresArgument } from '../expires-argument.js';
import {
  agentPauseCommand,
  agentResumeCommand,
  agentsListCommand,
  agentStatusCommand,
  agentStopCommand,
  type AgentsCommandOptions,
  type ListCommandOptions,
  type PauseCommandOptions,
  type StopCommandOptions,
} from './agents.js';
import { agentOrTag, tagPauseCommand, tagResumeCommand, tagRunCommand } from './agents-by-tag.js';
import { agentsApplyCommand, type ApplyCommandOptions } from './agents-apply.js';
import { agentBackfillCommand, type BackfillCommandOptions } from './agents-backfill.js';
import { agentsCreateCommand } from './agents-create.js';
import { agentDeleteCommand, type DeleteCommandOptions } from './agents-delete.js';

/** `--tag` of the commands that act on one agent or on every agent with a tag. */
interface TagOption {
  tag?: string;
}

/**
 * Registers `nightshift agents` and its subcommands on the program. `exitWith` takes the exit
 * code of a command that failed on its own terms (`agents run` of a run that failed).
 */
export function registerAgentsCommand(
  program: Command,
  context: CliContext,
  exitWith: (code: number) => void,
): void {
  const agents = program
    .command('agents')
    .description(
      'list, inspect, create, apply, pause, resume, stop, run, backfill and delete agents, in a store or through a server (--url)',
    );
  /** `agents <name> <agent_id> [flag]`, reading a store or a server. */
  const onAgent = (name: string, description: string, flag?: [string, string]) => {
    const command = agents
      .command(name)
      .description(description)
      .argument('<agent_id>', 'the agent');
    return targetOptions(flag ? command.option(...flag) : command);
  };

  targetOptions(
    agents
      .command('list', { isDefault: true })
      .description('list the agents with their state and counters (the default)')
      .option('--tag <tag>', 'only the agents with this tag'),
  ).action((options: ListCommandOptions) => agentsListCommand(options, context));

  onAgent('status', "one agent's status").action((agentId: string, options: AgentsCommandOptions) =>
    agentStatusCommand(agentId, options, context),
  );

  targetOptions(
    agents
      .command('pause')
      .description(
        'take an agent (or every agent with --tag) off its schedule until resumed, or until --until (a run in flight finishes)',
      )
      .argument('[agent_id]', 'the agent')
      .option('--tag <tag>', 'every agent with this tag instead of one')
      .option('--reason <text>', 'why, shown with its status')
      .option('--by <who>', 'who pauses it, shown with its status')
      .option(
        '--until <when>',
        'resume by itself then: an ISO 8601 instant (2026-12-03T18:00:00Z) or a duration from now (30m, 2h, 1d)',
        expiresArgument(),
      ),
  ).action(async (agentId: string | undefined, options: PauseCommandOptions & TagOption) => {
    const target = agentOrTag(agentId, options.tag, 'pause');
    if ('tag' in target) exitWith(await tagPauseCommand(target.tag, options, context));
    else await agentPauseCommand(target.agentId, options, context);
  });

  targetOptions(
    agents
      .command('resume')
      .description('put a paused agent (or every paused agent with --tag) back on its schedule')
      .argument('[agent_id]', 'the agent')
      .option('--tag <tag>', 'every agent with this tag instead of one'),
  ).action(async (agentId: string | undefined, options: AgentsCommandOptions & TagOption) => {
    const target = agentOrTag(agentId, options.tag, 'resume');
    if ('tag' in target) exitWith(await tagResumeCommand(target.tag, options, context));
    else await agentResumeCommand(target.agentId, options, context);
  });

  onAgent('stop', 'take an agent off its schedule for good (until started again)', [
    '--cancel',
    'also cancel the run in flight',
  ]).action((agentId: string, options: StopCommandOptions) =>
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

  onAgent(
    'delete',
    'delete an agent with its runs and its conversation, for good (asks first on a terminal)',
    ['--yes', 'delete without asking (needed when there is no terminal to ask on)'],
  ).action((agentId: string, options: DeleteCommandOptions) =>
    agentDeleteCommand(agentId, options, context),
  );

  serverOptions(
    agents
      .command('run')
      .description(
        'run an agent (or every agent with --tag) now through a server (exit code 1 when the run ends other than completed, or an agent of the tag was refused)',
      )
      .argument('[agent_id]', 'the agent')
      .option('--tag <tag>', 'every agent with this tag instead of one (runs not waited for)')
      .option('--wait', 'wait for the run to end and print its answer')
      .option('--query <text>', "this run's query instead of the agent's task_config.query"),
  )
    .option('--json', 'print JSON')
    .action(async (agentId: string | undefined, options: AgentRunCommandOptions & TagOption) => {
      const target = agentOrTag(agentId, options.tag, 'run');
      exitWith(
        'tag' in target
          ? await tagRunCommand(target.tag, options, context)
          : await agentRunCommand(target.agentId, options, context),
      );
    });

  serverOptions(
    agents
      .command('backfill')
      .description(
        "run the ticks of a past range of an agent's schedule that have no run yet, within what is left of its budgets, one after another, through a server; prints each tick, the estimate per run and the budgets",
      )
      .argument('<agent_id>', 'the agent')
      .requiredOption(
        '--from <iso>',
        'the range start, an ISO instant such as 2026-03-01T00:00:00Z',
      )
      .requiredOption('--to <iso>', 'the range end (included), not in the future')
      .option('--dry-run', 'print the plan, and start nothing'),
  )
    .option('--json', 'print JSON')
    .action((agentId: string, options: BackfillCommandOptions) =>
      agentBackfillCommand(agentId, options, context),
    );
}
