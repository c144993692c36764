import { formatUsd } from '../../server/index.js';
import type { AgentStatus, PauseOptions } from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { describeState, statusLines } from '../describe-status.js';
import { formatInstant } from '../event-line.js';
import { withFleetTarget, type FleetControl, type TargetSelection } from '../fleet-target.js';
import { formatTable, type TableColumn } from '../table.js';

/** Options every `nightshift agents` command takes. */
export interface AgentsCommandOptions extends TargetSelection {
  json?: boolean;
}

/** Options of `nightshift agents list`. */
export interface ListCommandOptions extends AgentsCommandOptions {
  /** Only the agents with this tag. */
  tag?: string;
}

/** Options of `nightshift agents pause`. */
export interface PauseCommandOptions extends AgentsCommandOptions {
  reason?: string;
  /** Who pauses it. */
  by?: string;
  /** When it resumes by itself: an ISO instant (a duration is turned into one by the parser). */
  until?: string;
}

/** Options of `nightshift agents stop`. */
export interface StopCommandOptions extends AgentsCommandOptions {
  cancel?: boolean;
}

const COLUMNS: TableColumn[] = [
  { header: 'AGENT' },
  { header: 'STATE' },
  { header: 'RUNS', align: 'right' },
  { header: 'ERRORS', align: 'right' },
  { header: 'SKIPS', align: 'right' },
  { header: 'MISSED', align: 'right' },
  { header: 'LAST STATUS' },
  { header: 'NEXT RUN' },
  { header: 'TOKENS', align: 'right' },
  { header: 'COST TODAY', align: 'right' },
  { header: 'THIS MONTH', align: 'right' },
];

/** `nightshift agents [list] [--tag <tag>]`: every agent of a store or a server (with the tag), one row each. */
export async function agentsListCommand(
  options: ListCommandOptions,
  context: CliContext,
): Promise<void> {
  await withFleetTarget(options, context, async ({ fleet, description }, say) => {
    const agents = await fleet.listAgents(options.tag === undefined ? {} : { tag: options.tag });
    if (options.json) say(JSON.stringify(agents, null, 2));
    else if (agents.length === 0)
      say(
        options.tag === undefined
          ? `no agents in ${description}`
          : `no agent with the tag ${options.tag} in ${description}`,
      );
    else for (const line of formatTable(COLUMNS, agents.map(agentRow))) say(line);
  });
}

/** `nightshift agents status <agent_id>`: one agent's status, a field a line. */
export async function agentStatusCommand(
  agentId: string,
  options: AgentsCommandOptions,
  context: CliContext,
): Promise<void> {
  await withFleetTarget(options, context, async ({ fleet }, say) => {
    const status = await fleet.getAgentStatus(agentId);
    if (options.json) say(JSON.stringify(status, null, 2));
    else for (const line of statusLines(status)) say(line);
  });
}

/**
 * `nightshift agents pause <agent_id>`: off the schedule until resumed, or `--until` (durable,
 * fleet-wide); the note says why and who.
 */
export async function agentPauseCommand(
  agentId: string,
  options: PauseCommandOptions,
  context: CliContext,
): Promise<void> {
  await changeState(options, context, (fleet) => fleet.pauseAgent(agentId, pauseOptions(options)));
}

/** The note of a pause command, as the service takes it. */
export function pauseOptions(options: PauseCommandOptions): PauseOptions {
  return {
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    ...(options.by === undefined ? {} : { by: options.by }),
    ...(options.until === undefined ? {} : { until: options.until }),
  };
}

/** `nightshift agents resume <agent_id>`: a paused agent back on its schedule. */
export async function agentResumeCommand(
  agentId: string,
  options: AgentsCommandOptions,
  context: CliContext,
): Promise<void> {
  await changeState(options, context, (fleet) => fleet.resumeAgent(agentId));
}

/** `nightshift agents stop <agent_id>`: off the schedule; `--cancel` also ends the run in flight. */
export async function agentStopCommand(
  agentId: string,
  options: StopCommandOptions,
  context: CliContext,
): Promise<void> {
  await changeState(options, context, (fleet) =>
    fleet.stopAgent(agentId, options.cancel ? { cancel: true } : {}),
  );
}

async function changeState(
  options: AgentsCommandOptions,
  context: CliContext,
  change: (fleet: FleetControl) => Promise<AgentStatus>,
): Promise<void> {
  await withFleetTarget(options, context, async ({ fleet }, say) => {
    const status = await change(fleet);
    if (options.json) say(JSON.stringify(status, null, 2));
    else say(`${status.agent_id}: ${describeState(status)}`);
  });
}

function agentRow(agent: AgentStatus): string[] {
  return [
    agent.agent_id,
    describeState({ ...agent, pause_reason: null, paused_by: null, paused_until: null }),
    String(agent.run_count),
    String(agent.error_count),
    String(agent.skip_count),
    String(agent.missed_count),
    agent.last_run_status ?? '-',
    agent.next_run_at ? formatInstant(agent.next_run_at) : '-',
    String(agent.total_tokens),
    formatUsd(agent.cost_today_usd),
    formatUsd(agent.cost_month_usd),
  ];
}
