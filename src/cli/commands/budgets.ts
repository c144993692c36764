import { InvalidArgumentError, Option, type Command } from 'commander';
import { BUDGET_DIMENSION_NAMES, BUDGET_WINDOWS, NightshiftError } from '../../errors.js';
import { formatUsd } from '../../server/index.js';
import type { BudgetGrantInput, BudgetGrantRecord, BudgetView } from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { registerBudgetDenyCommand } from './budget-deny.js';
import { serverOptions } from '../command-options.js';
import { expiresArgument } from '../expires-argument.js';
import { formatInstant } from '../event-line.js';
import { requireSelectedApi, type TargetSelection } from '../fleet-target.js';
import { formatTable, type TableColumn } from '../table.js';

/** Options of `nightshift budgets [list]`. */
export interface BudgetsCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  json?: boolean;
}

/** Options of `nightshift budgets grant`. */
export interface BudgetGrantCommandOptions extends BudgetsCommandOptions {
  agent?: string;
  tag?: string;
  fleet?: boolean;
  window: BudgetGrantInput['window'];
  usd?: number;
  tokens?: number;
  requests?: number;
  toolCalls?: number;
  by: string;
  note: string;
  /** An instant (ISO 8601) the grant stops counting at, `--expires` made into one. */
  expires?: string;
}

/** What a budget counts. */
type Dimension = (typeof BUDGET_DIMENSION_NAMES)[number];

const COLUMNS: TableColumn[] = [
  { header: 'SCOPE' },
  { header: 'NAME' },
  { header: 'WINDOW' },
  { header: 'SPENT', align: 'right' },
  { header: 'HELD', align: 'right' },
  { header: 'GRANTED', align: 'right' },
  { header: 'LIMIT', align: 'right' },
  { header: 'RESETS' },
];

/** The table of grants that expire, under the budgets. */
const EXPIRING_COLUMNS: TableColumn[] = [
  { header: 'SCOPE' },
  { header: 'NAME' },
  { header: 'WINDOW' },
  { header: 'GRANTED', align: 'right' },
  { header: 'EXPIRES' },
  { header: 'STATE' },
  { header: 'BY' },
];

/** The amount flags of `budgets grant`, with the dimension each grants. */
const AMOUNT_FLAGS: ReadonlyArray<[Dimension, string]> = [
  ['usd', '--usd'],
  ['tokens', '--tokens'],
  ['requests', '--requests'],
  ['tool_calls', '--tool-calls'],
];

/** Registers `nightshift budgets` and `nightshift budgets grant` on the program. */
export function registerBudgetsCommand(program: Command, context: CliContext): void {
  const budgets = program
    .command('budgets')
    .description(
      "show every agent's, tag's and the fleet's day and month budget through a server, and grant more",
    );

  serverOptions(
    budgets
      .command('list', { isDefault: true })
      .description(
        'list the budgets as they stand: spent, held by calls in flight, granted, the limit and when the window resets (the default); then the grants of the current windows that expire, counting or expired',
      ),
  )
    .option('--json', 'print JSON (the budgets and the newest grants) instead of a table')
    .action((options: BudgetsCommandOptions) => budgetsListCommand(options, context));

  serverOptions(
    budgets
      .command('grant')
      .description(
        "grant more of one window of a budget (an agent's, a tag's or the fleet's) until that window resets or --expires, through a server; prints the grant and the budget after it",
      )
      .addOption(
        new Option('--agent <agent_id>', "the agent's own budget").conflicts(['tag', 'fleet']),
      )
      .addOption(new Option('--tag <tag>', "the tag's budget").conflicts(['agent', 'fleet']))
      .addOption(new Option('--fleet', "the whole fleet's budget").conflicts(['agent', 'tag']))
      .addOption(
        new Option('--window <window>', "the day's or the month's budget")
          .choices(BUDGET_WINDOWS)
          .makeOptionMandatory(),
      )
      .addOption(new Option('--usd <dollars>', 'more US dollars').argParser(nonNegativeNumber))
      .addOption(new Option('--tokens <n>', 'more tokens').argParser(nonNegativeInteger))
      .addOption(new Option('--requests <n>', 'more model requests').argParser(nonNegativeInteger))
      .addOption(new Option('--tool-calls <n>', 'more tool calls').argParser(nonNegativeInteger))
      .requiredOption('--by <name>', 'who grants it, kept with the grant')
      .requiredOption('--note <text>', 'why, kept with the grant')
      .addOption(
        new Option(
          '--expires <when>',
          'stop counting the grant then, if before the window resets: an ISO 8601 instant (2026-12-03T18:00:00Z) or a duration from now (30m, 2h, 1d)',
        ).argParser(expiresArgument()),
      ),
  )
    .option('--json', 'print JSON (the grant and the budget)')
    .action((options: BudgetGrantCommandOptions) => budgetGrantCommand(options, context));

  registerBudgetDenyCommand(budgets, context);
}

/** `nightshift budgets [list]`: one row per budget and capped dimension, through `GET /api/budgets`. */
async function budgetsListCommand(
  options: BudgetsCommandOptions,
  context: CliContext,
): Promise<void> {
  const { api, say } = requireSelectedApi(
    options,
    context,
    'budgets asks a running Nightshift for its budgets (the fleet and tag budgets are its own)',
  );
  const answer = await api.getBudgets();
  if (options.json) {
    say(JSON.stringify(answer, null, 2));
    return;
  }
  if (answer.budgets.length === 0) {
    say(`no budgets at ${api.url}`);
    say(
      "an agent's budget_config.per_day / per_month, and the file's budgets.tags and budgets.fleet, make them",
    );
    return;
  }
  for (const line of budgetTable(answer.budgets)) say(line);
  const expiring = expiringGrants(answer.grants);
  if (expiring.length === 0) return;
  say('');
  say('grants that expire:');
  for (const line of expiringTable(expiring)) say(line);
}

