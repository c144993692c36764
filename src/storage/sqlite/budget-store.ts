import {
  counterFromRow,
  grantFromRow,
  holdFromRow,
  type BudgetGrantRow,
} from '../sql/budget-rows.js';
import {
  BUDGET_DIMENSIONS,
  budgetCounterDropAfter,
  budgetGrantListing,
  budgetGrantRecord,
  budgetHoldCounters,
  budgetRefusal,
  budgetTotals,
  checkBudgetAmounts,
  checkBudgetGrant,
  checkBudgetHold,
  checkExpiryNow,
  compareBudgetExpiries,
  compareBudgetHolds,
  emptyBudgetCounter,
  expiredGrantAmounts,
  type BudgetAmounts,
  type BudgetCounter,
  type BudgetDimension,
  type BudgetGrant,
  type BudgetHold,
  type BudgetLine,
  type BudgetRefusal,
  type BudgetStore,
  type BudgetTotals,
  type HoldOutcome,
} from '../contracts/budget-store.js';
import type { SqliteConnection } from './connection.js';
import type { Scope } from './write-batch.js';

/** A `budget_counters` row. */
type CounterRow = { key: string; resets_at: string } & Record<
  `${'spent' | 'held' | 'granted'}_${BudgetDimension}`,
  number
>;

/** A `budget_holds` row; `keys` is a JSON array. */
type HoldRow = { hold_id: string; run_id: string; keys: string; created_at: string } & Record<
  BudgetDimension,
  number
>;

/** The parameters of the guarded update: a key, the amounts, and a limit per dimension. */
type GuardedRow = { key: string } & BudgetTotals &
  Record<`limit_${BudgetDimension}`, number | null>;

/** The parameters of a grant's insert into the ledger. */
type GrantInsertRow = BudgetGrantRow & { granted_at_ms: number; expires_at_ms: number | null };

/** The parameters of a settle: a key, what leaves `held` and what joins `spent`. */
type SettleRow = { key: string } & Record<`${'held' | 'spent'}_${BudgetDimension}`, number>;

/** Every budget write may change any counter a read asks for. */
const BUDGETS: Scope = ['budgets'];

/** A stored hold. */
function holdOf(row: HoldRow): BudgetHold {
  return holdFromRow(row, JSON.parse(row.keys) as string[]);
}

/** Thrown inside the hold's savepoint to undo what it wrote. */
class Refused extends Error {}

/** `SET <kind>_x = <kind>_x <sign> @x, …` for every dimension. */
function assignments(kind: string, sign: '+' | '-', parameter: (d: string) => string): string {
  return BUDGET_DIMENSIONS.map(
    (dimension) => `${kind}_${dimension} = ${kind}_${dimension} ${sign} ${parameter(dimension)}`,
  ).join(', ');
}

/**
 * A {@link BudgetStore} in a SQLite database. Every write runs in the batch's `BEGIN
 * IMMEDIATE` transaction (see `write-batch.ts`), which holds the file's write lock from its
 * first read: a hold's guarded updates and its refusal see one state no other process changes.
 */
