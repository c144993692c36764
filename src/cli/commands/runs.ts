import { NightshiftError } from '../../errors.js';
import type { RunRecord, RunStatus } from '../../storage/index.js';
import type { CliContext } from '../cli-context.js';
import { formatInstant } from '../event-line.js';
import { openInspectionService, type StoreSelection } from '../inspection-service.js';
import { formatTable, truncate, type TableColumn } from '../table.js';

/** Options of `nightshift runs`. */
export interface RunsCommandOptions extends StoreSelection {
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

/** `nightshift runs <agent_id>`: an agent's runs, newest first, without running anything. */
export async function runsCommand(
  agentId: string,
  options: RunsCommandOptions,
  context: CliContext,
): Promise<void> {
  const { service, description, redact } = openInspectionService(options, context.env);
  try {
    let runs: RunRecord[];
    try {
      runs = await service.listRuns(agentId, {
        limit: options.limit,
        ...(options.status ? { status: options.status } : {}),
      });
    } catch (error) {
      if (!NightshiftError.isInstance(error) || error.code !== 'agent_not_found') throw error;
      const known = (await service.listAgents()).map((agent) => agent.agent_id);
      throw new NightshiftError(
        'agent_not_found',
        `no agent named "${agentId}" in ${description} (${known.length > 0 ? `agents: ${known.join(', ')}` : 'it has no agents'})`,
        { details: { agent_id: agentId } },
      );
    }
    if (options.json) {
      context.out(redact(JSON.stringify(runs, null, 2)));
      return;
    }
    if (runs.length === 0) {
      const filter = options.status ? ` ${options.status}` : '';
      context.out(redact(`no${filter} runs of ${agentId}`));
      return;
    }
    for (const line of formatTable(COLUMNS, runs.map(runRow))) context.out(redact(line));
  } finally {
    await service.shutdown();
  }
}

function runRow(run: RunRecord): string[] {
  const duration =
    run.started_at && run.ended_at
      ? formatDuration(Date.parse(run.ended_at) - Date.parse(run.started_at))
      : run.status === 'running'
        ? 'running'
        : '-';
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

/** `41 ms`, `2.5 s`, `3 min 20 s`. */
function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.max(0, milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`;
  const seconds = Math.round(milliseconds / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
