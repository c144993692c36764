import type { Command } from 'commander';
import { NightshiftError } from '../../errors.js';
import { buildRunReport, type RunReport } from '../../server/index.js';
import { BackgroundAgentService } from '../../service/index.js';
import { resolveDatabaseUrl } from '../../storage/database-url.js';
import { EventRouter, type RunRecord, type RunStatus } from '../../storage/index.js';
import type { CliContext } from '../cli-context.js';
import { targetOptions } from '../command-options.js';
import { runDuration, runReportLines } from '../describe-run.js';
import { formatInstant } from '../event-line.js';
import { selectedApi, withFleetTarget, type TargetSelection } from '../fleet-target.js';
import { selectedStore } from '../inspection-service.js';
import { createFileRouters } from '../open-routers.js';
import { createRedactor, type Redactor } from '../redact.js';
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

/** Options of `nightshift runs show`. */
export interface RunShowCommandOptions extends TargetSelection {
  json?: boolean;
}

/**
 * Adds `show <run_id>` under `nightshift runs`, which keeps its own `<agent_id>` argument:
 * `runs show X` shows run X, `runs monitor` still lists monitor's runs. The options of `runs`
 * stop at `show` (positional options), so `runs show X --url …` gives them to `show`.
 */
export function registerRunsShowCommand(runs: Command, context: CliContext): void {
  runs.enablePositionalOptions();
  targetOptions(
    runs
      .command('show')
      .description(
        'one run in full: status, attempts (and where each resumed), timings, usage, the step timeline (model calls with usage and replies, tool calls with arguments, outcomes and results, resumes, errors), its events, and the previous and next runs',
      )
      .argument('<run_id>', 'the run (as `nightshift runs <agent_id>` lists them)'),
  ).action((runId: string, _options: RunShowCommandOptions, command: Command) =>
    // Options given before `show` belong to `runs`; the merged view holds them too.
    runShowCommand(runId, command.optsWithGlobals<RunShowCommandOptions>(), context),
  );
}

/** What `runs show` read the run from. */
interface RunSource {
  report: RunReport;
  redact: Redactor;
  /** Why the report has no events, when it has none. */
  eventsUnavailable?: string;
}

/**
 * `nightshift runs show <run_id>`: the run page in the terminal, read from a server (`--url`)
 * or a store (`--memory`, `--file`, where its events come from the store's event log).
 */
async function runShowCommand(
  runId: string,
  options: RunShowCommandOptions,
  context: CliContext,
): Promise<void> {
  const { report, redact, eventsUnavailable } = await readRunSource(runId, options, context.env);
  const say = (line: string) => context.out(redact(line));
  if (options.json) {
    say(JSON.stringify(report, null, 2));
    return;
  }
  for (const line of runReportLines(report, { eventsUnavailable })) say(line);
}

async function readRunSource(
  runId: string,
  selection: TargetSelection,
  env: Record<string, string | undefined>,
): Promise<RunSource> {
  const selected = selectedApi(selection, env);
  if (selected) {
    return { report: await selected.api.getRunReport(runId), redact: selected.redact };
  }
  // As the inspection service reads a store, but with the store's event log too: the run's
  // events hold its model replies and tool results. Reading appends nothing to either.
  const { sections, memory } = selectedStore(selection, env);
  const fileEvents = sections ? createFileRouters(sections, env).events : undefined;
  const eventsInProcess = fileEvents?.kind === 'in_memory';
  const events = eventsInProcess
    ? new EventRouter('in_memory')
    : (fileEvents ??
      new EventRouter('database', { env, url: resolveDatabaseUrl(selection.memory, env) }));
  const service = new BackgroundAgentService(memory, events, { env });
  try {
    const report = await buildRunReport(service, runId, { events: !eventsInProcess });
    return {
      report,
      redact: createRedactor(sections?.secrets ?? []),
      ...(eventsInProcess
        ? {
            eventsUnavailable: `not kept: ${selection.file} keeps its events in_memory (inside the running process); see them with --url`,
          }
        : {}),
    };
  } finally {
    await service.shutdown();
  }
}
