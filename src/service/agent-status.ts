import type { AgentStats } from '../storage/contracts/agent-stats.js';
import type { ReportedAgentState } from '../storage/contracts/vocabulary.js';

/** What `getAgentStatus` reports about one agent (snake_case, as in events and over HTTP). */
export interface AgentStatus extends Pick<
  AgentStats,
  | 'run_count'
  | 'error_count'
  | 'skip_count'
  | 'missed_count'
  | 'consecutive_failures'
  | 'last_run_at'
  | 'last_run_status'
  | 'last_error'
  | 'total_tokens'
> {
  agent_id: string;
  /** The stored state, or `invalid` when the stored record cannot run (see `invalid_reason`). */
  state: ReportedAgentState;
  /** Why an `invalid` agent cannot run (its stored definition or schedule); fix it with an update. */
  invalid_reason?: string;
  is_running: boolean;
  /** Runs of this agent in flight now. */
  running_runs: number;
  /** Runs of this agent waiting for a budget or a person (`awaiting_budget`, `awaiting_approval`): in no process's hands. */
  waiting_runs: number;
  next_run_at: string | null;
  avg_duration_ms: number | null;
  pause_reason: string | null;
  /** Who paused the agent, when they said (null when not paused, or nobody was named). */
  paused_by: string | null;
  /** When a timed pause ends and the agent resumes by itself (null: not paused, or until resumed). */
  paused_until: string | null;
  /** The agent's tags (its definition's `tags`), for listing and acting by tag. */
  tags: string[];
  created_at: string;
  updated_at: string;
  schedule: { interval?: number; cron?: string; timezone?: string; run_at?: string };
  /** What the agent's runs cost today, in US dollars (the day in the agent's `timezone`, UTC by default). */
  cost_today_usd: number;
  /** What they cost this month (in the agent's `timezone`), in US dollars. */
  cost_month_usd: number;
  /** What every run of the agent cost, in US dollars. */
  cost_total_usd: number;
}
