import type { AgentDefinition } from '../config/agent-definition.js';
import type { RunRecord, RunStatus } from '../storage/contracts/index.js';
import type { BudgetView } from './budgets/budget-grants.js';

/** What a tick of a backfill is: run already, fits the budgets, started, or left out. */
export const BACKFILL_TICK_STATUSES = ['already_ran', 'fits', 'queued', 'over_budget'] as const;

/**
 * `already_ran`: a run record exists for the tick; `fits`: a dry run would start it;
 * `queued`: it is started, after the ticks before it; `over_budget`: the estimate says it
 * does not fit what is left of a budget.
 */
export type BackfillTickStatus = (typeof BACKFILL_TICK_STATUSES)[number];

/** One tick of the range. */
export interface BackfillTick {
  /** The tick's nominal time: the run's `scheduled_at`. */
  scheduled_at: string;
  /** The run id of the tick, as the schedule derives it: a tick runs once, whoever runs it. */
  run_id: string;
  status: BackfillTickStatus;
  /** The status of the tick's run record when it already ran; null otherwise. */
  run_status: RunStatus | null;
}

/** A run's expected usage: the mean of the agent's recent runs. */
export interface BackfillRunEstimate {
  /** US dollars; null when none of those runs recorded a cost (an unpriced model). */
  cost_usd: number | null;
  total_tokens: number;
  requests: number;
  /** Null when not counted: no budget that applies caps tool calls. */
  tool_calls: number | null;
}

/** What one run of the agent is expected to use, and what that rests on. */
export interface BackfillEstimate {
  /** How many recent runs the estimate is the mean of (ended runs that made a request); 0 without history. */
  runs: number;
  /** The mean per run; null without history: the estimate is unknown. */
  per_run: BackfillRunEstimate | null;
}

/** What a budget counts, by the names budgets use. */
export type BackfillDimension = 'usd' | 'tokens' | 'requests' | 'tool_calls';

/** One day or month budget that applies to the agent now, and how many estimated runs it takes. */
export interface BackfillBudget {
  scope: BudgetView['scope'];
  /** The agent id or the tag; null for the fleet. */
  name: string | null;
  window: BudgetView['window'];
  /** The counter's key, e.g. `agent:archiver:per_day:2026-12-03`. */
  budget: string;
  resets_at: string;
  /** What is left of each capped dimension (limit + granted − spent − held, at least 0), in its unit. */
  left: {
    usd?: number | undefined;
    tokens?: number | undefined;
    requests?: number | undefined;
    tool_calls?: number | undefined;
  };
  /**
   * How many estimated runs fit what is left; null when the estimate sets no limit (it is
   * unknown, or 0, in every dimension the budget caps).
   */
  runs_that_fit: number | null;
}

/** What a backfill plans (a dry run), or started. */
export interface BackfillPlan {
  agent_id: string;
  /** The range, as ISO instants (both ends included). */
  from: string;
  to: string;
  dry_run: boolean;
  /** Every tick of the agent's schedule in the range, oldest first. */
  ticks: BackfillTick[];
  /** How many ticks are in each status. */
  counts: Record<BackfillTickStatus, number>;
  estimate: BackfillEstimate;
  /** Every day and month budget that applies to the agent (its own, its tags', the fleet's). */
  budgets: BackfillBudget[];
  /** What the plan rests on, in words: no history, a dimension without an estimate … */
  notes: string[];
}

/** How many of the agent's recent runs price a tick. */
export const ESTIMATE_RUNS = 20;

/**
 * Each dimension counted in whole units of this size, so that sums and comparisons are exact:
 * dollars to the millionth (as budgets count them), requests and tool calls to the hundredth
 * (a mean may be 1.5 requests), tokens whole.
 */
const SCALE: Record<BackfillDimension, number> = {
  usd: 1_000_000,
  tokens: 1,
  requests: 100,
  tool_calls: 100,
};

const DIMENSIONS = Object.keys(SCALE) as BackfillDimension[];

/** A mean in whole units of its dimension's scale, rounded up: an estimate errs on the dear side. */
function scaledMean(values: readonly number[], dimension: BackfillDimension): number {
  const scale = SCALE[dimension];
  const total = values.reduce((sum, value) => sum + Math.round(value * scale), 0);
  return Math.ceil(total / values.length);
}

/**
 * Which of an agent's runs (newest first) price a tick: the newest ended ones that made at
 * least one model request (a skipped tick or a run refused at its first call tells nothing of
 * what a run costs), at most {@link ESTIMATE_RUNS}.
 */
export function pricingRuns(runs: readonly RunRecord[]): RunRecord[] {
  return runs
    .filter((run) => run.ended_at !== null && run.usage.requests > 0)
    .sort((a, b) => Date.parse(b.ended_at ?? '') - Date.parse(a.ended_at ?? ''))
    .slice(0, ESTIMATE_RUNS);
}

