import { Cron } from 'croner';
import type { AgentDefinition } from '../../config/agent-definition.js';
import { usdToMicroUsd } from '../../config/pricing.js';
import type { BUDGET_DIMENSION_NAMES } from '../../errors.js';
import { BUDGET_WINDOWS, type BudgetErrorCode } from '../../errors.js';
import {
  spendPeriodOf,
  type BudgetAmounts,
  type BudgetDimension,
  type BudgetLine,
} from '../../storage/contracts/index.js';

/** One window's caps as a definition writes them. */
export interface BudgetLimits {
  usd?: number | undefined;
  tokens?: number | undefined;
  requests?: number | undefined;
  tool_calls?: number | undefined;
}

/** A day's and a month's caps (the fleet's, a tag's). */
export interface WindowLimits {
  per_day?: BudgetLimits | undefined;
  per_month?: BudgetLimits | undefined;
}

/** Budgets beyond each agent's own: the whole fleet's, and each tag's (days and months in UTC). */
export interface FleetBudgets {
  fleet?: WindowLimits | undefined;
  tags?: Readonly<Record<string, WindowLimits>> | undefined;
}

/** Who a line belongs to, to name it in an error. */
type Scope = { kind: 'run' } | { kind: 'agent' } | { kind: 'tag'; tag: string } | { kind: 'fleet' };

/** A budget line with what the service needs to say which budget stopped a run. */
export interface NamedBudgetLine extends BudgetLine {
  scope: Scope;
  window: 'per_run' | (typeof BUDGET_WINDOWS)[number];
}

/** How long a run's own counter is kept after its run started: past any run's life. */
const RUN_COUNTER_DAYS = 35;

/** A definition's caps as the store counts them (dollars in millionths, rounded down). */
export function storeLimits(limits: BudgetLimits): BudgetAmounts {
  const amounts: BudgetAmounts = {};
  if (limits.usd !== undefined) amounts.micro_usd = usdToMicroUsd(limits.usd);
  if (limits.tokens !== undefined) amounts.tokens = limits.tokens;
  if (limits.requests !== undefined) amounts.requests = limits.requests;
  if (limits.tool_calls !== undefined) amounts.tool_calls = limits.tool_calls;
  return amounts;
}

/** When the window that `at` is in ends, in `timeZone`: the next midnight, or the next 1st. */
export function windowEnd(window: 'per_day' | 'per_month', at: Date, timeZone: string): Date {
  const pattern = window === 'per_day' ? '0 0 0 * * *' : '0 0 0 1 * *';
  const next = new Cron(pattern, { timezone: timeZone, paused: true }).nextRun(at);
  if (!next) throw new Error(`no end of the ${window} window after ${at.toISOString()}`);
  return next;
}

/** Window ends already worked out, by window, zone and day or month: a hold asks often. */
const windowEnds = new Map<string, string>();
const MAX_CACHED_WINDOW_ENDS = 1_000;

/** A window's key (`2026-12-03`, `2026-12`) and when it ends (ISO), for the instant `at`. */
function windowOf(
  window: 'per_day' | 'per_month',
  at: Date,
  timeZone: string,
): { key: string; resetsAt: string } {
  const period = spendPeriodOf(at, timeZone);
  const key = window === 'per_day' ? period.day : period.month;
  const cacheKey = `${window} ${timeZone} ${key}`;
  let resetsAt = windowEnds.get(cacheKey);
  if (resetsAt === undefined) {
    resetsAt = windowEnd(window, at, timeZone).toISOString();
    if (windowEnds.size >= MAX_CACHED_WINDOW_ENDS) windowEnds.clear();
    windowEnds.set(cacheKey, resetsAt);
  }
  return { key, resetsAt };
}

/** Whether any budget applies to the agent's runs, without working the windows out. */
export function budgetsApply(definition: AgentDefinition, fleet: FleetBudgets): boolean {
  const own = definition.budget_config;
  if (own && (own.per_run || own.per_day || own.per_month)) return true;
  if (fleet.fleet?.per_day || fleet.fleet?.per_month) return true;
  const tags = fleet.tags;
  return (
    tags !== undefined &&
    definition.tags.some(
      (tag) => Object.hasOwn(tags, tag) && (tags[tag]?.per_day || tags[tag]?.per_month),
    )
  );
}

/**
 * Every budget a run of this agent is held against at `at`, in order: the run's own, the
 * agent's day and month (in its `timezone`, UTC by default), each tag's, the fleet's (UTC).
 * Empty when none applies: such a run is not held at all.
 */
