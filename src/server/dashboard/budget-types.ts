// The shapes of `GET /api/budgets` as the dashboard reads them, apart from the service that
// makes them: the browser program has no Node types, so it cannot import the service's
// `BudgetView` and `BudgetGrantRecord`. `openapi/budget-schemas.ts` holds both these and the
// service's types against one schema, so neither can drift from what the server answers.

/** Amounts of each dimension a budget counts, in its unit (dollars for `usd`). */
export interface BudgetAmountsView {
  usd: number;
  tokens: number;
  requests: number;
  tool_calls: number;
}

/** One budget (an agent's, a tag's or the fleet's, for a day or a month) as it stands now. */
export interface BudgetStanding {
  scope: 'agent' | 'tag' | 'fleet';
  /** The agent id or the tag; null for the fleet. */
  name: string | null;
  window: 'per_day' | 'per_month';
  /** The counter's key, e.g. `agent:archiver:per_day:2026-12-03`. */
  budget: string;
  resets_at: string;
  /** The limits as configured, only the dimensions capped. */
  limits: { usd?: number; tokens?: number; requests?: number; tool_calls?: number };
  spent: BudgetAmountsView;
  held: BudgetAmountsView;
  granted: BudgetAmountsView;
}

/** A grant of more budget, as the ledger keeps it. */
export interface BudgetGrantEntry {
  grant_id: string;
  budget: string;
  scope: 'agent' | 'tag' | 'fleet';
  name: string | null;
  window: 'per_day' | 'per_month';
  usd: number;
  tokens: number;
  requests: number;
  tool_calls: number;
  by: string;
  note: string;
  granted_at: string;
  resets_at: string;
  /** When it stops counting before its window ends; null when it lasts the window. */
  expires_at: string | null;
  /** When it was expired; null while it counts, and for a grant without `expires_at`. */
  expired_at: string | null;
}

/** `GET /api/budgets`: every budget as it stands, and the newest grants. */
export interface BudgetsOverview {
  budgets: BudgetStanding[];
  /** The newest grants first, at most {@link BUDGET_GRANTS_LISTED}. */
  grants: BudgetGrantEntry[];
}

/** How many of the newest grants `GET /api/budgets` lists. */
export const BUDGET_GRANTS_LISTED = 50;
