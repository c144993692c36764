import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { serverOptions } from '../command-options.js';
import { requireSelectedApi, type TargetSelection } from '../fleet-target.js';

/** Options of `nightshift budgets deny`. */
export interface BudgetDenyCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  by: string;
  note: string;
  json?: boolean;
}

/**
 * Registers `nightshift budgets deny <run_id>` under `nightshift budgets`: a run waiting for a
 * budget (`awaiting_budget`) ends `budget_exceeded` instead of waiting for a grant or the reset.
 */
export function registerBudgetDenyCommand(budgets: Command, context: CliContext): void {
  serverOptions(
    budgets
      .command('deny')
      .description(
        'refuse a run waiting for a budget (awaiting_budget) more, through a server: it ends budget_exceeded, its error saying who denied it and why',
      )
      .argument(
        '<run_id>',
        'the waiting run (`nightshift runs <agent_id> --status awaiting_budget`)',
      )
      .requiredOption('--by <name>', 'who denies it, kept in its error')
      .requiredOption('--note <text>', 'why, kept in its error'),
  )
    .option('--json', 'print the run as it ended, as JSON')
    .action((runId: string, options: BudgetDenyCommandOptions) =>
      budgetDenyCommand(runId, options, context),
    );
}

async function budgetDenyCommand(
  runId: string,
  options: BudgetDenyCommandOptions,
  context: CliContext,
): Promise<void> {
  const { api, say } = requireSelectedApi(
    options,
    context,
    'budgets deny asks a running Nightshift to end a waiting run',
  );
  const run = await api.denyBudget(runId, { by: options.by, note: options.note });
  if (options.json) {
    say(JSON.stringify(run, null, 2));
    return;
  }
  say(`${run.run_id} ended ${run.status}: ${run.error?.message ?? ''}`);
}
