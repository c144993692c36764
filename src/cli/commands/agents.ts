import type { AgentStatus } from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { formatInstant } from '../event-line.js';
import { openInspectionService, type StoreSelection } from '../inspection-service.js';
import { formatTable, type TableColumn } from '../table.js';

/** Options of `nightshift agents`. */
export interface AgentsCommandOptions extends StoreSelection {
  json?: boolean;
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
];

/** `nightshift agents`: every agent of a store, one row each, without running anything. */
export async function agentsCommand(
  options: AgentsCommandOptions,
  context: CliContext,
): Promise<void> {
  const { service, description, redact } = openInspectionService(options, context.env);
  try {
    const agents = await service.listAgents();
    if (options.json) {
      context.out(redact(JSON.stringify(agents, null, 2)));
      return;
    }
    if (agents.length === 0) {
      context.out(redact(`no agents in ${description}`));
      return;
    }
    for (const line of formatTable(COLUMNS, agents.map(agentRow))) context.out(redact(line));
  } finally {
    await service.shutdown();
  }
}

function agentRow(agent: AgentStatus): string[] {
  const state = agent.state === 'active' && agent.is_running ? 'active (running)' : agent.state;
  return [
    agent.agent_id,
    state,
    String(agent.run_count),
    String(agent.error_count),
    String(agent.skip_count),
    String(agent.missed_count),
    agent.last_run_status ?? '-',
    agent.next_run_at ? formatInstant(agent.next_run_at) : '-',
    String(agent.total_tokens),
  ];
}
