import {
  BUDGET_DIMENSIONS,
  budgetCounterDropAfter,
  budgetGrantListing,
  budgetGrantRecord,
  budgetHoldCounters,
  budgetTotals,
  checkBudgetAmounts,
  checkBudgetGrant,
  checkBudgetHold,
  checkExpiryNow,
  compareBudgetExpiries,
  compareBudgetHolds,
  expiresWithinWindow,
  type BudgetCounter,
  type BudgetGrant,
  type BudgetHold,
  type BudgetStore,
  type BudgetTotals,
} from '../contracts/budget-store.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import { BUDGET_COUNTER_FIELDS } from './scripts.js';

/** How many ledger entries {@link BudgetStore.listGrants} reads at a time, at least. */
const GRANT_PAGE = 200;

/** Amounts as the scripts take them: decimal text, in dimension order. */
function textOf(totals: BudgetTotals): string[] {
  return BUDGET_DIMENSIONS.map((dimension) => String(totals[dimension]));
}

/** A counter from its {@link BUDGET_COUNTER_FIELDS} (null where unset). */
function counterFromFields(key: string, fields: readonly (string | null)[]): BudgetCounter {
  const [resetsAt, ...amounts] = fields;
  const totals = (kind: number): BudgetTotals => {
    const result = budgetTotals({});
    for (const [index, dimension] of BUDGET_DIMENSIONS.entries()) {
      result[dimension] = Number(amounts[kind * BUDGET_DIMENSIONS.length + index] ?? 0);
    }
    return result;
  };
  return {
    key,
    spent: totals(0),
    held: totals(1),
    granted: totals(2),
    resets_at: resetsAt ?? undefined,
  };
}

/** A stored grant; one stored before grants could expire reads with both expiry fields null. */
function grantFromJson(value: string): BudgetGrant {
  const stored = JSON.parse(value) as BudgetGrant;
  return {
    ...stored,
    expires_at: stored.expires_at ?? null,
    expired_at: stored.expired_at ?? null,
  };
}

/**
 * A {@link BudgetStore} in Redis: a hash per counter, a JSON value per open hold and a set of
 * each run's hold ids, and the grants ledger (a JSON value per grant, and a sorted set of their
 * ids scored by `granted_at` in ms: ids of one instant sort by their bytes), with a sorted set
 * of the grants still to expire scored by `expires_at` in ms. Hold, settle, grant and each
 * grant's expiry are each one Lua script over every key they touch (all named in KEYS), so the
 * check and the change of a hold are one atomic step on the server. A counter expires
 * (PEXPIREAT) once it may be dropped; grants never do.
 */
