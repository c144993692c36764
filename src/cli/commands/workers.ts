import type { Command } from 'commander';
import type { WorkerInfo } from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { serverOptions } from '../command-options.js';
import { formatDuration } from '../format-duration.js';
import { formatInstant } from '../event-line.js';
import { requireSelectedApi, type TargetSelection } from '../fleet-target.js';
import { formatTable, type TableColumn } from '../table.js';

/** Options of `nightshift workers`. */
export interface WorkersCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  json?: boolean;
}

const COLUMNS: TableColumn[] = [
  { header: 'WORKER' },
  { header: 'HOST' },
  { header: 'PID', align: 'right' },
  { header: 'STARTED' },
  { header: 'HEARTBEAT' },
  { header: 'RUNNING', align: 'right' },
  { header: 'RUNS' },
];

/** Registers `nightshift workers` on the program. */
export function registerWorkersCommand(program: Command, context: CliContext): void {
  serverOptions(
    program
      .command('workers')
      .description(
        'list the worker processes of a BullMQ fleet through a server: host, pid, heartbeat and the runs each executes now (none with the in-process scheduler)',
      ),
  )
    .option('--json', 'print JSON instead of a table')
    .action((options: WorkersCommandOptions) => workersCommand(options, context));
}

/**
 * `nightshift workers`: the workers registered with a distributed scheduler, read from the
 * heartbeat registry through a server's `GET /api/workers`.
 */
async function workersCommand(options: WorkersCommandOptions, context: CliContext): Promise<void> {
  const { api, say } = requireSelectedApi(
    options,
    context,
    'workers asks a running Nightshift for its workers',
  );
  const workers = await api.listWorkers();
  if (options.json) {
    say(JSON.stringify(workers, null, 2));
    return;
  }
  if (workers.length === 0) {
    say(`no workers registered at ${api.url}`);
    say(
      'with the in-process scheduler (the default) agents run inside the Nightshift process itself (nightshift run), without workers; with BullMQ, start some with nightshift worker <file>',
    );
    return;
  }
  const now = Date.now();
  for (const line of formatTable(
    COLUMNS,
    workers.map((worker) => workerRow(worker, now)),
  ))
    say(line);
}

function workerRow(worker: WorkerInfo, now: number): string[] {
  const age = Math.max(0, now - Date.parse(worker.last_heartbeat));
  return [
    worker.worker_id,
    worker.host,
    String(worker.pid),
    formatInstant(worker.started_at),
    `${formatInstant(worker.last_heartbeat)} (${formatDuration(age)} ago)`,
    String(worker.running_runs.length),
    worker.running_runs.length > 0 ? worker.running_runs.join(', ') : '-',
  ];
}
