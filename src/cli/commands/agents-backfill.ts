import { formatUsd } from '../../server/index.js';
import type {
  BackfillBudget,
  BackfillEstimate,
  BackfillPlan,
  BackfillTick,
} from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { formatInstant } from '../event-line.js';
import { requireSelectedApi, type TargetSelection } from '../fleet-target.js';
import { formatTable, type TableColumn } from '../table.js';

/** Options of `nightshift agents backfill`. */
export interface BackfillCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  from: string;
  to: string;
  /** Print the plan, start nothing. */
  dryRun?: boolean;
  json?: boolean;
}

const TICK_COLUMNS: TableColumn[] = [{ header: 'TICK' }, { header: 'STATUS' }, { header: 'RUN' }];

const BUDGET_COLUMNS: TableColumn[] = [
  { header: 'SCOPE' },
  { header: 'NAME' },
  { header: 'WINDOW' },
  { header: 'LEFT', align: 'right' },
  { header: 'RUNS THAT FIT', align: 'right' },
  { header: 'RESETS' },
];

/**
 * `nightshift agents backfill <agent_id> --from <iso> --to <iso> [--dry-run]`: asks the server
 * to run the ticks of a past range of the agent's schedule that have no run yet, within what is
 * left of its budgets (its own, its tags', the fleet's, which are the server's); prints each
 * tick, the estimate per run and the budgets. The ticks that fit run one after another in the
 * server's background; `nightshift runs <agent_id>` follows them.
 */
export async function agentBackfillCommand(
  agentId: string,
  options: BackfillCommandOptions,
  context: CliContext,
): Promise<void> {
  const { api, say } = requireSelectedApi(
    options,
    context,
    "agents backfill asks a running Nightshift to run the ticks (the budgets they are planned within are the server's)",
  );
  const plan = await api.backfill(agentId, {
    from: options.from,
    to: options.to,
    dry_run: options.dryRun === true,
  });
  if (options.json) {
    say(JSON.stringify(plan, null, 2));
    return;
  }
  for (const line of describePlan(plan)) say(line);
}

/** The plan in lines: what was done, the ticks, the estimate, the budgets and the notes. */
export function describePlan(plan: BackfillPlan): string[] {
  const range = `${formatInstant(plan.from)} to ${formatInstant(plan.to)}`;
  if (plan.ticks.length === 0) return [`no tick of ${plan.agent_id}'s schedule from ${range}`];
  const { already_ran: ran, fits, queued, over_budget: over } = plan.counts;
  const ticks = `${plan.ticks.length} tick${plan.ticks.length === 1 ? '' : 's'}`;
  const head = plan.dry_run
    ? `dry run: ${ticks} of ${plan.agent_id} from ${range}: ${fits} would run, ${over} over budget, ${ran} already ran`
    : `backfill of ${plan.agent_id} from ${range}: ${queued} of ${ticks} queued (they run one after another), ${over} over budget, ${ran} already ran`;
  const lines = [
    head,
    ...formatTable(
      TICK_COLUMNS,
      plan.ticks.map((tick) => [formatInstant(tick.scheduled_at), tickStatus(tick), tick.run_id]),
    ),
    describeEstimate(plan.estimate),
  ];
  if (plan.budgets.length > 0) lines.push(...formatTable(BUDGET_COLUMNS, budgetRows(plan.budgets)));
  for (const note of plan.notes) lines.push(`note: ${note}`);
  return lines;
}

function tickStatus(tick: BackfillTick): string {
  if (tick.status === 'already_ran') return `already ran (${tick.run_status ?? '?'})`;
  return tick.status.replace('_', ' ');
}

/** `estimate per run: $0.0066, 3,150 tokens, 2 requests (the mean of 3 recent runs)`. */
function describeEstimate(estimate: BackfillEstimate): string {
  const perRun = estimate.per_run;
  if (!perRun) return 'estimate per run: unknown (no ended run made a model request)';
  const parts = [
    perRun.cost_usd === null ? 'cost unknown' : formatUsd(perRun.cost_usd),
    `${perRun.total_tokens.toLocaleString('en-US')} tokens`,
    plural(perRun.requests, 'request'),
    ...(perRun.tool_calls === null ? [] : [plural(perRun.tool_calls, 'tool call')]),
  ];
  return `estimate per run: ${parts.join(', ')} (the mean of ${plural(estimate.runs, 'recent run')})`;
}

function budgetRows(budgets: readonly BackfillBudget[]): string[][] {
  return budgets.map((budget) => {
    const left = [
      budget.left.usd === undefined ? undefined : formatUsd(budget.left.usd),
      budget.left.tokens === undefined ? undefined : plural(budget.left.tokens, 'token'),
      budget.left.requests === undefined ? undefined : plural(budget.left.requests, 'request'),
      budget.left.tool_calls === undefined
        ? undefined
        : plural(budget.left.tool_calls, 'tool call'),
    ].filter((part) => part !== undefined);
    return [
      budget.scope,
      budget.name ?? '-',
      budget.window,
      left.join(', '),
      budget.runs_that_fit === null ? '-' : String(budget.runs_that_fit),
      formatInstant(budget.resets_at),
    ];
  });
}

function plural(amount: number, unit: string): string {
  return `${amount.toLocaleString('en-US')} ${unit}${amount === 1 ? '' : 's'}`;
}