export function createRedisBudgetStore(connection: RedisConnection, keys: RedisKeys): BudgetStore {
  return {
    async hold(holdId, runId, lines, amounts, now) {
      checkBudgetHold(holdId, runId, lines, amounts);
      const asked = budgetTotals(amounts);
      const counters = budgetHoldCounters(lines);
      const place = new Map(counters.map(({ key }, index) => [key, index]));
      const hold: BudgetHold = {
        hold_id: holdId,
        run_id: runId,
        keys: counters.map(({ key }) => key),
        amounts: asked,
        created_at: now.toISOString(),
      };
      const reply = await connection.run(() =>
        connection.scripts.holdBudget({
          holdKey: keys.budgetHold(holdId),
          runHoldsKey: keys.runBudgetHolds(runId),
          counterKeys: counters.map(({ key }) => keys.budgetCounter(key)),
          hold: JSON.stringify(hold),
          holdId,
          amounts: textOf(asked),
          lines: lines.map((line) => ({
            counter: place.get(line.key)!,
            limits: BUDGET_DIMENSIONS.map((dimension) => {
              const limit = line.limits[dimension];
              return limit === undefined ? '' : String(limit);
            }),
          })),
          counters: counters.map(({ resets_at }) => ({
            resetsAt: resets_at,
            dropAfter: budgetCounterDropAfter(resets_at, now.getTime()),
          })),
        }),
      );
      if (reply.held) return { held: true, hold: JSON.parse(reply.hold) as BudgetHold };
      const line = lines[reply.line]!;
      const dimension = BUDGET_DIMENSIONS[reply.dimension]!;
      return {
        held: false,
        refusal: {
          key: line.key,
          dimension,
          limit: line.limits[dimension]! + Number(reply.granted),
          spent: Number(reply.spent),
          held: Number(reply.heldNow),
          asked: asked[dimension],
        },
      };
    },

    async settle(holdId, actual) {
      checkBudgetAmounts(actual, 'actual');
      const spent = textOf(budgetTotals(actual));
      const holdKey = keys.budgetHold(holdId);
      return retryOnConflict(`settling budget hold ${holdId}`, async () => {
        const stored = await connection.run((client) => client.get(holdKey));
        if (stored === null) return false;
        const hold = JSON.parse(stored) as BudgetHold;
        const outcome = await connection.run(() =>
          connection.scripts.settleBudget(
            holdKey,
            keys.runBudgetHolds(hold.run_id),
            hold.keys.map((key) => keys.budgetCounter(key)),
            stored,
            holdId,
            textOf(hold.amounts),
            spent,
          ),
        );
        // Settled and held anew between the read and the script: settle the new one.
        if (outcome === 'changed') return CONFLICT;
        return outcome === 'settled';
      });
    },

    async holdsOf(runId) {
      const ids = await connection.run((client) => client.smembers(keys.runBudgetHolds(runId)));
      // One GET per hold (pipelined): a hold's key may live on any node of a cluster.
      const values = await connection.run((client) =>
        Promise.all(ids.map((id) => client.get(keys.budgetHold(id)))),
      );
      return values
        .filter((value) => value !== null)
        .map((value) => JSON.parse(value) as BudgetHold)
        .sort(compareBudgetHolds);
    },

    async counters(counterKeys) {
      const fields = await connection.run((client) =>
        Promise.all(
          counterKeys.map((key) => client.hmget(keys.budgetCounter(key), ...BUDGET_COUNTER_FIELDS)),
        ),
      );
      return counterKeys.map((key, index) => counterFromFields(key, fields[index]!));
    },

    async grant(grant) {
      checkBudgetGrant(grant);
      const record = budgetGrantRecord(grant);
      const fields = await connection.run(() =>
        connection.scripts.grantBudget({
          counterKey: keys.budgetCounter(record.key),
          ledgerKey: keys.budgetGrants,
          grantKey: keys.budgetGrant(record.grant_id),
          expiriesKey: keys.budgetGrantExpiries,
          grant: JSON.stringify(record),
          grantId: record.grant_id,
          grantedAtMs: Date.parse(record.granted_at),
          expiresAtMs: record.expires_at === null ? null : Date.parse(record.expires_at),
          amounts: textOf(record.amounts),
          resetsAt: record.resets_at,
          dropAfter: budgetCounterDropAfter(record.resets_at, Date.now()),
        }),
      );
      return counterFromFields(record.key, fields);
    },

    async listGrants(options) {
      const { limit, keyPrefix } = budgetGrantListing(options);
      const grants: BudgetGrant[] = [];
      // Newest first, a page at a time: a key prefix may pass over many grants. A grant added
      // meanwhile shifts the pages, so an id seen already is passed over.
      const seen = new Set<string>();
      const page = keyPrefix === '' ? limit : Math.max(limit, GRANT_PAGE);
      for (let start = 0; grants.length < limit; start += page) {
        const ids = await connection.run((client) =>
          client.zrevrange(keys.budgetGrants, start, start + page - 1),
        );
        // One GET per grant (pipelined), as for holds.
        const values = await connection.run((client) =>
          Promise.all(ids.map((id) => client.get(keys.budgetGrant(id)))),
        );
        for (const value of values) {
          if (value === null) continue;
          const stored = grantFromJson(value);
          if (seen.has(stored.grant_id) || !stored.key.startsWith(keyPrefix)) continue;
          seen.add(stored.grant_id);
          grants.push(stored);
          if (grants.length === limit) break;
        }
        if (ids.length < page) break;
      }
      return grants;
    },

    async expireGrants(now) {
      const nowMs = checkExpiryNow(now);
      // Nothing due (the usual case): one read of the index of grants still to expire.
      const due = await connection.run((client) =>
        client.zrangebyscore(keys.budgetGrantExpiries, '-inf', String(nowMs)),
      );
      if (due.length === 0) return [];
      const values = await connection.run((client) =>
        Promise.all(due.map((id) => client.get(keys.budgetGrant(id)))),
      );
      const expiredAt = now.toISOString();
      // One script per grant, sent together (pipelined).
      const outcomes = await Promise.all(
        values.map(async (value, index) => {
          if (value === null) return undefined;
          const grant: BudgetGrant = { ...grantFromJson(value), expired_at: expiredAt };
          const expired = await connection.run(() =>
            connection.scripts.expireBudgetGrant({
              expiriesKey: keys.budgetGrantExpiries,
              grantKey: keys.budgetGrant(due[index]!),
              counterKey: keys.budgetCounter(grant.key),
              grantId: grant.grant_id,
              grant: JSON.stringify(grant),
              ungrant: expiresWithinWindow(grant),
              amounts: textOf(grant.amounts),
            }),
          );
          return expired ? grant : undefined;
        }),
      );
      return outcomes
        .filter((grant): grant is BudgetGrant => grant !== undefined)
        .sort(compareBudgetExpiries);
    },
  };
}
