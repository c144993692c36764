import type { ApprovalRecord } from '../../storage/contracts/approval-store.js';
import type { ErrorInfo, RunStatus } from '../../storage/contracts/run-store.js';

// The shapes of `GET /api/inbox`, apart from the code that builds them: the dashboard's browser
// scripts are type-checked against them, and they import nothing that needs Node.

/** Where a grant wakes a run waiting for a budget: the `scope` and `window` of `POST /api/budgets/grants`. */
export interface GrantTarget {
  scope: { agent_id: string } | { tag: string } | { fleet: true };
  window: 'per_day' | 'per_month';
}

/** A run waiting for a budget (`awaiting_budget`): a grant wakes it, a denial ends it. */
export interface InboxBudgetWait {
  run_id: string;
  agent_id: string;
  /** When it stopped to wait: the end of its last attempt. */
  waiting_since: string;
  /** What stopped it; `error.budget` says which budget, what the call asked, when it resets. */
  error: ErrorInfo;
  /** Where a grant goes to wake it; null when none can (no budget is named, or a run's own). */
  grant: GrantTarget | null;
}

/** An agent paused by the service after failed runs in a row (`auto_pause_after_failures`). */
export interface InboxPausedAgent {
  agent_id: string;
  pause_reason: string;
  /** When it was paused: its record's last change. */
  paused_at: string;
  consecutive_failures: number;
  last_run_status: RunStatus | null;
  last_error: ErrorInfo | null;
}

/** How many of each are waiting, and in all (what the header of every dashboard page shows). */
export interface InboxCounts {
  approvals: number;
  budget_waits: number;
  paused_agents: number;
  total: number;
}

/** `GET /api/inbox`: everything that waits on a person, each kind newest first. */
export interface OperatorInbox {
  generated_at: string;
  counts: InboxCounts;
  /** Tool calls waiting for a decision (`pending`), newest first. */
  approvals: ApprovalRecord[];
  /** Runs waiting for more budget, the longest waiting last. */
  budget_waits: InboxBudgetWait[];
  /** Agents auto-paused after failures, the most recently paused first. */
  paused_agents: InboxPausedAgent[];
}

/** How many of each kind the inbox lists at most (a fleet with more shows the newest). */
export const INBOX_LISTED = 1000;
