import { formatUsd, type RunLink, type RunReport, type TimelineEntry } from '../server/index.js';
import { isTerminal, type RunRecord, type Usage } from '../storage/index.js';
import { formatInstant } from './event-line.js';
import { eventSummary } from './event-summary.js';
import { formatDuration } from './format-duration.js';
import { formatTable, truncate } from './table.js';

type ModelCallEntry = Extract<TimelineEntry, { kind: 'model_call' }>;
type ToolCallEntry = Extract<TimelineEntry, { kind: 'tool_call' }>;

/** Longest error message printed on a run's line (the record keeps all of it). */
const LONGEST_ERROR = 200;

/** How long a run took, when it has started and ended. */
export function runDuration(run: RunRecord): string | undefined {
  if (!run.started_at || !run.ended_at) return undefined;
  return formatDuration(Date.parse(run.ended_at) - Date.parse(run.started_at));
}

/**
 * A run on one line: `monitor.manual-…: completed in 41 ms, 120 tokens, $0.0004` (the cost when
 * it has one), `…: failed (model_error: upstream said no) after 2.5 s`,
 * `…: skipped (a run is in flight)`, `…: running`.
 */
export function describeRun(run: RunRecord): string {
  const head = `${run.run_id}: ${run.status}`;
  const duration = runDuration(run);
  const attempts = run.attempts.length > 1 ? `, ${run.attempts.length} attempts` : '';
  if (run.status === 'completed') {
    const cost = run.usage.cost_usd === undefined ? '' : `, ${formatUsd(run.usage.cost_usd)}`;
    return `${head} in ${duration ?? '?'}, ${run.usage.total_tokens} tokens${cost}${attempts}`;
  }
  if (run.status === 'skipped') return `${head} (${run.skip_reason ?? 'no reason recorded'})`;
  if (!isTerminal(run.status)) return head;
  const error = run.error
    ? ` (${truncate(`${run.error.code}: ${run.error.message}`, LONGEST_ERROR)})`
    : '';
  return `${head}${error}${duration ? ` after ${duration}` : ''}${attempts}`;
}

/** Longest tool argument or result printed on a timeline line (`--json` prints all of it). */
const LONGEST_VALUE = 300;
/** Longest model reply printed on a timeline line, tool calls included. */
const LONGEST_REPLY = 200;
/** What an event's summary keeps of its values. */
const SUMMARY_LENGTHS = { value: LONGEST_VALUE, error: LONGEST_ERROR };

/** Options of {@link runReportLines}. */
export interface RunReportLineOptions {
  /** Why the run's events are missing, when they were not read (printed in their place). */
  eventsUnavailable?: string;
}

/**
 * A run report as `nightshift runs show` prints it: the run's fields, its attempts (and where
 * each resumed), its timeline (model calls with their usage and replies, tool calls with
 * arguments, outcomes and results, resume markers, errors) and its events, each section under
 * a heading.
 */
