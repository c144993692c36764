import type { AgentRecord, AgentState, ErrorInfo, RunStatus } from '../storage/contracts/index.js';

/** What `getAgentStatus` reports about one agent (snake_case, as in events and over HTTP). */
export interface AgentStatus {
  agent_id: string;
  /** The stored state, or `invalid` when the stored record cannot run (see `invalid_reason`). */
  state: AgentState | 'invalid';
  /** Why an `invalid` agent cannot run (its stored definition or schedule); fix it with an update. */
  invalid_reason?: string;
  is_running: boolean;
  /** Runs of this agent in flight now. */
  running_runs: number;
  /** Finished runs, skips excluded. */
  run_count: number;
  error_count: number;
  skip_count: number;
  missed_count: number;
  consecutive_failures: number;
  last_run_at: string | null;
  last_run_status: RunStatus | null;
  last_error: ErrorInfo | null;
  next_run_at: string | null;
  avg_duration_ms: number | null;
  total_tokens: number;
  pause_reason: string | null;
  created_at: string;
  updated_at: string;
  schedule: { interval?: number; cron?: string; timezone?: string; run_at?: string };
}

/** Derives an agent's status from its stored record and what is known of its runs now. */
export function buildStatus(
  record: AgentRecord,
  runningRuns: number,
  nextRunAt: Date | undefined,
  invalidReason?: string,
): AgentStatus {
  const { stats, definition } = record;
  return {
    agent_id: record.agent_id,
    state: invalidReason === undefined ? record.state : 'invalid',
    ...(invalidReason === undefined ? {} : { invalid_reason: invalidReason }),
    is_running: runningRuns > 0,
    running_runs: runningRuns,
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
    created_at: record.created_at,
    updated_at: record.updated_at,
    schedule: {
      ...(definition.interval === undefined ? {} : { interval: definition.interval }),
      ...(definition.cron === undefined ? {} : { cron: definition.cron }),
      ...(definition.timezone === undefined ? {} : { timezone: definition.timezone }),
      ...(definition.run_at === undefined ? {} : { run_at: definition.run_at }),
    },
  };
}