/** `nightshift budgets grant …`: `POST /api/budgets/grants`, then the grant and the budget. */
async function budgetGrantCommand(
  options: BudgetGrantCommandOptions,
  context: CliContext,
): Promise<void> {
  const input = grantInput(options);
  const { api, say } = requireSelectedApi(
    options,
    context,
    'budgets grant asks a running Nightshift to grant more',
  );
  const { grant, budget } = await api.grantBudget(input);
  if (options.json) {
    say(JSON.stringify({ grant, budget }, null, 2));
    return;
  }
  say(
    `granted ${describeAmounts(grant)} to ${describeScope(grant)}, ${grant.window}, until ${formatInstant(grantEnd(grant))} (${grant.grant_id}, by ${grant.by}: ${grant.note})`,
  );
  for (const line of budgetTable([budget])) say(line);
}

/** The request body the options stand for; `config_invalid` naming the flags when one is missing. */
function grantInput(options: BudgetGrantCommandOptions): BudgetGrantInput {
  const scope: BudgetGrantInput['scope'] | undefined =
    options.agent !== undefined
      ? { agent_id: options.agent }
      : options.tag !== undefined
        ? { tag: options.tag }
        : options.fleet
          ? { fleet: true }
          : undefined;
  if (scope === undefined) {
    throw new NightshiftError(
      'config_invalid',
      'say whose budget: --agent <agent_id>, --tag <tag> or --fleet',
    );
  }
  const amounts = {
    usd: options.usd,
    tokens: options.tokens,
    requests: options.requests,
    tool_calls: options.toolCalls,
  };
  if (Object.values(amounts).every((amount) => amount === undefined)) {
    throw new NightshiftError(
      'config_invalid',
      `say how much more: ${AMOUNT_FLAGS.map(([, flag]) => flag).join(', ')} (one or more)`,
    );
  }
  const given = Object.fromEntries(
    Object.entries(amounts).filter(([, amount]) => amount !== undefined),
  ) as Pick<BudgetGrantInput, Dimension>;
  return {
    scope,
    window: options.window,
    ...given,
    by: options.by,
    note: options.note,
    ...(options.expires === undefined ? {} : { expires_at: options.expires }),
  };
}

/** When a grant stops counting: its `expires_at`, or its window's reset when that comes first. */
function grantEnd(grant: BudgetGrantRecord): string {
  const { expires_at: expiresAt, resets_at: resetsAt } = grant;
  return expiresAt !== null && Date.parse(expiresAt) < Date.parse(resetsAt) ? expiresAt : resetsAt;
}

/** The grants with an `expires_at` whose window has not reset yet, soonest expiry first. */
function expiringGrants(grants: readonly BudgetGrantRecord[]): BudgetGrantRecord[] {
  const now = Date.now();
  return grants
    .filter((grant) => grant.expires_at !== null && Date.parse(grant.resets_at) > now)
    .sort((a, b) => Date.parse(a.expires_at!) - Date.parse(b.expires_at!));
}

/** The table of expiring grants: what each granted, when it expires, and whether it has. */
function expiringTable(grants: readonly BudgetGrantRecord[]): string[] {
  const rows = grants.map((grant) => [
    grant.scope,
    grant.name ?? '-',
    grant.window,
    describeAmounts(grant),
    formatInstant(grant.expires_at!),
    grant.expired_at === null ? 'counting' : `expired ${formatInstant(grant.expired_at)}`,
    grant.by,
  ]);
  return formatTable(EXPIRING_COLUMNS, rows);
}

/** The table of budgets: a row per capped dimension, amounts in its unit. */
function budgetTable(budgets: readonly BudgetView[]): string[] {
  const rows = budgets.flatMap((budget) => {
    const capped = BUDGET_DIMENSION_NAMES.filter(
      (dimension) => budget.limits[dimension] !== undefined,
    );
    return capped.map((dimension) => [
      budget.scope,
      budget.name ?? '-',
      budget.window,
      formatAmount(dimension, budget.spent[dimension]),
      formatAmount(dimension, budget.held[dimension]),
      formatAmount(dimension, budget.granted[dimension]),
      formatAmount(dimension, budget.limits[dimension] ?? 0),
      formatInstant(budget.resets_at),
    ]);
  });
  return formatTable(COLUMNS, rows);
}

/** An amount in its dimension's unit: `$1.50`, `3 requests`, `1 tool call`. */
function formatAmount(dimension: Dimension, amount: number): string {
  if (dimension === 'usd') return formatUsd(amount);
  const unit = { tokens: 'token', requests: 'request', tool_calls: 'tool call' }[dimension];
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}

/** What a grant adds: `10 requests, $2.00`. */
function describeAmounts(grant: BudgetGrantRecord): string {
  const parts = BUDGET_DIMENSION_NAMES.filter((dimension) => grant[dimension] > 0).map(
    (dimension) => formatAmount(dimension, grant[dimension]),
  );
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}

/** Whose budget: `agent archiver`, `tag nightly`, `the fleet`. */
function describeScope(grant: BudgetGrantRecord): string {
  return grant.scope === 'fleet' ? 'the fleet' : `${grant.scope} ${grant.name ?? '-'}`;
}

function nonNegativeNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError('must be a number, 0 or more');
  }
  return parsed;
}

function nonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError('must be a whole number, 0 or more');
  }
  return parsed;
}
