import type { AgentDefinition } from '../../config/agent-definition.js';
import type { ErrorInfo, RunStatus } from './run-store.js';
import { withStatsDefaults, type AgentStats, type StoredAgentStats } from './agent-stats.js';
import { roundUsd } from './usage.js';
import type { AgentState } from './vocabulary.js';

export {
  spendPeriodOf,
  withStatsDefaults,
  type AgentStats,
  type DaySpend,
  type MonthSpend,
  type SpendPeriod,
  type StoredAgentStats,
} from './agent-stats.js';

export type { AgentState } from './vocabulary.js';

/** An agent as stored: its definition, its state and its counters. */
export interface AgentRecord {
  agent_id: string;
  definition: AgentDefinition;
  state: AgentState;
  pause_reason: string | null;
  /**
   * Who paused the agent (a paused agent's note; absent when nobody was named, and on every
   * agent not paused: a change to another state clears it).
   */
  paused_by?: string;
  /**
   * When a timed pause ends (an ISO instant): a manager resumes the agent by itself then. Absent
   * for a pause until resumed, and on every agent not paused.
   */
  paused_until?: string;
  /** Interval schedules tick at `anchor_at + k × interval`; set when the agent is started. */
  anchor_at: string | null;
  created_at: string;
  updated_at: string;
  /** Bumped by every change of definition or state; lets other processes notice changes. */
  version: number;
  stats: AgentStats;
}

/** A change to an agent's counters, applied atomically by the store. */
export interface StatsDelta {
  /** A run that reached a terminal status other than `skipped`. */
  run?: {
    status: RunStatus;
    ended_at: string;
    duration_ms: number;
    total_tokens: number;
    error: ErrorInfo | null;
    /**
     * What the run cost (its `usage.cost_usd`) and the day and month it counts in (where it
     * ended, in the agent's `timezone`); absent when the run has no cost (a free or unpriced model).
     */
    cost?: { usd: number; day: string; month: string };
  };
  skipped?: number;
  missed?: number;
  /** Advances `last_scheduled_at` (never moves it back). */
  scheduled_at?: string;
}

/** Fields of an agent that callers change; the store bumps `version` and `updated_at`. */
export interface AgentPatch {
  definition?: AgentDefinition;
  state?: AgentState;
  pause_reason?: string | null;
  /** `null` removes it; a patch that leaves the agent in a state other than `paused` clears it. */
  paused_by?: string | null;
  /** `null` removes it; a patch that leaves the agent in a state other than `paused` clears it. */
  paused_until?: string | null;
  anchor_at?: string | null;
}

/**
 * What must hold of an agent, as stored when the update applies, for a conditional update to
 * change it: each field given must equal the stored one (`paused_until: null`: no timed pause).
 * Checked and written in one atomic step, so of racing updates with the same condition at most
 * one applies (a timed pause is resumed once, whichever manager gets there first).
 */
export interface AgentCondition {
  state?: AgentState;
  paused_until?: string | null;
}

/** Storage of agent definitions, states and counters. */
export interface AgentStore {
  /** Inserts the agent unless its id exists; returns false when it does. */
  insert(record: AgentRecord): Promise<boolean>;
  get(agentId: string): Promise<AgentRecord | undefined>;
  /** All agents, ordered by agent_id. */
  list(): Promise<AgentRecord[]>;
  /**
   * Applies the patch; returns the new record, or undefined when the agent does not exist or
   * (given a `condition`) the stored agent does not meet it, and then changes nothing.
   */
  update(
    agentId: string,
    patch: AgentPatch,
    condition?: AgentCondition,
  ): Promise<AgentRecord | undefined>;
  /** Applies a counters change atomically; returns the new record, or undefined when absent. */
  updateStats(agentId: string, delta: StatsDelta): Promise<AgentRecord | undefined>;
  /** Deletes the agent; returns false when it did not exist. */
  delete(agentId: string): Promise<boolean>;
}

/** Counters of a new agent. */
export function emptyStats(): AgentStats {
  return {
    run_count: 0,
    error_count: 0,
    skip_count: 0,
    missed_count: 0,
    consecutive_failures: 0,
    last_run_at: null,
    last_run_status: null,
    last_error: null,
    total_tokens: 0,
    total_duration_ms: 0,
    last_scheduled_at: null,
    cost_total_usd: 0,
    cost_day: null,
    cost_month: null,
  };
}

const ERROR_STATUSES: ReadonlySet<RunStatus> = new Set([
  'failed',
  'timed_out',
  'budget_exceeded',
  'interrupted',
]);

/** True for run statuses counted as errors in an agent's status. */
export function isErrorStatus(status: RunStatus): boolean {
  return ERROR_STATUSES.has(status);
}

/**
 * The counters after a delta: the one definition of how stats move, shared by every backend.
 * Counters stored before costs were counted read as no spend. A run's cost adds to the total and
 * to its day's and month's spend; a day or month newer than the stored one starts at the run's
 * cost, and an older one (a run that ended before the newest counted, on a clock behind) adds to
 * the total alone.
 */
export function applyStatsDelta(stats: StoredAgentStats, delta: StatsDelta): AgentStats {
  const next = withStatsDefaults(stats);
  if (delta.run) {
    const { run } = delta;
    if (run.cost) {
      const { usd, day, month } = run.cost;
      next.cost_total_usd = roundUsd(next.cost_total_usd + usd);
      const today = next.cost_day;
      if (!today || day >= today.day) {
        next.cost_day = { day, usd: roundUsd((today?.day === day ? today.usd : 0) + usd) };
      }
      const thisMonth = next.cost_month;
      if (!thisMonth || month >= thisMonth.month) {
        const before = thisMonth?.month === month ? thisMonth.usd : 0;
        next.cost_month = { month, usd: roundUsd(before + usd) };
      }
    }
    next.run_count += 1;
    next.last_run_at = run.ended_at;
    next.last_run_status = run.status;
    next.total_tokens += run.total_tokens;
    next.total_duration_ms += run.duration_ms;
    if (isErrorStatus(run.status)) {
      next.error_count += 1;
      next.consecutive_failures += 1;
      next.last_error = run.error;
    } else if (run.status === 'completed') {
      next.consecutive_failures = 0;
    }
  }
  next.skip_count += delta.skipped ?? 0;
  next.missed_count += delta.missed ?? 0;
  if (
    delta.scheduled_at &&
    (!next.last_scheduled_at || delta.scheduled_at > next.last_scheduled_at)
  ) {
    next.last_scheduled_at = delta.scheduled_at;
  }
  return next;
}
