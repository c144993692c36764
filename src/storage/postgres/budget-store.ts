import type pg from 'pg';
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
  type BudgetDimension,
  type BudgetHold,
  type BudgetHoldCounter,
  type BudgetLine,
  type BudgetRefusal,
  type BudgetStore,
  type BudgetTotals,
  type HoldOutcome,
} from '../contracts/budget-store.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';
import type { PostgresDatabase } from './connection.js';

/** A `budget_counters` row; BIGINT columns arrive as text. */
type CounterRow = { key: string; resets_at: string } & Record<
  `${'spent' | 'held' | 'granted'}_${BudgetDimension}`,
  string
>;

/** A `budget_holds` row; `keys` (JSONB) arrives parsed. */
type HoldRow = { hold_id: string; run_id: string; keys: string[]; created_at: string } & Record<
  BudgetDimension,
  string
>;

const KINDS = ['spent', 'held', 'granted'] as const;
const COUNTER_COLUMNS = `key, resets_at, ${KINDS.flatMap((kind) =>
  BUDGET_DIMENSIONS.map((dimension) => `${kind}_${dimension}`),
).join(', ')}`;
const HOLD_COLUMNS = `hold_id, run_id, keys, ${BUDGET_DIMENSIONS.join(', ')}, created_at`;
const GRANT_COLUMNS = `grant_id, key, ${BUDGET_DIMENSIONS.join(', ')}, granted_by, note, granted_at, resets_at, expires_at, expired_at`;

/** A stored hold. */
function holdOf(row: HoldRow): BudgetHold {
  return holdFromRow(row, row.keys);
}

/** The amounts in dimension order, as statement values. */
function valuesOf(totals: BudgetTotals): number[] {
  return BUDGET_DIMENSIONS.map((dimension) => totals[dimension]);
}

/** Thrown inside the hold's transaction to roll it back; carries why. */
class Refused extends Error {
  constructor(readonly refusal: BudgetRefusal) {
    super(`the hold does not fit budget ${refusal.key}`);
  }
}

/** What one attempt at a hold did, and whether it created a counter. */
interface HeldOnce {
  outcome: HoldOutcome;
  created: boolean;
}

