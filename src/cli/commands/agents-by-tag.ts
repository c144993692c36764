import { NightshiftError } from '../../errors.js';
import type { TagActionOutcome, TagActionResult } from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { describeRun } from '../describe-run.js';
import { requireSelectedApi, withFleetTarget, type FleetControl } from '../fleet-target.js';
import type { AgentRunCommandOptions } from './agent-run.js';
import { pauseOptions, type AgentsCommandOptions, type PauseCommandOptions } from './agents.js';

/** What each result says, per action: `paused`, `paused already`, … */
const DONE = { pause: 'paused', resume: 'resumed', run: 'run' } as const;
const UNCHANGED = { pause: 'paused already', resume: 'active already', run: 'run' } as const;

/**
 * `nightshift agents pause --tag <tag>`: pauses every agent with the tag, with one note for
 * all, and prints what happened to each. Resolves to the exit code: 1 when one was refused.
 */
export async function tagPauseCommand(
  tag: string,
  options: PauseCommandOptions,
  context: CliContext,
): Promise<number> {
  return byTag(options, context, (fleet) => fleet.pauseAgents({ tag }, pauseOptions(options)));
}

/** `nightshift agents resume --tag <tag>`: resumes every paused agent with the tag. */
export async function tagResumeCommand(
  tag: string,
  options: AgentsCommandOptions,
  context: CliContext,
): Promise<number> {
  return byTag(options, context, (fleet) => fleet.resumeAgents({ tag }));
}

/**
 * `nightshift agents run --tag <tag>`: asks a running Nightshift to run every agent with the tag
 * now; each run is dispatched, not waited for (`--wait` is for one agent).
 */
export async function tagRunCommand(
  tag: string,
  options: AgentRunCommandOptions,
  context: CliContext,
): Promise<number> {
  if (options.wait) {
    throw new NightshiftError(
      'config_invalid',
      '--wait goes with one agent, not --tag: follow the runs with nightshift runs list <agent_id>',
    );
  }
  const { api, say } = requireSelectedApi(
    options,
    context,
    'agents run --tag asks a running Nightshift to run the agents',
  );
  const result = await api.runAgentsNow(
    { tag },
    options.query === undefined ? {} : { query: options.query },
  );
  return report(result, options.json === true, say);
}

/**
 * The agent (`<agent_id>`) or the tag (`--tag`) a command acts on: exactly one of them, else
 * `config_invalid` saying so.
 */
export function agentOrTag(
  agentId: string | undefined,
  tag: string | undefined,
  command: string,
): { agentId: string } | { tag: string } {
  if (agentId !== undefined && tag !== undefined) {
    throw new NightshiftError(
      'config_invalid',
      `agents ${command} takes an <agent_id> or --tag, not both`,
    );
  }
  if (agentId !== undefined) return { agentId };
  if (tag !== undefined) return { tag };
  throw new NightshiftError(
    'config_invalid',
    `agents ${command} needs an <agent_id>, or --tag for every agent with a tag`,
  );
}

async function byTag(
  options: AgentsCommandOptions,
  context: CliContext,
  act: (fleet: FleetControl) => Promise<TagActionResult>,
): Promise<number> {
  return withFleetTarget(options, context, async ({ fleet }, say) =>
    report(await act(fleet), options.json === true, say),
  );
}

/** Prints a line per agent and a summary (or the JSON); 1 when one agent was refused. */
function report(result: TagActionResult, json: boolean, say: (line: string) => void): number {
  const refused = result.agents.filter((agent) => agent.result === 'refused').length;
  if (json) {
    say(JSON.stringify(result, null, 2));
    return refused > 0 ? 1 : 0;
  }
  if (result.agents.length === 0) {
    say(`no agent has the tag ${result.tag}`);
    return 0;
  }
  for (const agent of result.agents) say(outcomeLine(result, agent));
  const count = (kind: TagActionOutcome['result']) =>
    result.agents.filter((agent) => agent.result === kind).length;
  const parts = [
    `${count('done')} ${DONE[result.action]}`,
    ...(count('unchanged') > 0 ? [`${count('unchanged')} unchanged`] : []),
    ...(refused > 0 ? [`${refused} refused`] : []),
  ];
  say(`tag ${result.tag}: ${parts.join(', ')}`);
  return refused > 0 ? 1 : 0;
}

function outcomeLine(result: TagActionResult, agent: TagActionOutcome): string {
  if (agent.result === 'refused') {
    const why = agent.error ? `${agent.error.code}: ${agent.error.message}` : 'no reason given';
    return `${agent.agent_id}: refused (${why})`;
  }
  if (result.action === 'run' && agent.run) return describeRun(agent.run);
  const said = agent.result === 'done' ? DONE[result.action] : UNCHANGED[result.action];
  return `${agent.agent_id}: ${said}`;
}