export function createSqliteBudgetStore({ database, writes }: SqliteConnection): BudgetStore {
  const counterColumns = `"key", resets_at, ${['spent', 'held', 'granted']
    .flatMap((kind) => BUDGET_DIMENSIONS.map((dimension) => `${kind}_${dimension}`))
    .join(', ')}`;
  const holdColumns = `hold_id, run_id, keys, ${BUDGET_DIMENSIONS.join(', ')}, created_at`;

  const selectCounter = database.prepare<[string], CounterRow>(
    `SELECT ${counterColumns} FROM budget_counters WHERE "key" = ?`,
  );
  const insertCounter = database.prepare<[{ key: string; resets_at: string; drop_after: number }]>(
    `INSERT INTO budget_counters ("key", resets_at, drop_after) VALUES (@key, @resets_at, @drop_after)
     ON CONFLICT ("key") DO NOTHING`,
  );
  const dropStale = database.prepare<[number]>('DELETE FROM budget_counters WHERE drop_after < ?');
  // Matches no row when the hold does not fit a limit: nothing is added then.
  const guardedHold = database.prepare<[GuardedRow]>(`
    UPDATE budget_counters SET ${assignments('held', '+', (dimension) => `@${dimension}`)}
    WHERE "key" = @key AND ${BUDGET_DIMENSIONS.map(
      (dimension) =>
        `(@limit_${dimension} IS NULL OR spent_${dimension} + held_${dimension} + @${dimension}
          <= @limit_${dimension} + granted_${dimension})`,
    ).join(' AND ')}
  `);
  const settleCounter = database.prepare<[SettleRow]>(`
    UPDATE budget_counters SET ${assignments('held', '-', (dimension) => `@held_${dimension}`)},
      ${assignments('spent', '+', (dimension) => `@spent_${dimension}`)}
    WHERE "key" = @key
  `);
  const grantCounter = database.prepare<[{ key: string } & BudgetTotals]>(`
    UPDATE budget_counters SET ${assignments('granted', '+', (dimension) => `@${dimension}`)}
    WHERE "key" = @key
  `);
  const selectHold = database.prepare<[string], HoldRow>(
    `SELECT ${holdColumns} FROM budget_holds WHERE hold_id = ?`,
  );
  const selectHoldsOf = database.prepare<[string], HoldRow>(
    `SELECT ${holdColumns} FROM budget_holds WHERE run_id = ?`,
  );
  const insertHold = database.prepare<[HoldRow]>(
    `INSERT INTO budget_holds (${holdColumns})
     VALUES (@hold_id, @run_id, @keys, ${BUDGET_DIMENSIONS.map((d) => `@${d}`).join(', ')}, @created_at)`,
  );
  const deleteHold = database.prepare<[string]>('DELETE FROM budget_holds WHERE hold_id = ?');
  const grantColumns = `grant_id, "key", ${BUDGET_DIMENSIONS.join(', ')}, granted_by, note, granted_at, resets_at, expires_at, expired_at`;
  // Changes nothing for a grant id in the ledger already.
  const insertGrant = database.prepare<[GrantInsertRow]>(
    `INSERT INTO budget_grants (${grantColumns}, granted_at_ms, expires_at_ms)
     VALUES (@grant_id, @key, ${BUDGET_DIMENSIONS.map((d) => `@${d}`).join(', ')}, @granted_by,
       @note, @granted_at, @resets_at, @expires_at, NULL, @granted_at_ms, @expires_at_ms)
     ON CONFLICT (grant_id) DO NOTHING`,
  );
  // The grants due to expire, through the partial index of those still to expire.
  const dueGrant = database.prepare<[number], { grant_id: string }>(
    `SELECT grant_id FROM budget_grants
     WHERE expires_at_ms IS NOT NULL AND expired_at IS NULL AND expires_at_ms <= ? LIMIT 1`,
  );
  const selectDueGrants = database.prepare<[number], BudgetGrantRow>(
    `SELECT ${grantColumns} FROM budget_grants
     WHERE expires_at_ms IS NOT NULL AND expired_at IS NULL AND expires_at_ms <= ?`,
  );
  // Matches no row for a grant expired already: what makes each grant expire once.
  const markExpired = database.prepare<[{ grant_id: string; expired_at: string }]>(
    `UPDATE budget_grants SET expired_at = @expired_at
     WHERE grant_id = @grant_id AND expired_at IS NULL`,
  );
  const ungrantCounter = database.prepare<[{ key: string } & BudgetTotals]>(`
    UPDATE budget_counters SET ${BUDGET_DIMENSIONS.map(
      (dimension) => `granted_${dimension} = MAX(granted_${dimension} - @${dimension}, 0)`,
    ).join(', ')}
    WHERE "key" = @key
  `);
  const selectGrants = database.prepare<[{ prefix: string; limit: number }], BudgetGrantRow>(
    `SELECT ${grantColumns} FROM budget_grants
     WHERE substr("key", 1, length(@prefix)) = @prefix
     ORDER BY granted_at_ms DESC, grant_id DESC LIMIT @limit`,
  );

  function counterOf(key: string): BudgetCounter {
    const row = selectCounter.get(key);
    return row ? counterFromRow(row) : emptyBudgetCounter(key);
  }

  /** Creates the counter when absent; a window's first write also drops long-ended ones. */
  function ensureCounter(key: string, resetsAt: string, nowMs: number): void {
    const row = { key, resets_at: resetsAt, drop_after: budgetCounterDropAfter(resetsAt, nowMs) };
    if (insertCounter.run(row).changes === 1) dropStale.run(nowMs);
  }

  /** Adds the hold to every counter, or throws {@link Refused} at the first that it crosses. */
  const holdAll = database.transaction(
    (hold: BudgetHold, lines: readonly BudgetLine[], nowMs: number) => {
      for (const { key, limits, resets_at } of budgetHoldCounters(lines)) {
        ensureCounter(key, resets_at, nowMs);
        const row = { key, ...hold.amounts } as GuardedRow;
        for (const dimension of BUDGET_DIMENSIONS)
          row[`limit_${dimension}`] = limits[dimension] ?? null;
        if (guardedHold.run(row).changes === 0) throw new Refused();
      }
      const { hold_id, run_id, created_at } = hold;
      insertHold.run({
        hold_id,
        run_id,
        keys: JSON.stringify(hold.keys),
        created_at,
        ...hold.amounts,
      });
    },
  );

  function hold(
    holdId: string,
    runId: string,
    lines: readonly BudgetLine[],
    amounts: BudgetTotals,
    now: Date,
  ): HoldOutcome {
    const existing = selectHold.get(holdId);
    if (existing) return { held: true, hold: holdOf(existing) };
    const record: BudgetHold = {
      hold_id: holdId,
      run_id: runId,
      keys: budgetHoldCounters(lines).map(({ key }) => key),
      amounts,
      created_at: now.toISOString(),
    };
    try {
      holdAll(record, lines, now.getTime());
      return { held: true, hold: record };
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
    }
    // Rolled back, still under the write lock: the counters read as the updates saw them.
    return { held: false, refusal: refusalOf(lines, amounts) };
  }

  function refusalOf(lines: readonly BudgetLine[], amounts: BudgetTotals): BudgetRefusal {
    const refusal = budgetRefusal(lines, counterOf, amounts);
    if (!refusal) throw new Error('a guarded budget update refused a hold that fits');
    return refusal;
  }

  /**
   * Expires the grants due at `nowMs`, under the write lock: each is marked by an update that
   * matches only a grant not expired yet, and its amounts leave its counter once.
   */
  function expire(nowMs: number, expiredAt: string): BudgetGrant[] {
    const expired: BudgetGrant[] = [];
    for (const row of selectDueGrants.all(nowMs)) {
      if (markExpired.run({ grant_id: row.grant_id, expired_at: expiredAt }).changes !== 1)
        continue;
      expired.push(grantFromRow({ ...row, expired_at: expiredAt }));
    }
    // A counter dropped meanwhile matches no row, and is not made again.
    for (const { key, amounts } of expiredGrantAmounts(expired))
      ungrantCounter.run({ key, ...amounts });
    return expired.sort(compareBudgetExpiries);
  }

  function settle(holdId: string, actual: BudgetAmounts): boolean {
    const stored = selectHold.get(holdId);
    if (!stored) return false;
    const { keys, amounts } = holdOf(stored);
    const spent = budgetTotals(actual);
    const row = { key: '' } as SettleRow;
    for (const dimension of BUDGET_DIMENSIONS) {
      row[`held_${dimension}`] = amounts[dimension];
      row[`spent_${dimension}`] = spent[dimension];
    }
    deleteHold.run(holdId);
    // A counter dropped meanwhile matches no row, and is not made again.
    for (const key of keys) settleCounter.run({ ...row, key });
    return true;
  }

  return {
    async hold(holdId, runId, lines, amounts, now) {
      checkBudgetHold(holdId, runId, lines, amounts);
      const asked = budgetTotals(amounts);
      const copies = lines.map((line) => ({ ...line, limits: { ...line.limits } }));
      return writes.write(BUDGETS, () => hold(holdId, runId, copies, asked, now));
    },

    async settle(holdId, actual) {
      checkBudgetAmounts(actual, 'actual');
      const copy = { ...actual };
      return writes.write(BUDGETS, () => settle(holdId, copy));
    },

    async holdsOf(runId) {
      const rows = writes.read(BUDGETS, () => selectHoldsOf.all(runId));
      return rows.map(holdOf).sort(compareBudgetHolds);
    },

    async counters(keys) {
      return writes.read(BUDGETS, () => keys.map(counterOf));
    },

    async grant(grant) {
      checkBudgetGrant(grant);
      const record = budgetGrantRecord(grant);
      const row: GrantInsertRow = {
        grant_id: record.grant_id,
        key: record.key,
        ...record.amounts,
        granted_by: record.by,
        note: record.note,
        granted_at: record.granted_at,
        resets_at: record.resets_at,
        expires_at: record.expires_at,
        expired_at: null,
        granted_at_ms: Date.parse(record.granted_at),
        expires_at_ms: record.expires_at === null ? null : Date.parse(record.expires_at),
      };
      // A person's change, acknowledged to them: synced to disk before it resolves. The ledger
      // row and the counter change are one savepoint: both are written, or neither.
      return writes.write(
        BUDGETS,
        () => {
          // A grant id in the ledger already is a retried request: granted once.
          if (insertGrant.run(row).changes === 1) {
            ensureCounter(record.key, record.resets_at, Date.now());
            grantCounter.run({ key: record.key, ...record.amounts });
          }
          return counterOf(record.key);
        },
        { durable: true },
      );
    },

    async listGrants(options) {
      const { limit, keyPrefix } = budgetGrantListing(options);
      const rows = writes.read(BUDGETS, () => selectGrants.all({ prefix: keyPrefix, limit }));
      return rows.map(grantFromRow);
    },

    async expireGrants(now) {
      const nowMs = checkExpiryNow(now);
      // Nothing due (the usual case): one read of the partial index, no write lock taken.
      if (writes.read(BUDGETS, () => dueGrant.get(nowMs)) === undefined) return [];
      const expiredAt = now.toISOString();
      // Not synced before it resolves: a commit lost in a crash undoes the marks with the
      // counter changes, and the next sweep expires those grants again, once.
      return writes.write(BUDGETS, () => expire(nowMs, expiredAt));
    },
  };
}