export function budgetLinesOf(
  definition: AgentDefinition,
  runId: string,
  fleet: FleetBudgets,
  at: Date,
): NamedBudgetLine[] {
  const lines: NamedBudgetLine[] = [];
  const own = definition.budget_config;
  if (own?.per_run) {
    lines.push({
      key: `run:${runId}`,
      limits: storeLimits(own.per_run),
      resets_at: new Date(at.getTime() + RUN_COUNTER_DAYS * 86_400_000).toISOString(),
      scope: { kind: 'run' },
      window: 'per_run',
    });
  }
  for (const { line } of agentWindowLines(definition, at)) lines.push(line);
  for (const tag of definition.tags) {
    const limits = fleet.tags && Object.hasOwn(fleet.tags, tag) ? fleet.tags[tag] : undefined;
    for (const { line } of windowLines(`tag:${tag}`, limits, 'UTC', { kind: 'tag', tag }, at))
      lines.push(line);
  }
  for (const { line } of windowLines('fleet', fleet.fleet, 'UTC', { kind: 'fleet' }, at))
    lines.push(line);
  return lines;
}

/** A line and the caps it was made from, as configured (dollars, not millionths). */
export interface ConfiguredLine {
  line: NamedBudgetLine;
  limits: BudgetLimits;
}

function windowLines(
  prefix: string,
  limits: WindowLimits | undefined,
  zone: string,
  scope: Scope,
  at: Date,
): ConfiguredLine[] {
  const lines: ConfiguredLine[] = [];
  for (const window of BUDGET_WINDOWS) {
    const caps = limits?.[window];
    if (!caps) continue;
    const { key, resetsAt } = windowOf(window, at, zone);
    lines.push({
      line: {
        key: `${prefix}:${window}:${key}`,
        limits: storeLimits(caps),
        resets_at: resetsAt,
        scope,
        window,
      },
      limits: caps,
    });
  }
  return lines;
}

/** An agent's own day and month budgets at `at` (days and months in its `timezone`). */
export function agentWindowLines(definition: AgentDefinition, at: Date): ConfiguredLine[] {
  return windowLines(
    `agent:${definition.agent_id}`,
    definition.budget_config,
    definition.timezone ?? 'UTC',
    { kind: 'agent' },
    at,
  );
}

/** Every tag's and the fleet's day and month budgets at `at` (UTC). */
export function sharedWindowLines(fleet: FleetBudgets, at: Date): ConfiguredLine[] {
  const lines: ConfiguredLine[] = [];
  for (const [tag, limits] of Object.entries(fleet.tags ?? {}))
    lines.push(...windowLines(`tag:${tag}`, limits, 'UTC', { kind: 'tag', tag }, at));
  lines.push(...windowLines('fleet', fleet.fleet, 'UTC', { kind: 'fleet' }, at));
  return lines;
}

/** Each stored dimension by the name budgets and errors use (`micro_usd` is `usd`). */
export const DIMENSION_NAME: Record<BudgetDimension, (typeof BUDGET_DIMENSION_NAMES)[number]> = {
  micro_usd: 'usd',
  tokens: 'tokens',
  requests: 'requests',
  tool_calls: 'tool_calls',
};

/** The error code naming a line's budget: `budget.run.usd`, `budget.agent.per_day.usd`, … */
export function budgetCode(line: NamedBudgetLine, dimension: BudgetDimension): BudgetErrorCode {
  const name = DIMENSION_NAME[dimension];
  if (line.scope.kind === 'run') return `budget.run.${name}`;
  return `budget.${line.scope.kind}.${line.window as 'per_day'}.${name}`;
}

/** A line's budget in words: `the agent's per_day budget`, `tag "nightly"'s per_month budget`. */
export function describeLine(line: NamedBudgetLine): string {
  switch (line.scope.kind) {
    case 'run':
      return "the run's budget (budget_config.per_run)";
    case 'agent':
      return `the agent's ${line.window} budget (budget_config.${line.window})`;
    case 'tag':
      return `tag "${line.scope.tag}"'s ${line.window} budget (budgets.tags.${line.scope.tag}.${line.window})`;
    case 'fleet':
      return `the fleet's ${line.window} budget (budgets.fleet.${line.window})`;
  }
}

/** An amount of a dimension in words: `$0.0123`, `4,096 tokens`. */
export function describeAmount(dimension: BudgetDimension, amount: number): string {
  if (dimension === 'micro_usd') return `$${(amount / 1_000_000).toFixed(6).replace(/0+$/, '0')}`;
  return `${amount.toLocaleString('en-US')} ${DIMENSION_NAME[dimension].replace('_', ' ')}`;
}
