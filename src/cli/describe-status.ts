import { formatUsd } from '../server/index.js';
import type { AgentStatus } from '../service/index.js';
import { formatSeconds } from './describe-schedule.js';
import { formatDuration } from './format-duration.js';
import { formatInstant } from './event-line.js';

/** An agent's state in a word or two: `active (running)`, `paused (maintenance)`. */
export function describeState(status: AgentStatus): string {
  // Records of older servers lack the count.
  const waiting = status.waiting_runs ?? 0;
  if (waiting > 0)
    return `${status.state} (${waiting} run${waiting === 1 ? '' : 's'} waiting${status.is_running ? ', running' : ''})`;
  if (status.state === 'active') return status.is_running ? 'active (running)' : 'active';
  if (status.state === 'paused') {
    const note = pauseNote(status);
    return note ? `paused (${note})` : 'paused';
  }
  return status.state;
}

/** A paused agent's note in a line: `maintenance, by alice, until 2026-12-03T18:00:00Z`. */
function pauseNote(status: AgentStatus): string {
  // Statuses of older servers lack who and until when.
  const by = status.paused_by ?? null;
  const until = status.paused_until ?? null;
  return [
    status.pause_reason,
    by === null ? null : `by ${by}`,
    until === null ? null : `until ${formatInstant(until)}`,
  ]
    .filter((part) => part !== null && part !== '')
    .join(', ');
}

/** The schedule of a status: `every 5 min`, `cron "0 9 * * *" (Europe/Paris)`, `once at …`. */
function describeStatusSchedule(schedule: AgentStatus['schedule']): string {
  if (schedule.interval !== undefined) return `every ${formatSeconds(schedule.interval)}`;
  if (schedule.cron !== undefined) return `cron "${schedule.cron}" (${schedule.timezone ?? 'UTC'})`;
  if (schedule.run_at !== undefined) return `once at ${schedule.run_at}`;
  return '-';
}

/** A paused agent's note a part a line: why, who, and when it resumes by itself. */
function pauseLines(status: AgentStatus): Array<[string, string]> {
  if (status.state !== 'paused') return [];
  const until = status.paused_until ?? null;
  return [
    ['paused because', status.pause_reason ?? '-'],
    ['paused by', status.paused_by ?? '-'],
    ['resumes', until === null ? 'when resumed' : `${formatInstant(until)} (by itself)`],
  ];
}

/** An agent's status as aligned `label  value` lines, for `nightshift agents status`. */
export function statusLines(status: AgentStatus): string[] {
  const instant = (value: string | null) => (value ? formatInstant(value) : '-');
  const lastRun = status.last_run_at
    ? `${instant(status.last_run_at)} ${status.last_run_status ?? ''}`.trimEnd()
    : '-';
  const pairs: Array<[string, string]> = [
    ['agent', status.agent_id],
    ['state', describeState(status)],
    ...pauseLines(status),
    ['tags', status.tags?.length ? status.tags.join(', ') : '-'],
    ['schedule', describeStatusSchedule(status.schedule)],
    ['next run', instant(status.next_run_at)],
    ['last run', lastRun],
    [
      'runs',
      `${status.run_count} (${status.error_count} failed, ${status.skip_count} skipped, ${status.missed_count} missed)`,
    ],
    ['failures in a row', String(status.consecutive_failures)],
    [
      'average duration',
      status.avg_duration_ms === null ? '-' : formatDuration(status.avg_duration_ms),
    ],
    ['tokens', String(status.total_tokens)],
    [
      'cost',
      `${formatUsd(status.cost_today_usd)} today, ${formatUsd(status.cost_month_usd)} this month, ${formatUsd(status.cost_total_usd)} in all`,
    ],
  ];
  if (status.last_error) {
    pairs.push(['last error', `${status.last_error.code}: ${status.last_error.message}`]);
  }
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
}
