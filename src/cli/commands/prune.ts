import type { Command } from 'commander';
import { NightshiftError } from '../../errors.js';
import { BackgroundAgentService, type PruneReport } from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { FILE_ARGUMENT, serverOptions } from '../command-options.js';
import { selectedApi, type TargetSelection } from '../fleet-target.js';
import { loadServableFile } from '../load-runnable-file.js';
import { createRedactor } from '../redact.js';
import { formatTable, type TableColumn } from '../table.js';

/** Options of `nightshift prune`. */
export interface PruneCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  dryRun?: boolean;
  json?: boolean;
}

const COLUMNS: TableColumn[] = [
  { header: 'AGENT' },
  { header: 'RUNS', align: 'right' },
  { header: 'EVENTS', align: 'right' },
  { header: 'MESSAGES', align: 'right' },
];

/** Registers `nightshift prune` on the program. */
export function registerPruneCommand(program: Command, context: CliContext): void {
  serverOptions(
    program
      .command('prune')
      .argument('[file]', `${FILE_ARGUMENT}: its store, and its retention: defaults`)
      .description(
        "apply retention now: remove ended runs past runs_days (with their steps), events past events_days and conversation messages beyond messages_per_session, each agent's retention over the file's; in the file's store, or through a server (--url)",
      ),
  )
    .option('--dry-run', 'show what would be removed (counts per kind and agent); remove nothing')
    .option('--json', 'print JSON instead of a table')
    .action((file: string | undefined, options: PruneCommandOptions) =>
      pruneCommand(file, options, context),
    );
}

/**
 * `nightshift prune [--dry-run] <file>` (or `--url`): what retention removes now, per agent and
 * kind, and, without `--dry-run`, removes it. Managers sweep in the background anyway; this goes
 * to the end at once, safely alongside them.
 */
export async function pruneCommand(
  file: string | undefined,
  options: PruneCommandOptions,
  context: CliContext,
): Promise<void> {
  const dryRun = options.dryRun === true;
  if (file !== undefined && (options.url !== undefined || options.token !== undefined)) {
    throw new NightshiftError('config_invalid', 'use either a Nightshift file or --url, not both');
  }
  const selected = file === undefined ? selectedApi(options, context.env) : undefined;
  if (selected) {
    const report = await selected.api.pruneNow({ dry_run: dryRun });
    printReport(report, options, (line) => context.out(selected.redact(line)));
    return;
  }
  if (file === undefined) {
    throw new NightshiftError(
      'config_invalid',
      'prune needs a Nightshift file (its store and retention:) or --url of a running Nightshift (or NIGHTSHIFT_URL)',
    );
  }
  const { config, routers } = loadServableFile(file, context.env);
  const redact = createRedactor(config.secrets);
  const service = new BackgroundAgentService(routers.memory, routers.events, {
    env: context.env,
    secrets: config.secrets,
    retention: config.retention,
  });
  try {
    printReport(await service.pruneNow({ dry_run: dryRun }), options, (line) =>
      context.out(redact(line)),
    );
  } finally {
    await service.shutdown({ timeout: 0 });
  }
}

function printReport(
  report: PruneReport,
  options: PruneCommandOptions,
  say: (line: string) => void,
): void {
  if (options.json) {
    say(JSON.stringify(report, null, 2));
    return;
  }
  const agents = Object.entries(report.agents).sort(([left], [right]) => left.localeCompare(right));
  if (agents.length > 0) {
    const rows = agents.map(([agentId, counts]) => [
      agentId,
      String(counts.runs),
      String(counts.events),
      String(counts.messages),
    ]);
    for (const line of formatTable(COLUMNS, rows)) say(line);
  }
  const { runs, events, messages } = report.totals;
  const what = `${runs} run${runs === 1 ? '' : 's'}, ${events} event${events === 1 ? '' : 's'}, ${messages} message${messages === 1 ? '' : 's'}`;
  say(report.dry_run ? `would remove ${what} (dry run: nothing removed)` : `removed ${what}`);
}
