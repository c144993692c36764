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
  compareBudgetGrants,
  compareBudgetHolds,
  emptyBudgetCounter,
  expiresWithinWindow,
  type BudgetCounter,
  type BudgetGrant,
  type BudgetHold,
  type BudgetStore,
  type BudgetTotals,
} from '../contracts/budget-store.js';

/** A counter as kept here, with when it may be dropped. */
interface StoredCounter extends BudgetCounter {
  dropAfter: number;
}

function copyCounter({ key, spent, held, granted, resets_at }: BudgetCounter): BudgetCounter {
  return { key, spent: { ...spent }, held: { ...held }, granted: { ...granted }, resets_at };
}

function copyHold(hold: BudgetHold): BudgetHold {
  return { ...hold, keys: [...hold.keys], amounts: { ...hold.amounts } };
}

function copyGrant(grant: BudgetGrant): BudgetGrant {
  return { ...grant, amounts: { ...grant.amounts } };
}

function add(totals: BudgetTotals, amounts: BudgetTotals, sign: 1 | -1 = 1): void {
  for (const dimension of BUDGET_DIMENSIONS) totals[dimension] += sign * amounts[dimension];
}

/**
 * A {@link BudgetStore} held in this process's memory. Each method checks and writes without
 * awaiting anything, so no other call runs between its check and its write.
 */
export function createMemoryBudgetStore(): BudgetStore {
  const counters = new Map<string, StoredCounter>();
  const holds = new Map<string, BudgetHold>();
  /** Open hold ids by run. */
  const runHolds = new Map<string, Set<string>>();
  /** The grants ledger by id, never pruned. */
  const grants = new Map<string, BudgetGrant>();
  /** The ids of grants with an `expires_at` not expired yet, and when each expires (ms). */
  const expiring = new Map<string, number>();

  function counterOf(key: string): BudgetCounter {
    return counters.get(key) ?? emptyBudgetCounter(key);
  }

  /** The counter under `key`, created when absent; drops long-ended windows when it creates. */
  function ensureCounter(key: string, resetsAt: string, nowMs: number): StoredCounter {
    const existing = counters.get(key);
    if (existing) return existing;
    for (const [stale, counter] of counters) if (counter.dropAfter < nowMs) counters.delete(stale);
    const counter = {
      ...emptyBudgetCounter(key),
      resets_at: resetsAt,
      dropAfter: budgetCounterDropAfter(resetsAt, nowMs),
    };
    counters.set(key, counter);
    return counter;
  }

  return {
    async hold(holdId, runId, lines, amounts, now) {
      checkBudgetHold(holdId, runId, lines, amounts);
      const existing = holds.get(holdId);
      if (existing) return { held: true, hold: copyHold(existing) };
      const asked = budgetTotals(amounts);
      const refusal = budgetRefusal(lines, counterOf, asked);
      if (refusal) return { held: false, refusal };

      const targets = budgetHoldCounters(lines);
      for (const { key, resets_at } of targets) {
        add(ensureCounter(key, resets_at, now.getTime()).held, asked);
      }
      const hold: BudgetHold = {
        hold_id: holdId,
        run_id: runId,
        keys: targets.map(({ key }) => key),
        amounts: asked,
        created_at: now.toISOString(),
      };
      holds.set(holdId, hold);
      let ofRun = runHolds.get(runId);
      if (!ofRun) runHolds.set(runId, (ofRun = new Set()));
      ofRun.add(holdId);
      return { held: true, hold: copyHold(hold) };
    },

    async settle(holdId, actual) {
      checkBudgetAmounts(actual, 'actual');
      const hold = holds.get(holdId);
      if (!hold) return false;
      holds.delete(holdId);
      const ofRun = runHolds.get(hold.run_id);
      ofRun?.delete(holdId);
      if (ofRun?.size === 0) runHolds.delete(hold.run_id);
      const spent = budgetTotals(actual);
      for (const key of hold.keys) {
        const counter = counters.get(key);
        if (!counter) continue;
        add(counter.held, hold.amounts, -1);
        add(counter.spent, spent);
      }
      return true;
    },

    async holdsOf(runId) {
      const ids = [...(runHolds.get(runId) ?? [])];
      return ids.map((id) => copyHold(holds.get(id)!)).sort(compareBudgetHolds);
    },

    async counters(keys) {
      return keys.map((key) => copyCounter(counterOf(key)));
    },

    async grant(grant) {
      checkBudgetGrant(grant);
      const record = budgetGrantRecord(grant);
      // A retried request: granted once already.
      if (grants.has(record.grant_id)) return copyCounter(counterOf(record.key));
      const counter = ensureCounter(record.key, record.resets_at, Date.now());
      add(counter.granted, record.amounts);
      grants.set(record.grant_id, record);
      if (record.expires_at !== null) expiring.set(record.grant_id, Date.parse(record.expires_at));
      return copyCounter(counter);
    },

    async expireGrants(now) {
      const nowMs = checkExpiryNow(now);
      const expired: BudgetGrant[] = [];
      for (const [grantId, expiresAtMs] of expiring) {
        if (expiresAtMs > nowMs) continue;
        expiring.delete(grantId);
        const grant = grants.get(grantId)!;
        grant.expired_at = now.toISOString();
        const counter = counters.get(grant.key);
        if (counter && expiresWithinWindow(grant)) {
          for (const dimension of BUDGET_DIMENSIONS)
            counter.granted[dimension] = Math.max(
              0,
              counter.granted[dimension] - grant.amounts[dimension],
            );
        }
        expired.push(copyGrant(grant));
      }
      return expired.sort(compareBudgetExpiries);
    },

    async listGrants(options) {
      const { limit, keyPrefix } = budgetGrantListing(options);
      return [...grants.values()]
        .filter((grant) => grant.key.startsWith(keyPrefix))
        .sort(compareBudgetGrants)
        .slice(0, limit)
        .map(copyGrant);
    },
  };
}