export function runReportLines(report: RunReport, options: RunReportLineOptions = {}): string[] {
  const { run, timing } = report;
  const instant = (value: string | null) => (value === null ? '-' : formatInstant(value));
  const milliseconds = (value: number | null) => (value === null ? '-' : formatDuration(value));
  const link = (other: RunLink | null) =>
    other ? `${other.run_id} (${other.status}, ${formatInstant(other.scheduled_at)})` : '-';
  const attempts = run.attempts.length;
  const pairs: Array<[string, string]> = [
    ['run', run.run_id],
    ['agent', run.agent_id],
    ['status', `${run.status}${attempts > 1 ? ` (${attempts} attempts)` : ''}`],
    ['trigger', run.trigger],
    ['scheduled', instant(timing.scheduled_at)],
    [
      'started',
      timing.started_at === null
        ? '-'
        : `${instant(timing.started_at)} (${milliseconds(timing.lateness_ms)} after it was due)`,
    ],
    ['ended', instant(timing.ended_at)],
    ['duration', milliseconds(timing.duration_ms)],
    ['usage', describeUsage(run.usage)],
    ['cost', describeCost(run.usage)],
    ['previous run', link(report.previous_run)],
    ['next run', link(report.next_run)],
  ];
  if (run.error) {
    const blocked = run.error.retry_blocked
      ? ' (not retried: a tool with side effects had started)'
      : '';
    pairs.push(['error', `${run.error.code}: ${run.error.message}${blocked}`]);
  }
  if (run.skip_reason !== null) pairs.push(['skipped', run.skip_reason]);
  if (run.output !== null) pairs.push(['output', run.output]);
  // The answer parsed (the agent has an output_schema), pretty-printed.
  if (run.output_json !== null && run.output_json !== undefined)
    pairs.push(['output json', JSON.stringify(run.output_json, null, 2)]);
  pairs.push(['query', run.query]);
  const width = Math.max(...pairs.map(([label]) => label.length));
  const lines = pairs.flatMap(([label, value]) => labelled(label.padEnd(width), value));

  lines.push('', 'attempts');
  if (run.attempts.length === 0) {
    lines.push(`  ${run.status === 'skipped' ? 'none: the run was skipped' : 'none started yet'}`);
  } else {
    const rows = run.attempts.map((attempt) => [
      String(attempt.attempt),
      attempt.resumed_from === undefined
        ? attempt.status
        : `${attempt.status} (${resumedFrom(attempt.resumed_from)})`,
      attempt.worker_id ?? '-',
      formatInstant(attempt.started_at),
      attempt.ended_at === null
        ? '-'
        : formatDuration(Date.parse(attempt.ended_at) - Date.parse(attempt.started_at)),
      String(attempt.usage.total_tokens),
      attempt.error
        ? truncate(`${attempt.error.code}: ${attempt.error.message}`, LONGEST_ERROR)
        : '',
    ]);
    const table = formatTable(
      [
        { header: 'ATTEMPT', align: 'right' },
        { header: 'STATUS' },
        { header: 'WORKER' },
        { header: 'STARTED' },
        { header: 'DURATION', align: 'right' },
        { header: 'TOKENS', align: 'right' },
        { header: 'ERROR' },
      ],
      rows,
    );
    lines.push(...table.map((line) => `  ${line}`));
  }

  lines.push('', 'timeline');
  if (report.timeline.length === 0) lines.push('  nothing recorded');
  const ended = isTerminal(run.status);
  for (const entry of report.timeline) lines.push(...timelineLines(entry, ended));

  if (report.events === null) {
    lines.push('', 'events', `  ${options.eventsUnavailable ?? 'not read'}`);
  } else {
    const more = report.events_complete ? '' : ', the first ones only';
    lines.push('', `events (${report.events.length}${more})`);
    if (report.events.length === 0)
      lines.push('  none in the event log (it keeps the newest events)');
    const idWidth = Math.max(0, ...report.events.map((event) => event.id.length));
    for (const event of report.events) {
      const id = event.id.padStart(idWidth);
      lines.push(
        `  ${id}  ${formatInstant(event.timestamp)} ${event.type}${eventSummary(event, SUMMARY_LENGTHS)}`,
      );
    }
  }
  return lines;
}

/** `2 requests, 375 tokens (320 in, 55 out)`. */
function describeUsage(usage: Usage): string {
  const requests = `${usage.requests} request${usage.requests === 1 ? '' : 's'}`;
  return `${requests}, ${usage.total_tokens} tokens (${usage.input_tokens} in, ${usage.output_tokens} out)`;
}

/** `$0.0004`, or why there is none: the run's model is free or has no price. */
function describeCost(usage: Usage): string {
  return usage.cost_usd === undefined ? '- (free or unpriced model)' : formatUsd(usage.cost_usd);
}

/** `label  value`, a long or multi-line value continued under itself. */
function labelled(label: string, value: string, indent = ''): string[] {
  const [first = '', ...rest] = value.split('\n');
  const padding = ' '.repeat(label.length + 2);
  return [`${indent}${label}  ${first}`, ...rest.map((line) => `${indent}${padding}${line}`)];
}

