import { InvalidArgumentError, Option, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs } from '../../shared/backoff.js';
import type { ReplayDiff, ReplayDiffRow, StepSummary } from '../../service/index.js';
import { isTerminal, type RunRecord } from '../../storage/index.js';
import type { ApiClient } from '../api-client.js';
import type { CliContext } from '../cli-context.js';
import { serverOptions } from '../command-options.js';
import { describeRun } from '../describe-run.js';
import { requireSelectedApi, type TargetSelection } from '../fleet-target.js';
import { formatTable, truncate, type TableColumn } from '../table.js';

/** Options of `nightshift runs replay`. */
export interface RunReplayCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  model?: 'recorded' | 'live';
  tools?: 'recorded' | 'live';
  /** False with `--no-wait`: print the replay as soon as it has started. */
  wait: boolean;
  json?: boolean;
}

const SOURCES = ['recorded', 'live'] as const;

/** The first look at a replay being waited for comes this soon; later ones back off to the cap. */
const FIRST_POLL_MS = 100;
const LONGEST_POLL_MS = 1000;

/** Longest difference shown in the table (the JSON keeps all of them). */
const LONGEST_DIFFERENCE = 90;

const COLUMNS: TableColumn[] = [
  { header: '#', align: 'right' },
  { header: 'KIND' },
  { header: 'ORIGINAL' },
  { header: 'REPLAY' },
  { header: 'SAME' },
  { header: 'FIRST DIFFERENCE' },
];

/**
 * Adds `replay <run_id>` under `nightshift runs`, as `show` is: `runs replay X` replays run X.
 * `exitWith` takes the exit code (1 when the replay ended other than `completed`).
 */
export function registerRunsReplayCommand(
  runs: Command,
  context: CliContext,
  exitWith: (code: number) => void,
): void {
  serverOptions(
    runs
      .command('replay')
      .description(
        "run an ended run again from its journal through a server, as a new run (trigger replay) on the agent's current definition, then show it step by step against the original: by default the recorded replies and tool results answer (no model request, no tool runs)",
      )
      .argument('<run_id>', 'the run to replay (as `nightshift runs <agent_id>` lists them)'),
  )
    .addOption(
      new Option(
        '--model <source>',
        'recorded: the original replies answer, and a changed request is shown; live: the model answers afresh',
      )
        .choices(SOURCES)
        .default('recorded'),
    )
    .addOption(
      new Option(
        '--tools <source>',
        'recorded: the original results answer and no tool runs; live: the tools run for real',
      )
        .choices(SOURCES)
        .default('recorded'),
    )
    .option('--no-wait', 'print the replay as soon as it has started, without the diff')
    .option('--json', 'print the diff as JSON (with --no-wait: the run record)')
    .action(async (runId: string, _options: RunReplayCommandOptions, command: Command) =>
      exitWith(
        await runReplayCommand(runId, command.optsWithGlobals<RunReplayCommandOptions>(), context),
      ),
    );
}

/**
 * `nightshift runs replay <run_id>`: asks the server to replay the run, waits for the replay to
 * end and prints it with its diff against the original. Resolves to the exit code: 1 when the
 * replay ended other than `completed`.
 */
export async function runReplayCommand(
  runId: string,
  options: RunReplayCommandOptions,
  context: CliContext,
): Promise<number> {
  // A store read directly has no process running agents to run the replay in.
  const { api, say } = requireSelectedApi(
    options,
    context,
    'runs replay asks a running Nightshift to replay the run',
  );
  const started = await api.replayRun(runId, {
    model: sourceOption(options.model, '--model'),
    tools: sourceOption(options.tools, '--tools'),
  });
  if (options.wait === false) {
    if (options.json) say(JSON.stringify(started, null, 2));
    else {
      say(`replay of ${runId}: ${describeRun(started)}`);
      say(`follow it with: nightshift runs show ${started.run_id}`);
    }
    return 0;
  }
  const replay = await runEnd(api, started);
  const diff = await api.replayDiff(replay.run_id);
  if (options.json) say(JSON.stringify(diff, null, 2));
  else for (const line of replayDiffLines(replay, diff)) say(line);
  return replay.status === 'completed' ? 0 : 1;
}

/** The replay and its diff in lines: the run, a row a call, the answers and the first divergence. */
export function replayDiffLines(replay: RunRecord, diff: ReplayDiff): string[] {
  const mode = `model ${diff.mode.model}, tools ${diff.mode.tools}`;
  const lines = [
    `replay of ${diff.original_run_id} (${mode}): ${describeRun(replay)}`,
    `statuses: original ${diff.status.original}, replay ${diff.status.replay}`,
  ];
  if (diff.steps.length === 0) lines.push('neither run made a call');
  else lines.push(...formatTable(COLUMNS, diff.steps.map(diffRow)));
  lines.push(
    diff.answer.same
      ? 'answer: the same'
      : `answer: differs: ${truncate(JSON.stringify(diff.answer.original), 60)} → ${truncate(JSON.stringify(diff.answer.replay), 60)}`,
  );
  const first = diff.first_divergence;
  lines.push(
    first
      ? `first divergence: #${first.index}${first.step_id ? ` (step ${first.step_id})` : ''}: ${first.reason}`
      : 'no divergence',
  );
  return lines;
}

function diffRow(row: ReplayDiffRow): string[] {
  return [
    String(row.index),
    row.kind === 'model_call' ? 'model' : 'tool',
    describeSide(row.original),
    describeSide(row.replay),
    row.same ? 'same' : 'differs',
    truncate(row.differences[0] ?? '', LONGEST_DIFFERENCE),
  ];
}

/** One side of a row: the step, and the tool it called or the tools its reply asked for. */
function describeSide(summary: StepSummary | null): string {
  if (!summary) return '-';
  if ('tool_calls' in summary) {
    const asked = summary.tool_calls.map((call) => call.tool_name);
    return `${summary.step_id} ${asked.length > 0 ? `→ ${asked.join(', ')}` : 'answer'}`;
  }
  return `${summary.step_id} ${summary.tool_name} ${summary.outcome ?? 'not ended'}`;
}

/** The replay once it has ended, polled: a run may take longer than a request is kept open. */
async function runEnd(api: ApiClient, run: RunRecord): Promise<RunRecord> {
  let current = run;
  for (let polls = 1; !isTerminal(current.status); polls += 1) {
    await sleep(backoffDelayMs(polls, { firstMs: FIRST_POLL_MS, maxMs: LONGEST_POLL_MS }));
    current = await api.getRun(run.run_id);
  }
  return current;
}

/** Commander checks the choices; this narrows the type, and refuses anything else. */
function sourceOption(value: string | undefined, flag: string): 'recorded' | 'live' | undefined {
  if (value === undefined) return undefined;
  if ((SOURCES as readonly string[]).includes(value)) return value as 'recorded' | 'live';
  throw new InvalidArgumentError(`${flag} must be recorded or live`);
}
