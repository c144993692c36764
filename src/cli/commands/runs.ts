import { NightshiftError } from '../../errors.js';
import type { RunRecord, RunStatus } from '../../storage/index.js';
import type { CliContext } from '../cli-context.js';
import { runDuration } from '../describe-run.js';
import { formatInstant } from '../event-line.js';
import { withFleetTarget, type TargetSelection } from '../fleet-target.js';
import { formatTable, truncate, type TableColumn } from '../table.js';

/** Options of `nightshift runs`. */
export interface RunsCommandOptions extends TargetSelection {
  limit: number;
  status?: RunStatus;
  json?: boolean;
}

/** Longest error text shown in the table (the record keeps all of it). */
const LONGEST_ERROR = 80;

const COLUMNS: TableColumn[] = [
  { header: 'RUN ID' },
  { header: 'TRIGGER' },
  { header: 'SCHEDULED' },
  { header: 'STATUS' },
  { header: 'DURATION', align: 'right' },
  { header: 'TOKENS', align: 'right' },
  { header: 'ERROR' },
];

/** `nightshift runs <agent_id>`: an agent's runs, newest first, from a store or a server. */
export async function runsCommand(
  agentId: string,
  options: RunsCommandOptions,
  context: CliContext,
): Promise<void> {
  await withFleetTarget(options, context, async ({ fleet, description }, say) => {
    let runs: RunRecord[];
    try {
      runs = await fleet.listRuns(agentId, {
        limit: options.limit,
        ...(options.status ? { status: options.status } : {}),
      });
    } catch (error) {
      if (!NightshiftError.isInstance(error) || error.code !== 'agent_not_found') throw error;
      const known = (await fleet.listAgents()).map((agent) => agent.agent_id);
      throw new NightshiftError(
        'agent_not_found',
        `no agent named "${agentId}" in ${description} (${known.length > 0 ? `agents: ${known.join(', ')}` : 'it has no agents'})`,
        { details: { agent_id: agentId } },
      );
    }
    if (options.json) {
      say(JSON.stringify(runs, null, 2));
      return;
    }
    if (runs.length === 0) {
      const filter = options.status ? ` ${options.status}` : '';
      say(`no${filter} runs of ${agentId}`);
      return;
    }
    for (const line of formatTable(COLUMNS, runs.map(runRow))) say(line);
  });
}

function runRow(run: RunRecord): string[] {
  const duration = runDuration(run) ?? (run.status === 'running' ? 'running' : '-');
  const problem = run.error ? `${run.error.code}: ${run.error.message}` : (run.skip_reason ?? '');
  const attempts = run.attempts.length > 1 ? ` (${run.attempts.length} attempts)` : '';
  return [
    run.run_id,
    run.trigger,
    formatInstant(run.scheduled_at),
    `${run.status}${attempts}`,
    duration,
    String(run.usage.total_tokens),
    truncate(problem, LONGEST_ERROR),
  ];
}