/** `resumed from step 1.3`, or what an attempt says when no step was recorded before it resumed. */
export function resumedFrom(step: string | null): string {
  return step === null ? 'resumed with no step recorded before' : `resumed from step ${step}`;
}

/** `150 tokens (120 in, 30 out)`, and `, $0.0004` when the call has a cost. */
function describeTokens(usage: Usage): string {
  const cost = usage.cost_usd === undefined ? '' : `, ${formatUsd(usage.cost_usd)}`;
  return `${usage.total_tokens} tokens (${usage.input_tokens} in, ${usage.output_tokens} out)${cost}`;
}

/** A model's reply on one line: the start of its text, then the tools it called by name. */
function replySummary(entry: ModelCallEntry): string | undefined {
  const names = entry.tool_calls.map((call) => call.tool_name);
  const calls = names.length > 0 ? `calls ${names.join(', ')}` : undefined;
  if (entry.reply === null) return calls;
  const text = truncate(entry.reply, calls ? LONGEST_REPLY - calls.length - 3 : LONGEST_REPLY);
  return calls ? `${text} → ${calls}` : text;
}

/**
 * A timeline entry as lines: a step's head (time, kind, id, state, what it cost or how it
 * ended), then one line each of what it said (reply, arguments, result, error).
 */
function timelineLines(entry: TimelineEntry, ended: boolean): string[] {
  const head = `  ${formatInstant(entry.at)}  `;
  const detail = (label: string, value: string) => [`      ${label.padEnd(9)}  ${value}`];
  const state = (step: ModelCallEntry | ToolCallEntry) =>
    step.state === 'started'
      ? `started, ${ended ? 'never finished' : 'in progress'}`
      : `completed in ${step.duration_ms === null ? '-' : formatDuration(step.duration_ms)}`;
  if (entry.kind === 'model_call') {
    const facts = [
      state(entry),
      entry.usage ? describeTokens(entry.usage) : undefined,
      entry.finish_reason ? `finish ${entry.finish_reason}` : undefined,
    ].filter((fact) => fact !== undefined);
    const reply = replySummary(entry);
    return [
      `${head}model call ${entry.step_id}: ${facts.join(', ')}`,
      ...(reply === undefined ? [] : detail('reply', reply)),
    ];
  }
  if (entry.kind === 'tool_call') {
    const unknown = entry.outcome === 'unknown_outcome';
    const outcome = unknown ? 'not run again: outcome unknown' : entry.outcome;
    const facts = [state(entry), outcome].filter(Boolean).join(', ');
    const cut = entry.result_cut
      ? ` (cut: ${entry.result_cut.original_chars} characters, ${entry.result_cut.cap_chars} kept)`
      : '';
    return [
      `${head}tool call ${entry.step_id} ${entry.tool_name}: ${facts}`,
      ...('arguments' in entry ? detail('arguments', compactJson(entry.arguments)) : []),
      // The result of a call not run again only repeats why: the error line says it.
      ...('result' in entry && !unknown
        ? detail('result', `${compactJson(entry.result)}${cut}`)
        : []),
      ...(entry.error === null ? [] : detail('error', truncate(entry.error, LONGEST_ERROR))),
    ];
  }
  if (entry.kind === 'resume') {
    const counts =
      entry.skipped_model_calls === null
        ? ''
        : ` (${plural(entry.skipped_model_calls, 'model call')} answered from the journal, ` +
          `${plural(entry.unknown_outcome_calls ?? 0, 'tool call')} not run again)`;
    return [
      `${head}resume ${entry.step_id}: attempt ${entry.attempt} ${resumedFrom(entry.resumed_from)}${counts}`,
    ];
  }
  const { event } = entry;
  if (event.type === 'background_task_started') {
    return [`${head}attempt ${event.payload.attempt} started (${event.payload.trigger})`];
  }
  return [`${head}${event.type}${eventSummary(event, SUMMARY_LENGTHS)}`];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function compactJson(value: unknown): string {
  return truncate(JSON.stringify(value) ?? 'undefined', LONGEST_VALUE);
}
