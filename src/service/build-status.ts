import {
  spendPeriodOf,
  withStatsDefaults,
  type AgentRecord,
} from '../storage/contracts/agent-store.js';
import type { AgentStatus } from './agent-status.js';

/**
 * Derives an agent's status from its stored record and what is known of its runs now. The spend
 * of today and this month is what the stats hold for the day and month `now` falls in, in the
 * agent's `timezone` (0 once a new one has begun and no priced run has ended in it yet).
 */
export function buildStatus(
  record: AgentRecord,
  runningRuns: number,
  nextRunAt: Date | undefined,
  invalidReason?: string,
  now: Date = new Date(),
  waitingRuns = 0,
): AgentStatus {
  const { definition } = record;
  // Records written before costs were counted lack the cost fields.
  const stats = withStatsDefaults(record.stats);
  const period = spendPeriodOf(now, definition.timezone);
  return {
    agent_id: record.agent_id,
    state: invalidReason === undefined ? record.state : 'invalid',
    ...(invalidReason === undefined ? {} : { invalid_reason: invalidReason }),
    is_running: runningRuns > 0,
    running_runs: runningRuns,
    waiting_runs: waitingRuns,
    run_count: stats.run_count,
    error_count: stats.error_count,
    skip_count: stats.skip_count,
    missed_count: stats.missed_count,
    consecutive_failures: stats.consecutive_failures,
    last_run_at: stats.last_run_at,
    last_run_status: stats.last_run_status,
    last_error: stats.last_error,
    next_run_at: record.state === 'active' && nextRunAt ? nextRunAt.toISOString() : null,
    avg_duration_ms:
      stats.run_count > 0 ? Math.round(stats.total_duration_ms / stats.run_count) : null,
    total_tokens: stats.total_tokens,
    pause_reason: record.pause_reason,
    paused_by: record.state === 'paused' ? (record.paused_by ?? null) : null,
    paused_until: record.state === 'paused' ? (record.paused_until ?? null) : null,
    // Records stored by an older version may lack the list.
    tags: [...(definition.tags ?? [])],
    created_at: record.created_at,
    updated_at: record.updated_at,
    schedule: {
      ...(definition.interval === undefined ? {} : { interval: definition.interval }),
      ...(definition.cron === undefined ? {} : { cron: definition.cron }),
      ...(definition.timezone === undefined ? {} : { timezone: definition.timezone }),
      ...(definition.run_at === undefined ? {} : { run_at: definition.run_at }),
    },
    cost_today_usd: stats.cost_day?.day === period.day ? stats.cost_day.usd : 0,
    cost_month_usd: stats.cost_month?.month === period.month ? stats.cost_month.usd : 0,
    cost_total_usd: stats.cost_total_usd,
  };
}
