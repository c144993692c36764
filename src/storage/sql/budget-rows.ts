import {
  BUDGET_DIMENSIONS,
  budgetTotals,
  type BudgetCounter,
  type BudgetDimension,
  type BudgetGrant,
  type BudgetHold,
  type BudgetTotals,
} from '../contracts/budget-store.js';

/** A `budget_counters` row: whole numbers (SQLite INTEGER), or their text (Postgres BIGINT). */
export type BudgetCounterRow = { key: string; resets_at: string } & Record<
  `${'spent' | 'held' | 'granted'}_${BudgetDimension}`,
  number | string
>;

/** A `budget_holds` row, its `keys` read already (a JSON text in SQLite, JSONB in Postgres). */
export type BudgetHoldRow = { hold_id: string; run_id: string; created_at: string } & Record<
  BudgetDimension,
  number | string
>;

/**
 * A `budget_grants` row as read (without `granted_at_ms` and `expires_at_ms`, the instants
 * queries order and filter on): the grant's `by` is the `granted_by` column (BY is an SQL
 * keyword).
 */
export type BudgetGrantRow = {
  grant_id: string;
  key: string;
  granted_by: string;
  note: string;
  granted_at: string;
  resets_at: string;
  expires_at: string | null;
  expired_at: string | null;
} & Record<BudgetDimension, number | string>;

function totalsOf(row: BudgetCounterRow, kind: 'spent' | 'held' | 'granted'): BudgetTotals {
  const totals = budgetTotals({});
  for (const dimension of BUDGET_DIMENSIONS)
    totals[dimension] = Number(row[`${kind}_${dimension}`]);
  return totals;
}

/** A counter as both SQL backends store it. */
export function counterFromRow(row: BudgetCounterRow): BudgetCounter {
  return {
    key: row.key,
    spent: totalsOf(row, 'spent'),
    held: totalsOf(row, 'held'),
    granted: totalsOf(row, 'granted'),
    resets_at: row.resets_at,
  };
}

/** A hold as both SQL backends store it. */
export function holdFromRow(row: BudgetHoldRow, keys: string[]): BudgetHold {
  const amounts = budgetTotals({});
  for (const dimension of BUDGET_DIMENSIONS) amounts[dimension] = Number(row[dimension]);
  return { hold_id: row.hold_id, run_id: row.run_id, keys, amounts, created_at: row.created_at };
}

/** A grant as both SQL backends store it. */
export function grantFromRow(row: BudgetGrantRow): BudgetGrant {
  const amounts = budgetTotals({});
  for (const dimension of BUDGET_DIMENSIONS) amounts[dimension] = Number(row[dimension]);
  return {
    grant_id: row.grant_id,
    key: row.key,
    amounts,
    by: row.granted_by,
    note: row.note,
    granted_at: row.granted_at,
    resets_at: row.resets_at,
    expires_at: row.expires_at ?? null,
    expired_at: row.expired_at ?? null,
  };
}
