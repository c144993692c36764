import type { ErrorInfo, RunStatus } from '../storage/contracts/run-store.js';
import type { ReportedAgentState } from '../storage/contracts/vocabulary.js';

/** What `getAgentStatus` reports about one agent (snake_case, as in events and over HTTP). */
export interface AgentStatus {
  agent_id: string;
  /** The stored state, or `invalid` when the stored record cannot run (see `invalid_reason`). */
  state: ReportedAgentState;
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
