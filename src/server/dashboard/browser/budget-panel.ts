import type { BudgetAmountsView, BudgetsOverview, BudgetStanding } from '../budget-types.js';
import { byId, el, replaceChildren } from './dom.js';
import { formatNumber, formatTime, formatUsd, formatWhen } from './format.js';
import { agentLink } from './widgets.js';

// The fleet page's budgets panel: a bar per budget and capped dimension, from `GET /api/budgets`.

/** What a budget counts, in the order the bars are drawn. */
type Dimension = keyof BudgetAmountsView;
const DIMENSIONS: readonly Dimension[] = ['usd', 'tokens', 'requests', 'tool_calls'];
const UNITS: Record<Exclude<Dimension, 'usd'>, string> = {
  tokens: 'tokens',
  requests: 'requests',
  tool_calls: 'tool calls',
};
const WINDOW_LABELS: Record<BudgetStanding['window'], string> = {
  per_day: 'per day',
  per_month: 'per month',
};

/** An amount in its dimension's unit: `$1.50`, `1,200 tokens`. */
function amount(dimension: Dimension, value: number): string {
  return dimension === 'usd' ? formatUsd(value) : formatNumber(value) + ' ' + UNITS[dimension];
}

/** A bare amount, its unit said once elsewhere on the line: `$1.50`, `1,200`. */
function figure(dimension: Dimension, value: number): string {
  return dimension === 'usd' ? formatUsd(value) : formatNumber(value);
}

/** Whose budget it is: an agent (linked), a tag, the fleet. */
function owner(budget: BudgetStanding): HTMLElement {
  if (budget.scope === 'agent' && budget.name !== null) {
    return el('span', { class: 'owner' }, 'Agent ', agentLink(budget.name));
  }
  if (budget.scope === 'tag')
    return el('span', { class: 'owner' }, 'Tag ', el('b', {}, budget.name));
  return el('span', { class: 'owner' }, 'Fleet');
}

/**
 * One capped dimension: spent, then held, as parts of a bar as long as the limit plus what was
 * granted, with a mark where the limit alone ends; the figures beside it.
 */
function bar(budget: BudgetStanding, dimension: Dimension, limit: number): HTMLElement {
  const spent = budget.spent[dimension];
  const held = budget.held[dimension];
  const granted = budget.granted[dimension];
  const capacity = limit + granted;
  // Of the bar's 100 units; a budget of nothing is full as soon as anything is used.
  const share = (value: number) =>
    capacity > 0 ? Math.min(100, (value / capacity) * 100) : value > 0 ? 100 : 0;
  const spentWidth = share(spent);
  const heldWidth = Math.min(100 - spentWidth, share(held));
  const used = spent + held;
  const full = capacity > 0 ? used >= capacity : used > 0;
  const left = Math.max(0, capacity - used);
  const figures =
    figure(dimension, spent) +
    ' spent' +
    (held > 0 ? ' + ' + figure(dimension, held) + ' held' : '') +
    ' of ' +
    amount(dimension, limit) +
    (granted > 0 ? ' + ' + figure(dimension, granted) + ' granted' : '');
  return el(
    'div',
    {
      class: 'budget-bar' + (full ? ' full' : ''),
      'data-dimension': dimension,
      'data-spent': spent,
      'data-held': held,
      'data-granted': granted,
      'data-limit': limit,
    },
    el(
      'svg:svg',
      {
        class: 'meter',
        viewBox: '0 0 100 10',
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-label': figures,
      },
      el('svg:rect', { class: 'track', x: 0, y: 0, width: 100, height: 10 }),
      el('svg:rect', {
        class: 'spent',
        'data-role': 'spent',
        x: 0,
        y: 0,
        width: spentWidth.toFixed(2),
        height: 10,
      }),
      el('svg:rect', {
        class: 'held',
        'data-role': 'held',
        x: spentWidth.toFixed(2),
        y: 0,
        width: heldWidth.toFixed(2),
        height: 10,
      }),
      granted > 0
        ? el('svg:rect', {
            class: 'limit-mark',
            'data-role': 'limit-mark',
            x: (share(limit) - 0.4).toFixed(2),
            y: 0,
            width: 0.8,
            height: 10,
          })
        : null,
      el('svg:title', {}, figures + '; ' + amount(dimension, left) + ' left'),
    ),
    el('span', { class: 'figures', 'data-role': 'budget-figures' }, figures),
  );
}

/** One budget: whose, which window, when it resets, and a bar per capped dimension. */
function budgetBlock(budget: BudgetStanding): HTMLElement {
  const capped = DIMENSIONS.filter((dimension) => budget.limits[dimension] !== undefined);
  return el(
    'div',
    {
      class: 'budget',
      'data-budget': budget.budget,
      'data-scope': budget.scope,
      'data-name': budget.name ?? '',
      'data-window': budget.window,
    },
    el(
      'div',
      { class: 'budget-head' },
      owner(budget),
      el('span', { class: 'muted', 'data-role': 'window' }, WINDOW_LABELS[budget.window]),
      el(
        'span',
        { class: 'muted', 'data-role': 'resets', title: budget.resets_at },
        'resets ' + formatWhen(budget.resets_at) + ' (' + formatTime(budget.resets_at) + ')',
      ),
    ),
    capped.map((dimension) => bar(budget, dimension, budget.limits[dimension] ?? 0)),
  );
}

/** The budgets panel, or why it is empty. */
export function renderBudgets({ budgets, grants }: BudgetsOverview): void {
  const holder = byId('budgets');
  if (budgets.length === 0) {
    holder.replaceChildren(
      el(
        'p',
        { class: 'muted', 'data-role': 'no-budgets' },
        "No budgets: an agent's budget_config (per_day, per_month) and the file's budgets (tags, fleet) make them.",
      ),
    );
    return;
  }
  const latest = grants[0];
  replaceChildren(
    holder,
    el('div', { class: 'budgets' }, budgets.map(budgetBlock)),
    latest
      ? el(
          'p',
          { class: 'muted', 'data-role': 'latest-grant', title: latest.granted_at },
          'Latest grant: ' +
            DIMENSIONS.filter((dimension) => latest[dimension] > 0)
              .map((dimension) => amount(dimension, latest[dimension]))
              .join(', ') +
            ' to ' +
            (latest.scope === 'fleet' ? 'the fleet' : latest.scope + ' ' + (latest.name ?? '')) +
            ' ' +
            WINDOW_LABELS[latest.window] +
            ', by ' +
            latest.by +
            ' (' +
            latest.note +
            '), ' +
            formatWhen(latest.granted_at) +
            '.',
        )
      : null,
  );
}