/** Counters in one order every process shares, so holds lock them without deadlocking. */
function byKey<T extends { key: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * A {@link BudgetStore} in a Postgres schema. A hold is one transaction of guarded updates, one
 * per counter in key order: each adds to `held` only where the sum stays within every limit,
 * and waits on (then re-checks against) a concurrent writer's row, so processes racing on one
 * budget take turns at its row; the key order means two holds never wait on each other.
 */
export function createPostgresBudgetStore(database: PostgresDatabase): BudgetStore {
  const counters = database.table('budget_counters');
  const holds = database.table('budget_holds');
  const grants = database.table('budget_grants');
  const amountParameters = (first: number) =>
    BUDGET_DIMENSIONS.map((_, index) => `$${first + index}::bigint`);

  // The hold's row first: of two holds of one id, the second waits for the first to end.
  const insertHold = `
    INSERT INTO ${holds} (${HOLD_COLUMNS})
    VALUES ($1, $2, $3::jsonb, ${amountParameters(4).join(', ')}, $8)
    ON CONFLICT (hold_id) DO NOTHING RETURNING hold_id`;
  const selectHold = `SELECT ${HOLD_COLUMNS} FROM ${holds} WHERE hold_id = $1`;
  // In the order given (key order): rows are inserted, and locked, as unnest yields them.
  const insertCounters = `
    INSERT INTO ${counters} (key, resets_at, drop_after)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
    ON CONFLICT (key) DO NOTHING RETURNING key`;
  const amountsAt = amountParameters(2);
  const limitsAt = amountParameters(6);
  // Matches no row when the hold does not fit a limit: nothing is added then.
  const guardedHold = `
    UPDATE ${counters} SET ${BUDGET_DIMENSIONS.map(
      (dimension, index) => `held_${dimension} = held_${dimension} + ${amountsAt[index]}`,
    ).join(', ')}
    WHERE key = $1 AND ${BUDGET_DIMENSIONS.map(
      (dimension, index) =>
        `(${limitsAt[index]} IS NULL OR spent_${dimension} + held_${dimension} + ${amountsAt[index]}
          <= ${limitsAt[index]} + granted_${dimension})`,
    ).join(' AND ')}
    RETURNING key`;
  // Locks the counters in the order given, waiting for the writers holding them.
  const lockCounters = `
    SELECT c.key FROM unnest($1::text[]) WITH ORDINALITY AS wanted (key, place)
    JOIN ${counters} AS c ON c.key = wanted.key
    ORDER BY wanted.place FOR UPDATE OF c`;
  const selectCounters = database.prepare(
    `SELECT ${COUNTER_COLUMNS} FROM ${counters} WHERE key = ANY($1::text[])`,
  );
  // Never waits: a counter some call is writing is dropped another time.
  const dropStale = database.prepare(`
    DELETE FROM ${counters} WHERE key IN (
      SELECT key FROM ${counters} WHERE drop_after < $1 FOR UPDATE SKIP LOCKED
    )`);
  const deleteHold = `DELETE FROM ${holds} WHERE hold_id = $1 RETURNING ${HOLD_COLUMNS}`;
  const settleCounter = `
    UPDATE ${counters} SET ${BUDGET_DIMENSIONS.map(
      (dimension, index) =>
        `held_${dimension} = held_${dimension} - ${amountsAt[index]}, ` +
        `spent_${dimension} = spent_${dimension} + $${6 + index}::bigint`,
    ).join(', ')}
    WHERE key = $1`;
  const grantCounter = database.prepare(`
    INSERT INTO ${counters} AS c (key, resets_at, drop_after, ${BUDGET_DIMENSIONS.map(
      (dimension) => `granted_${dimension}`,
    ).join(', ')})
    VALUES ($1, $2, $3, ${amountParameters(4).join(', ')})
    ON CONFLICT (key) DO UPDATE SET ${BUDGET_DIMENSIONS.map(
      (dimension) =>
        `granted_${dimension} = c.granted_${dimension} + EXCLUDED.granted_${dimension}`,
    ).join(', ')}
    RETURNING ${COUNTER_COLUMNS}`);
  const selectHoldsOf = database.prepare(`SELECT ${HOLD_COLUMNS} FROM ${holds} WHERE run_id = $1`);
  // The ledger row first: of two grants of one id, the second waits for the first to end, then
  // inserts nothing and leaves the counter as the first left it.
  const insertGrant = database.prepare(`
    INSERT INTO ${grants} (${GRANT_COLUMNS}, granted_at_ms, expires_at_ms)
    VALUES ($1, $2, ${amountParameters(3).join(', ')}, $7, $8, $9, $10, $11, NULL, $12, $13)
    ON CONFLICT (grant_id) DO NOTHING RETURNING grant_id`);
  // Through the partial index of the grants still to expire: the usual answer is none.
  const anyDue = database.prepare(`
    SELECT 1 FROM ${grants}
    WHERE expires_at_ms IS NOT NULL AND expired_at IS NULL AND expires_at_ms <= $1 LIMIT 1`);
  // Marks the grants due, each once: a grant another sweep has locked is passed over (that sweep
  // expires it), and one it expired meanwhile no longer matches.
  const expireDue = `
    UPDATE ${grants} SET expired_at = $2
    WHERE grant_id IN (
      SELECT grant_id FROM ${grants}
      WHERE expires_at_ms IS NOT NULL AND expired_at IS NULL AND expires_at_ms <= $1
      FOR UPDATE SKIP LOCKED
    ) AND expired_at IS NULL
    RETURNING ${GRANT_COLUMNS}`;
  const ungrantCounter = `
    UPDATE ${counters} SET ${BUDGET_DIMENSIONS.map(
      (dimension, index) =>
        `granted_${dimension} = GREATEST(granted_${dimension} - ${amountsAt[index]}, 0)`,
    ).join(', ')}
    WHERE key = $1`;
  const selectGrants = database.prepare(`
    SELECT ${GRANT_COLUMNS} FROM ${grants}
    WHERE left(key, length($1)) = $1
    ORDER BY granted_at_ms DESC, grant_id DESC LIMIT $2`);

  /**
   * Why the counter at `sorted[failed]` refused: with every counter from it on locked (those
   * before it are, by this transaction's updates), the counters read as no other writer can
   * change them; this transaction's own additions are taken back out. Undefined when the
   * counter moved between the update and the lock and the hold fits now.
   */
  async function refusalUnderLock(
    client: pg.ClientBase,
    lines: readonly BudgetLine[],
    sorted: readonly BudgetHoldCounter[],
    failed: number,
    asked: BudgetTotals,
  ): Promise<BudgetRefusal | undefined> {
    await client.query(lockCounters, [sorted.slice(failed).map(({ key }) => key)]);
    const { rows } = await client.query<CounterRow>(selectCounters.text, [
      sorted.map(({ key }) => key),
    ]);
    const read = new Map(rows.map((row) => [row.key, counterFromRow(row)]));
    for (const { key } of sorted.slice(0, failed)) {
      const counter = read.get(key);
      if (!counter) continue;
      for (const dimension of BUDGET_DIMENSIONS) counter.held[dimension] -= asked[dimension];
    }
    return budgetRefusal(lines, (key) => read.get(key) ?? emptyBudgetCounter(key), asked);
  }

  /** One attempt at a hold, in one transaction; CONFLICT when the id's hold ended meanwhile. */
  async function holdOnce(
    client: pg.ClientBase,
    record: BudgetHold,
    lines: readonly BudgetLine[],
    nowMs: number,
  ): Promise<HeldOnce | typeof CONFLICT> {
    const asked = record.amounts;
    const inserted = await client.query(insertHold, [
      record.hold_id,
      record.run_id,
      JSON.stringify(record.keys),
      ...valuesOf(asked),
      record.created_at,
    ]);
    if (inserted.rowCount === 0) {
      const { rows } = await client.query<HoldRow>(selectHold, [record.hold_id]);
      // Settled between the insert and the read: try again, to hold it anew.
      if (!rows[0]) return CONFLICT;
      return { outcome: { held: true, hold: holdOf(rows[0]) }, created: false };
    }
    const sorted = byKey(budgetHoldCounters(lines));
    const created = await client.query(insertCounters, [
      sorted.map(({ key }) => key),
      sorted.map(({ resets_at }) => resets_at),
      sorted.map(({ resets_at }) => budgetCounterDropAfter(resets_at, nowMs)),
    ]);
    for (const [index, counter] of sorted.entries()) {
      const values = [
        counter.key,
        ...valuesOf(asked),
        ...BUDGET_DIMENSIONS.map((dimension) => counter.limits[dimension] ?? null),
      ];
      if ((await client.query(guardedHold, values)).rowCount === 1) continue;
      const refusal = await refusalUnderLock(client, lines, sorted, index, asked);
      if (refusal) throw new Refused(refusal);
      // Every counter from this one on is locked now: the update sees what the check saw.
      if ((await client.query(guardedHold, values)).rowCount !== 1)
        throw new Error(`a guarded update of budget ${counter.key} refused a hold that fits`);
    }
    return { outcome: { held: true, hold: record }, created: (created.rowCount ?? 0) > 0 };
  }

  return {
    async hold(holdId, runId, lines, amounts, now) {
      checkBudgetHold(holdId, runId, lines, amounts);
      const copies = lines.map((line) => ({ ...line, limits: { ...line.limits } }));
      const record: BudgetHold = {
        hold_id: holdId,
        run_id: runId,
        keys: budgetHoldCounters(copies).map(({ key }) => key),
        amounts: budgetTotals(amounts),
        created_at: now.toISOString(),
      };
      const nowMs = now.getTime();
      const { outcome, created } = await retryOnConflict(
        `holding budget ${holdId}`,
        async (): Promise<HeldOnce | typeof CONFLICT> => {
          try {
            return await database.transaction((client) => holdOnce(client, record, copies, nowMs));
          } catch (error) {
            if (!(error instanceof Refused)) throw error;
            return { outcome: { held: false, refusal: error.refusal }, created: false };
          }
        },
      );
      // A window's first hold drops windows long ended; the hold stands whatever happens here.
      if (created) await database.write(dropStale, [nowMs]).catch(() => undefined);
      return outcome;
    },

    async settle(holdId, actual) {
      checkBudgetAmounts(actual, 'actual');
      const spent = valuesOf(budgetTotals(actual));
      return database.transaction(async (client) => {
        const { rows } = await client.query<HoldRow>(deleteHold, [holdId]);
        if (!rows[0]) return false;
        const hold = holdOf(rows[0]);
        const held = valuesOf(hold.amounts);
        // Key order, as holds lock them. A counter dropped meanwhile matches no row.
        for (const key of [...hold.keys].sort()) {
          await client.query(settleCounter, [key, ...held, ...spent]);
        }
        return true;
      });
    },

    async holdsOf(runId) {
      const { rows } = await database.read<HoldRow>(selectHoldsOf, [runId]);
      return rows.map(holdOf).sort(compareBudgetHolds);
    },

    async counters(keys) {
      if (keys.length === 0) return [];
      const { rows } = await database.read<CounterRow>(selectCounters, [[...new Set(keys)]]);
      const read = new Map(rows.map((row) => [row.key, row]));
      return keys.map((key) => {
        const row = read.get(key);
        return row ? counterFromRow(row) : emptyBudgetCounter(key);
      });
    },

    async grant(grant) {
      checkBudgetGrant(grant);
      const record = budgetGrantRecord(grant);
      const dropAfter = budgetCounterDropAfter(record.resets_at, Date.now());
      // The ledger row and the counter change commit together, or neither does.
      return database.transaction(async (client) => {
        const inserted = await client.query(insertGrant.text, [
          record.grant_id,
          record.key,
          ...valuesOf(record.amounts),
          record.by,
          record.note,
          record.granted_at,
          record.resets_at,
          record.expires_at,
          Date.parse(record.granted_at),
          record.expires_at === null ? null : Date.parse(record.expires_at),
        ]);
        if (inserted.rowCount === 0) {
          // A retried request: granted once already.
          const { rows } = await client.query<CounterRow>(selectCounters.text, [[record.key]]);
          return rows[0] ? counterFromRow(rows[0]) : emptyBudgetCounter(record.key);
        }
        const { rows } = await client.query<CounterRow>(grantCounter.text, [
          record.key,
          record.resets_at,
          dropAfter,
          ...valuesOf(record.amounts),
        ]);
        return counterFromRow(rows[0]!);
      });
    },

    async listGrants(options) {
      const { limit, keyPrefix } = budgetGrantListing(options);
      const { rows } = await database.read<BudgetGrantRow>(selectGrants, [keyPrefix, limit]);
      return rows.map(grantFromRow);
    },

    async expireGrants(now) {
      const nowMs = checkExpiryNow(now);
      if ((await database.read(anyDue, [nowMs])).rowCount === 0) return [];
      const expiredAt = now.toISOString();
      // The marks and the counter changes commit together, or neither does.
      const expired = await database.transaction(async (client) => {
        const { rows } = await client.query<BudgetGrantRow>(expireDue, [nowMs, expiredAt]);
        const marked = rows.map(grantFromRow);
        // Key order, as holds lock counters. A counter dropped meanwhile matches no row.
        for (const { key, amounts } of expiredGrantAmounts(marked))
          await client.query(ungrantCounter, [key, ...valuesOf(amounts)]);
        return marked;
      });
      return expired.sort(compareBudgetExpiries);
    },
  };
}
