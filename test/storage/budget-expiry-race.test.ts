/**
 * Sweeps racing to expire budget grants, from several stores on one database (each with its own
 * connection or pool, as separate processes have): every grant due is expired by exactly one of
 * them, and what it granted leaves the counter once.
 */
import { describe, expect, it } from 'vitest';
import type { BudgetGrant, Store } from '../../src/storage/index.js';
import { openRaceStore, type RaceStoreLocation } from './budget-race-process.js';
import { raceBackends } from './race-backends.js';

const KEY = 'fleet:per_day:2026-12-03';
const GRANTED_AT = new Date('2026-12-03T10:00:00.000Z');
const EXPIRES_AT = new Date('2026-12-03T11:00:00.000Z');
const RESETS_AT = '2026-12-04T00:00:00.000Z';
/** Rounds of grants that expire, swept by racing sweeps; grants per round; stores; sweeps each. */
const ROUNDS = 8;
const PER_ROUND = 6;
const STORES = 3;
const SWEEPS_PER_STORE = 2;

/** Grant `index` of the race: 2^index tokens, so every sum names which grants it counts. */
function grantOf(index: number, expires: boolean): BudgetGrant {
  return {
    grant_id: `grant-${String(index).padStart(3, '0')}`,
    key: KEY,
    amounts: { micro_usd: 0, tokens: 2 ** index, requests: 0, tool_calls: 0 },
    by: 'ana',
    note: 'racing sweeps',
    granted_at: GRANTED_AT.toISOString(),
    resets_at: RESETS_AT,
    expires_at: expires ? EXPIRES_AT.toISOString() : null,
    expired_at: null,
  };
}

function describeExpiryRace(
  backend: RaceStoreLocation['backend'],
  available: boolean,
  open: () => Promise<{ location: RaceStoreLocation; cleanup: () => Promise<void> }>,
) {
  describe.skipIf(!available)(`budget grant expiry across stores: ${backend}`, () => {
    it('expires each grant due once, whichever sweep gets it, and takes it out of granted once', async () => {
      const { location, cleanup } = await open();
      const stores: Store[] = [];
      try {
        for (let index = 0; index < STORES; index += 1) stores.push(openRaceStore(location));
        const [first] = stores;
        const lasting = grantOf(ROUNDS * PER_ROUND, false);
        await first!.budgets.grant(lasting);
        // Every store connected (and migrated) before the race.
        await Promise.all(stores.map((store) => store.budgets.counters([KEY])));
        const splits: string[] = [];
        for (let round = 0; round < ROUNDS; round += 1) {
          const due = Array.from({ length: PER_ROUND }, (_, index) =>
            grantOf(round * PER_ROUND + index, true),
          );
          for (const grant of due) await first!.budgets.grant(grant);
          const sweptAt = new Date(EXPIRES_AT.getTime() + 1_000 + round);
          const sweeps = await Promise.all(
            stores.flatMap((store) =>
              Array.from({ length: SWEEPS_PER_STORE }, () => store.budgets.expireGrants(sweptAt)),
            ),
          );
          splits.push(sweeps.map((sweep) => sweep.length).join('+'));
          const expiredIds = sweeps.flat().map((grant) => grant.grant_id);
          expect(expiredIds.length).toBe(PER_ROUND);
          expect(new Set(expiredIds)).toEqual(new Set(due.map((grant) => grant.grant_id)));
          for (const sweep of sweeps)
            for (const grant of sweep) expect(grant.expired_at).toBe(sweptAt.toISOString());
        }
        console.log(
          `budget expiry race (${backend}): grants expired per sweep, by round: ${splits.join(', ')}`,
        );

        // Exact: powers of two, so a grant taken out twice (or not at all) shows in the sum.
        const [counter] = await first!.budgets.counters([KEY]);
        expect(counter!.granted.tokens).toBe(lasting.amounts.tokens);
        const ledger = await stores[1]!.budgets.listGrants({ limit: 1_000 });
        expect(ledger.filter((grant) => grant.expired_at !== null)).toHaveLength(
          ROUNDS * PER_ROUND,
        );
        expect(ledger.find((grant) => grant.grant_id === lasting.grant_id)?.expired_at).toBeNull();
        expect(await stores[2]!.budgets.expireGrants(new Date('2026-12-05T00:00:00Z'))).toEqual([]);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
        await cleanup();
      }
    }, 60_000);
  });
}

for (const { backend, available, open } of raceBackends('budget_expiry', 'budget expiry race'))
  describeExpiryRace(backend, available, open);
