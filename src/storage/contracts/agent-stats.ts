import type { ErrorInfo, RunStatus } from './run-store.js';

/** Counters kept per agent, updated atomically as runs end. */
export interface AgentStats {
  /** Finished runs, skips excluded. */
  run_count: number;
  /** Runs that ended failed, timed_out, budget_exceeded or interrupted. */
  error_count: number;
  skip_count: number;
  missed_count: number;
  /** Runs in a row that ended in an error status (reset by a completed run). */
  consecutive_failures: number;
  last_run_at: string | null;
  last_run_status: RunStatus | null;
  last_error: ErrorInfo | null;
  total_tokens: number;
  total_duration_ms: number;
  /** The newest tick the schedule has dealt with (run, skipped or counted missed). */
  last_scheduled_at: string | null;
}