/**
 * The mean usage of `runs` (see {@link pricingRuns}); `toolCalls`, when given, holds each run's
 * number of tool calls in the same order.
 */
export function estimateOf(
  runs: readonly RunRecord[],
  toolCalls: readonly number[] | undefined,
): BackfillEstimate {
  if (runs.length === 0) return { runs: 0, per_run: null };
  const costs = runs.flatMap((run) =>
    run.usage.cost_usd === undefined ? [] : [run.usage.cost_usd],
  );
  const mean = (values: readonly number[], dimension: BackfillDimension) =>
    scaledMean(values, dimension) / SCALE[dimension];
  return {
    runs: runs.length,
    per_run: {
      cost_usd: costs.length === 0 ? null : mean(costs, 'usd'),
      total_tokens: mean(
        runs.map((run) => run.usage.total_tokens),
        'tokens',
      ),
      requests: mean(
        runs.map((run) => run.usage.requests),
        'requests',
      ),
      tool_calls: toolCalls === undefined ? null : mean(toolCalls, 'tool_calls'),
    },
  };
}

/** The estimate of one dimension, null when unknown. */
function estimated(estimate: BackfillEstimate, dimension: BackfillDimension): number | null {
  const perRun = estimate.per_run;
  if (!perRun) return null;
  switch (dimension) {
    case 'usd':
      return perRun.cost_usd;
    case 'tokens':
      return perRun.total_tokens;
    default:
      return perRun[dimension];
  }
}

/** Whether a budget applies to the agent's runs: its own, one of its tags', the fleet's. */
export function appliesTo(view: BudgetView, definition: AgentDefinition): boolean {
  if (view.scope === 'fleet') return true;
  if (view.scope === 'tag') return view.name !== null && definition.tags.includes(view.name);
  return view.name === definition.agent_id;
}

/** Whether any of the budgets caps tool calls (then the estimate counts them). */
export function capsToolCalls(views: readonly BudgetView[]): boolean {
  return views.some((view) => view.limits.tool_calls !== undefined);
}

/** A budget as the plan shows it: what is left now, and how many estimated runs that takes. */
export function budgetOf(view: BudgetView, estimate: BackfillEstimate): BackfillBudget {
  const left: BackfillBudget['left'] = {};
  let fit: number | null = null;
  for (const dimension of DIMENSIONS) {
    const limit = view.limits[dimension];
    if (limit === undefined) continue;
    const scale = SCALE[dimension];
    const available =
      Math.round(limit * scale) +
      Math.round(view.granted[dimension] * scale) -
      Math.round(view.spent[dimension] * scale) -
      Math.round(view.held[dimension] * scale);
    const remaining = Math.max(0, available);
    left[dimension] = remaining / scale;
    const perRun = estimated(estimate, dimension);
    if (perRun === null) continue;
    const scaledPerRun = Math.round(perRun * scale);
    // A run expected to use none of it (a free model's dollars) is not limited by it.
    if (scaledPerRun === 0) continue;
    const runs = Math.floor(remaining / scaledPerRun);
    fit = fit === null ? runs : Math.min(fit, runs);
  }
  return {
    scope: view.scope,
    name: view.name,
    window: view.window,
    budget: view.budget,
    resets_at: view.resets_at,
    left,
    runs_that_fit: fit,
  };
}

/**
 * How many ticks may start, oldest first: the fewest estimated runs any budget takes. Without
 * budgets, or without an estimate for what they cap, every tick.
 */
export function ticksThatFit(budgets: readonly BackfillBudget[], ticks: number): number {
  let fit = ticks;
  for (const budget of budgets)
    if (budget.runs_that_fit !== null) fit = Math.min(fit, budget.runs_that_fit);
  return fit;
}

/** What the plan rests on, in words. */
export function planNotes(
  estimate: BackfillEstimate,
  budgets: readonly BackfillBudget[],
): string[] {
  const notes: string[] = [];
  if (estimate.per_run === null) {
    notes.push(
      'no ended run of the agent made a model request: the estimate is unknown, so no tick is left out for its cost',
    );
  } else {
    notes.push(
      `the estimate is the mean of the agent's last ${estimate.runs} ended run${estimate.runs === 1 ? '' : 's'} that made a model request`,
    );
  }
  if (budgets.length === 0) {
    notes.push('no day or month budget applies to the agent: every tick fits');
    return notes;
  }
  const unknown = new Set<BackfillDimension>();
  for (const budget of budgets) {
    for (const dimension of DIMENSIONS) {
      if (budget.left[dimension] !== undefined && estimated(estimate, dimension) === null)
        unknown.add(dimension);
    }
  }
  if (unknown.size > 0) {
    notes.push(
      `no estimate of ${[...unknown].join(', ')}, which a budget caps: those budgets do not limit the plan`,
    );
  }
  notes.push(
    'each model call and tool call is still held against every budget when it is made: a run that would cross one stops there, and the backfill with it',
  );
  return notes;
}
