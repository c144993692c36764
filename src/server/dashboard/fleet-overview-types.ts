import type { ErrorInfo, RunStatus } from '../../storage/contracts/run-store.js';
import type { ReportedAgentState } from '../../storage/contracts/vocabulary.js';

// The shapes of `GET /api/overview`, apart from the code that builds them: the dashboard's
// browser scripts are type-checked against them, and they import nothing that needs Node.

/** One bar of the runs chart: runs that ended in `[start, start + bucket)`, by status. */
export interface RunBucket {
  start: string;
  counts: Partial<Record<RunStatus, number>>;
}

/** One bar of the failures chart. */
export interface FailureBucket {
  start: string;
  end: string;
  count: number;
}

/** A run that ended in an error status, for the list beside the chart. */
export interface RecentFailure {
  run_id: string;
  agent_id: string;
  status: RunStatus;
  ended_at: string;
  error: ErrorInfo | null;
}

/** `GET /api/overview`: the fleet at a glance, from bounded reads. */
export interface FleetOverview {
  generated_at: string;
  window: { start: string; end: string; hours: number; bucket_minutes: number };
  agents: {
    total: number;
    /** Agents per state (`invalid`: the stored record cannot run). */
    by_state: Record<ReportedAgentState, number>;
    invalid: Array<{ agent_id: string; invalid_reason: string }>;
  };
  in_flight: { runs: number; agents: Array<{ agent_id: string; running_runs: number }> };
  runs: {
    buckets: RunBucket[];
    /** Runs that ended in the window, by status. */
    totals: Partial<Record<RunStatus, number>>;
    failures: number;
    failures_by_hour: FailureBucket[];
    recent_failures: RecentFailure[];
  };
  /** Runs that ended since `since` (the viewer's midnight): requests, tokens and spend. */
  usage_today: {
    since: string;
    runs: number;
    requests: number;
    input_tokens: number;
    output_tokens: number;
    total_tokens: number;
    /** What those runs cost, in US dollars (runs of free or unpriced models count 0). */
    cost_usd: number;
    /** False when some agent had more runs than the read bound: the sums are a lower bound. */
    complete: boolean;
  };
  /** What was read, and from when the run counts are complete (null: the whole window). */
  coverage: { agents_read: number; runs_read: number; complete_since: string | null };
}
