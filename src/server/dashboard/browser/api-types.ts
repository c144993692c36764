import type { ErrorInfo, RunStatus } from '../../../storage/contracts/run-store.js';
import type { ReportedAgentState } from '../../../storage/contracts/vocabulary.js';

/** An agent as `GET /api/agents` reports it: the fields the pages show. */
export interface AgentView {
  agent_id: string;
  state: ReportedAgentState;
  invalid_reason?: string;
  is_running: boolean;
  run_count: number;
  error_count: number;
  skip_count: number;
  missed_count: number;
  last_run_at: string | null;
  last_run_status: RunStatus | null;
  last_error: ErrorInfo | null;
  next_run_at: string | null;
  avg_duration_ms: number | null;
  total_tokens: number;
  pause_reason: string | null;
}

/** A worker process as `GET /api/workers` reports it. */
export interface WorkerView {
  worker_id: string;
  host: string;
  pid: number;
  started_at: string;
  last_heartbeat: string;
  running_runs: string[];
}
