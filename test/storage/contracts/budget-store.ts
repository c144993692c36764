import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  budgetTotals,
  zeroBudgetTotals,
  type BudgetAmounts,
  type BudgetCounter,
  type BudgetGrant,
  type BudgetLine,
  type BudgetStore,
} from '../../../src/storage/index.js';
import type { StoreFactory, StoreFixture } from './fixtures.js';

const RESETS_AT = '2026-12-04T00:00:00.000Z';
const NOW = new Date('2026-12-03T10:00:00.000Z');

/** `NOW` plus `seconds`. */
function at(seconds: number): Date {
  return new Date(NOW.getTime() + seconds * 1_000);
}

function line(key: string, limits: BudgetAmounts, resets_at = RESETS_AT): BudgetLine {
  return { key, limits, resets_at };
}

/** A counter as the store should show it, in the window `RESETS_AT` ends. */
function counter(
  key: string,
  amounts: { spent?: BudgetAmounts; held?: BudgetAmounts; granted?: BudgetAmounts } = {},
): BudgetCounter {
  return {
    key,
    spent: budgetTotals(amounts.spent ?? {}),
    held: budgetTotals(amounts.held ?? {}),
    granted: budgetTotals(amounts.granted ?? {}),
    resets_at: RESETS_AT,
  };
}

/** A grant of `amounts` on `key` by ada, at `NOW`, for the window `RESETS_AT` ends. */
function grantOf(
  grantId: string,
  key: string,
  amounts: BudgetAmounts,
  overrides: Partial<BudgetGrant> = {},
): BudgetGrant {
  return {
    grant_id: grantId,
    key,
    amounts: budgetTotals(amounts),
    by: 'ada',
    note: 'release week',
    granted_at: NOW.toISOString(),
    resets_at: RESETS_AT,
    expires_at: null,
    expired_at: null,
    ...overrides,
  };
}

/** `grant` as the ledger keeps it once a sweep at `at` expired it. */
function expiredAt(grant: BudgetGrant, at: Date): BudgetGrant {
  return { ...grant, expired_at: at.toISOString() };
}

const DAY_MS = 24 * 60 * 60 * 1_000;

/** A counter never written: zeroes and no window. */
function unwritten(key: string): BudgetCounter {
  return { ...counter(key), resets_at: undefined };
}

/**
 * The BudgetStore contract (atomic holds against limits, settles, grants and their ledger), run
 * against one backend.
 */
export function describeBudgetStore(name: string, factory: StoreFactory): void {
  describe(`BudgetStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let budgets: BudgetStore;

    beforeEach(async () => {
      fixture = await factory();
      budgets = fixture.store.budgets;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('holds within the limits, records the hold and adds it to held', async () => {
      const outcome = await budgets.hold(
        'hold-1',
        'run-1',
        [line('agent:alpha:per_day', { micro_usd: 100, requests: 5 })],
        { micro_usd: 30, requests: 1 },
        NOW,
      );
      const hold = {
        hold_id: 'hold-1',
        run_id: 'run-1',
        keys: ['agent:alpha:per_day'],
        amounts: { micro_usd: 30, tokens: 0, requests: 1, tool_calls: 0 },
        created_at: NOW.toISOString(),
      };
      expect(outcome).toEqual({ held: true, hold });
      expect(await budgets.holdsOf('run-1')).toEqual([hold]);
      expect(await budgets.counters(['agent:alpha:per_day', 'never:written'])).toEqual([
        counter('agent:alpha:per_day', { held: { micro_usd: 30, requests: 1 } }),
        unwritten('never:written'),
      ]);
    });

    it('reads counters in the order asked, repeats included', async () => {
      await budgets.hold('hold-1', 'run-1', [line('b', {}), line('a', {})], { tokens: 3 }, NOW);
      const read = await budgets.counters(['b', 'missing', 'a', 'b']);
      expect(read.map((item) => item.key)).toEqual(['b', 'missing', 'a', 'b']);
      expect(read.map((item) => item.held.tokens)).toEqual([3, 0, 3, 3]);
      expect(await budgets.counters([])).toEqual([]);
    });

    it('fills a limit exactly, then refuses the hold that would cross it, changing nothing', async () => {
      const lines = [line('fleet:per_month', { micro_usd: 100 })];
      expect((await budgets.hold('hold-1', 'run-1', lines, { micro_usd: 60 }, NOW)).held).toBe(
        true,
      );
      expect(await budgets.hold('hold-2', 'run-1', lines, { micro_usd: 50 }, NOW)).toEqual({
        held: false,
        refusal: {
          key: 'fleet:per_month',
          dimension: 'micro_usd',
          limit: 100,
          spent: 0,
          held: 60,
          asked: 50,
        },
      });
      expect(await budgets.counters(['fleet:per_month'])).toEqual([
        counter('fleet:per_month', { held: { micro_usd: 60 } }),
      ]);
      expect((await budgets.holdsOf('run-1')).map((hold) => hold.hold_id)).toEqual(['hold-1']);
      expect((await budgets.hold('hold-3', 'run-1', lines, { micro_usd: 40 }, NOW)).held).toBe(
        true,
      );
    });

    it('names the first line in the order given, and its first dimension, that the hold crosses', async () => {
      // Given in the reverse of key order, both lines crossing, each in two dimensions.
      const lines = [
        line('z:agent', { tool_calls: 0, tokens: 10, requests: 0 }),
        line('a:fleet', { micro_usd: 0, requests: 0 }),
      ];
      const outcome = await budgets.hold(
        'hold-1',
        'run-1',
        lines,
        { micro_usd: 1, tokens: 11, requests: 1, tool_calls: 1 },
        NOW,
      );
      expect(outcome).toEqual({
        held: false,
        refusal: { key: 'z:agent', dimension: 'tokens', limit: 10, spent: 0, held: 0, asked: 11 },
      });
      const reversed = await budgets.hold(
        'hold-2',
        'run-1',
        [...lines].reverse(),
        { micro_usd: 1, tokens: 11, requests: 1, tool_calls: 1 },
        NOW,
      );
      expect(reversed).toMatchObject({
        held: false,
        refusal: { key: 'a:fleet', dimension: 'micro_usd' },
      });
      expect(await budgets.counters(['z:agent', 'a:fleet'])).toEqual([
        expect.objectContaining({ held: zeroBudgetTotals(), spent: zeroBudgetTotals() }),
        expect.objectContaining({ held: zeroBudgetTotals(), spent: zeroBudgetTotals() }),
      ]);
      expect(await budgets.holdsOf('run-1')).toEqual([]);
    });

    it('holds against every line or none: a later line refusing leaves the others unchanged', async () => {
      await budgets.hold('setup', 'run-0', [line('b:tight', {})], { requests: 3 }, NOW);
      for (const [index, lines] of [
        // The refusing line after the one that fits, in key order and against it.
        [line('a:roomy', { requests: 100 }), line('b:tight', { requests: 3 })],
        [line('c:roomy', { requests: 100 }), line('b:tight', { requests: 3 })],
      ].entries()) {
        const outcome = await budgets.hold(`hold-${index}`, 'run-1', lines, { requests: 1 }, NOW);
        expect(outcome).toEqual({
          held: false,
          refusal: { key: 'b:tight', dimension: 'requests', limit: 3, spent: 0, held: 3, asked: 1 },
        });
      }
      const [a, b, c] = await budgets.counters(['a:roomy', 'b:tight', 'c:roomy']);
      expect(a!.held).toEqual(zeroBudgetTotals());
      expect(b!.held).toEqual(budgetTotals({ requests: 3 }));
      expect(c!.held).toEqual(zeroBudgetTotals());
      expect(await budgets.holdsOf('run-1')).toEqual([]);
    });

    it('refuses on a line given before one that fits, also when the fitting one sorts first', async () => {
      await budgets.hold('setup', 'run-0', [line('z:full', {})], { tokens: 10 }, NOW);
      const outcome = await budgets.hold(
        'hold-1',
        'run-1',
        [line('z:full', { tokens: 10 }), line('a:empty', { tokens: 10 })],
        { tokens: 1 },
        NOW,
      );
      expect(outcome).toMatchObject({ held: false, refusal: { key: 'z:full', held: 10 } });
      const [full, empty] = await budgets.counters(['z:full', 'a:empty']);
      expect(full!.held.tokens).toBe(10);
      expect(empty!.held.tokens).toBe(0);
    });

    it('holds a key given in several lines once, within the smallest of their limits', async () => {
      const lines = [
        line('agent:alpha', { micro_usd: 100 }),
        line('agent:alpha', { micro_usd: 50 }),
      ];
      expect(await budgets.hold('hold-1', 'run-1', lines, { micro_usd: 60 }, NOW)).toMatchObject({
        held: false,
        refusal: { key: 'agent:alpha', limit: 50, asked: 60 },
      });
      const outcome = await budgets.hold('hold-2', 'run-1', lines, { micro_usd: 40 }, NOW);
      expect(outcome).toMatchObject({ held: true, hold: { keys: ['agent:alpha'] } });
      const [alpha] = await budgets.counters(['agent:alpha']);
      expect(alpha!.held.micro_usd).toBe(40);
    });

    it('raises a ceiling by what is granted, creating the counter when it is new', async () => {
      const lines = [line('agent:alpha', { micro_usd: 100 })];
      await budgets.hold('hold-1', 'run-1', lines, { micro_usd: 100 }, NOW);
      expect(await budgets.hold('hold-2', 'run-1', lines, { micro_usd: 50 }, NOW)).toMatchObject({
        held: false,
        refusal: { limit: 100 },
      });

      expect(
        await budgets.grant(
          grantOf(
            'grant-1',
            'agent:alpha',
            { micro_usd: 50 },
            {
              resets_at: '2030-01-01T00:00:00.000Z',
            },
          ),
        ),
      ).toEqual(
        // The counter keeps its own window.
        counter('agent:alpha', { held: { micro_usd: 100 }, granted: { micro_usd: 50 } }),
      );
      expect((await budgets.hold('hold-2', 'run-1', lines, { micro_usd: 50 }, NOW)).held).toBe(
        true,
      );
      expect(await budgets.hold('hold-3', 'run-1', lines, { micro_usd: 1 }, NOW)).toEqual({
        held: false,
        refusal: {
          key: 'agent:alpha',
          dimension: 'micro_usd',
          limit: 150,
          spent: 0,
          held: 150,
          asked: 1,
        },
      });

      expect(await budgets.grant(grantOf('grant-2', 'agent:bravo', { tokens: 7 }))).toEqual(
        counter('agent:bravo', { granted: { tokens: 7 } }),
      );
      expect(
        await budgets.grant(grantOf('grant-3', 'agent:bravo', { tokens: 3, requests: 1 })),
      ).toEqual(counter('agent:bravo', { granted: { tokens: 10, requests: 1 } }));
      expect(await budgets.counters(['agent:bravo'])).toEqual([
        counter('agent:bravo', { granted: { tokens: 10, requests: 1 } }),
      ]);
      // Each is in the ledger, as given.
      expect(await budgets.listGrants()).toEqual([
        grantOf('grant-3', 'agent:bravo', { tokens: 3, requests: 1 }),
        grantOf('grant-2', 'agent:bravo', { tokens: 7 }),
        grantOf(
          'grant-1',
          'agent:alpha',
          { micro_usd: 50 },
          {
            resets_at: '2030-01-01T00:00:00.000Z',
          },
        ),
      ]);
    });

    it('grants an id once: the same grant again (a retried request), also raced, changes nothing', async () => {
      const first = grantOf('grant-1', 'agent:alpha', { tokens: 5 });
      expect(await budgets.grant(first)).toEqual(
        counter('agent:alpha', { granted: { tokens: 5 } }),
      );
      // Retried, even with other amounts and another key: the ledger has it, nothing changes.
      expect(await budgets.grant(first)).toEqual(
        counter('agent:alpha', { granted: { tokens: 5 } }),
      );
      expect(
        await budgets.grant(grantOf('grant-1', 'agent:alpha', { tokens: 500, requests: 9 })),
      ).toEqual(counter('agent:alpha', { granted: { tokens: 5 } }));
      expect(await budgets.grant(grantOf('grant-1', 'agent:bravo', { tokens: 1 }))).toEqual(
        unwritten('agent:bravo'),
      );

      const racing = await Promise.all(
        Array.from({ length: 8 }, () =>
          budgets.grant(grantOf('grant-2', 'agent:alpha', { tokens: 3 })),
        ),
      );
      for (const after of racing)
        expect(after).toEqual(counter('agent:alpha', { granted: { tokens: 8 } }));
      expect(await budgets.counters(['agent:alpha', 'agent:bravo'])).toEqual([
        counter('agent:alpha', { granted: { tokens: 8 } }),
        unwritten('agent:bravo'),
      ]);
      expect(await budgets.listGrants()).toEqual([
        grantOf('grant-2', 'agent:alpha', { tokens: 3 }),
        first,
      ]);
    });

    it('lists the ledger newest first, then by grant id descending; at most limit; by key prefix', async () => {
      const day = 'agent:alpha:per_day:2026-12-03';
      const month = 'agent:alpha:per_month:2026-12';
      const other = 'agent:alphabet:per_day:2026-12-03';
      const fleet = 'fleet:per_month:2026-12';
      const big = 2 ** 40 + 7;
      const given = [
        grantOf('b', day, { micro_usd: 1 }, { granted_at: at(1).toISOString() }),
        grantOf('a', fleet, { micro_usd: big }, { granted_at: at(3).toISOString(), note: '' }),
        grantOf('c', month, { tokens: 2 }, { granted_at: at(1).toISOString(), by: 'grace' }),
        // Later than `at(2)` as text, earlier as an instant (09:59:59Z).
        grantOf('e', other, { requests: 3 }, { granted_at: '2026-12-03T11:59:59+02:00' }),
        grantOf('d', day, { tool_calls: 4 }, { granted_at: at(2).toISOString() }),
      ];
      for (const grant of given) await budgets.grant(grant);
      const [b, a, c, e, d] = given;

      expect(await budgets.listGrants()).toEqual([a, d, c, b, e]);
      expect(await budgets.listGrants({})).toEqual([a, d, c, b, e]);
      expect(await budgets.listGrants({ limit: 2 })).toEqual([a, d]);
      expect(await budgets.listGrants({ limit: 0 })).toEqual([]);
      expect(await budgets.listGrants({ keyPrefix: 'agent:alpha:' })).toEqual([d, c, b]);
      expect(await budgets.listGrants({ keyPrefix: 'agent:alpha' })).toEqual([d, c, b, e]);
      expect(await budgets.listGrants({ keyPrefix: day, limit: 1 })).toEqual([d]);
      expect(await budgets.listGrants({ keyPrefix: fleet })).toEqual([a]);
      expect(await budgets.listGrants({ keyPrefix: 'agent:zulu' })).toEqual([]);
      expect(await budgets.listGrants({ keyPrefix: '' })).toEqual([a, d, c, b, e]);
      expect((await budgets.counters([fleet]))[0]!.granted.micro_usd).toBe(big);
    });

    it('lists at most 100 grants unless asked for more, and finds old ones by key prefix', async () => {
      for (let index = 0; index < 230; index += 1) {
        const key = index < 3 ? 'agent:old:per_day' : 'fleet:per_day';
        const granted_at = new Date(NOW.getTime() + index * 1_000).toISOString();
        await budgets.grant(grantOf(`grant-${index}`, key, { requests: 1 }, { granted_at }));
      }
      const newest = await budgets.listGrants();
      expect(newest).toHaveLength(100);
      expect(newest[0]!.grant_id).toBe('grant-229');
      expect(newest[99]!.grant_id).toBe('grant-130');
      expect(await budgets.listGrants({ limit: 1_000 })).toHaveLength(230);
      expect((await budgets.listGrants({ keyPrefix: 'agent:' })).map((g) => g.grant_id)).toEqual([
        'grant-2',
        'grant-1',
        'grant-0',
      ]);
    });

    // SQL and memory stores drop long-ended counters on a window's first hold; Redis lets them
    // expire on its own clock (test/storage/redis.test.ts removes one as its expiry would).
    const dropsOnHold = name !== 'redis';
    if (dropsOnHold)
      it('keeps a grant after its counter is dropped', async () => {
        const grant = grantOf(
          'grant-1',
          'agent:alpha:per_day:2020-01-01',
          { tokens: 5 },
          {
            granted_at: '2020-01-01T12:00:00.000Z',
            resets_at: '2020-01-02T00:00:00.000Z',
          },
        );
        await budgets.grant(grant);
        // A window's first hold, long after: the stores drop long-ended counters then.
        const later = new Date(Date.now() + 40 * DAY_MS);
        await budgets.hold('hold-1', 'run-1', [line('agent:alpha:now', {})], { tokens: 1 }, later);
        expect(await budgets.counters([grant.key])).toEqual([unwritten(grant.key)]);
        expect(await budgets.listGrants()).toEqual([grant]);
        // Retried after the drop, it is still granted once: the counter is not made again.
        expect(await budgets.grant(grant)).toEqual(unwritten(grant.key));
        expect(await budgets.listGrants()).toEqual([grant]);
      });

    if (dropsOnHold)
      it('expires a grant whose counter was dropped without making the counter again', async () => {
        const grant = grantOf(
          'grant-1',
          'agent:alpha:per_day:2020-01-01',
          { tokens: 5 },
          {
            granted_at: '2020-01-01T12:00:00.000Z',
            resets_at: '2020-01-02T00:00:00.000Z',
            expires_at: '2020-01-01T18:00:00.000Z',
          },
        );
        await budgets.grant(grant);
        const later = new Date(Date.now() + 40 * DAY_MS);
        await budgets.hold('hold-1', 'run-1', [line('agent:alpha:now', {})], { tokens: 1 }, later);
        expect(await budgets.expireGrants(later)).toEqual([expiredAt(grant, later)]);
        expect(await budgets.counters([grant.key])).toEqual([unwritten(grant.key)]);
      });

    it('refuses a bad grant or listing, naming the field, before writing anything', async () => {
      const good = grantOf('grant-1', 'agent:alpha', { tokens: 1 });
      const bad = (overrides: Record<string, unknown>) => budgets.grant({ ...good, ...overrides });
      const cases: [() => Promise<unknown>, RegExp][] = [
        [() => bad({ amounts: { ...good.amounts, micro_usd: -1 } }), /grant\.amounts\.micro_usd/],
        [() => bad({ amounts: { ...good.amounts, tokens: 1.5 } }), /grant\.amounts\.tokens/],
        [() => bad({ amounts: { ...good.amounts, dollars: 1 } }), /grant\.amounts\.dollars/],
        [() => bad({ amounts: undefined }), /grant\.amounts/],
        [() => bad({ grant_id: '' }), /grant\.grant_id/],
        [() => bad({ key: '' }), /grant\.key/],
        [() => bad({ by: '' }), /grant\.by/],
        [() => bad({ note: undefined }), /grant\.note/],
        [() => bad({ granted_at: 'yesterday' }), /grant\.granted_at/],
        [() => bad({ resets_at: 'never' }), /grant\.resets_at/],
        [() => bad({ expires_at: 'soon' }), /grant\.expires_at/],
        [() => bad({ expires_at: NOW.toISOString() }), /grant\.expires_at: must be after/],
        [() => bad({ expires_at: at(-1).toISOString() }), /grant\.expires_at/],
        [() => budgets.expireGrants(new Date(Number.NaN)), /now/],
        [() => budgets.listGrants({ limit: -1 }), /limit/],
        [() => budgets.listGrants({ limit: 2.5 }), /limit/],
        [() => budgets.listGrants({ keyPrefix: 7 as unknown as string }), /keyPrefix/],
      ];
      for (const [call, field] of cases) await expect(call(), String(field)).rejects.toThrow(field);
      expect(await budgets.counters(['agent:alpha'])).toEqual([unwritten('agent:alpha')]);
      expect(await budgets.listGrants()).toEqual([]);
      // An empty note is a note.
      await budgets.grant({ ...good, note: '' });
      expect(await budgets.listGrants()).toEqual([{ ...good, note: '' }]);
    });

    it('raises a ceiling by a grant until it expires: then the hold that fit does not, and spent stays spent', async () => {
      const key = 'agent:alpha:per_day:2026-12-03';
      const lines = [line(key, { requests: 3 })];
      await budgets.hold('hold-1', 'run-1', lines, { requests: 3 }, NOW);
      await budgets.settle('hold-1', { requests: 3 });
      const expiring = grantOf(
        'grant-1',
        key,
        { requests: 2 },
        { expires_at: at(60).toISOString() },
      );
      const lasting = grantOf('grant-2', key, { requests: 1 }, { granted_at: at(1).toISOString() });
      expect(await budgets.grant(expiring)).toEqual(
        counter(key, { spent: { requests: 3 }, granted: { requests: 2 } }),
      );
      await budgets.grant(lasting);
      expect(await budgets.listGrants()).toEqual([lasting, expiring]);

      // Within the grants: 3 + 2 + 1. One more request is spent while the expiring one counts.
      expect((await budgets.hold('hold-2', 'run-1', lines, { requests: 1 }, at(10))).held).toBe(
        true,
      );
      await budgets.settle('hold-2', { requests: 1 });
      expect(await budgets.expireGrants(at(59))).toEqual([]);
      expect((await budgets.counters([key]))[0]!.granted.requests).toBe(3);

      // Past its expires_at: the sweep expires it, and only it.
      expect(await budgets.expireGrants(at(61))).toEqual([expiredAt(expiring, at(61))]);
      expect(await budgets.counters([key])).toEqual([
        counter(key, { spent: { requests: 4 }, granted: { requests: 1 } }),
      ]);
      expect(await budgets.hold('hold-3', 'run-1', lines, { requests: 1 }, at(62))).toEqual({
        held: false,
        refusal: { key, dimension: 'requests', limit: 4, spent: 4, held: 0, asked: 1 },
      });
      expect(await budgets.listGrants()).toEqual([lasting, expiredAt(expiring, at(61))]);
      // Swept again, later: nothing more to expire, nothing changes.
      expect(await budgets.expireGrants(at(3_600))).toEqual([]);
      expect((await budgets.counters([key]))[0]!.granted.requests).toBe(1);
      // A retried grant of the expired id does not grant it anew.
      expect((await budgets.grant(expiring)).granted.requests).toBe(1);
    });

    it('expires each grant once when sweeps race, and answers in expiry order', async () => {
      const key = 'fleet:per_day:2026-12-03';
      const given = [
        grantOf('c', key, { tokens: 1 }, { expires_at: at(30).toISOString() }),
        grantOf('a', key, { tokens: 10 }, { expires_at: at(40).toISOString() }),
        grantOf('b', key, { tokens: 100 }, { expires_at: at(30).toISOString() }),
        grantOf(
          'd',
          'agent:bravo:per_day:2026-12-03',
          { micro_usd: 1_000, requests: 2 },
          {
            expires_at: at(20).toISOString(),
          },
        ),
        // Not due at the sweep's time.
        grantOf('e', key, { tokens: 1_000 }, { expires_at: at(90).toISOString() }),
        grantOf('f', key, { tokens: 10_000 }),
      ];
      for (const grant of given) await budgets.grant(grant);
      const sweeps = await Promise.all(
        Array.from({ length: 6 }, () => budgets.expireGrants(at(45))),
      );
      const expired = sweeps.flat();
      expect(expired.map((grant) => grant.grant_id).sort()).toEqual(['a', 'b', 'c', 'd']);
      // Each sweep answers what it expired, in expiry order, then by id.
      for (const sweep of sweeps) {
        const order = ['d', 'b', 'c', 'a'].filter((id) => sweep.some((g) => g.grant_id === id));
        expect(sweep.map((grant) => grant.grant_id)).toEqual(order);
      }
      const [fleet, bravo] = await budgets.counters([key, 'agent:bravo:per_day:2026-12-03']);
      expect(fleet!.granted.tokens).toBe(11_000);
      expect(bravo!.granted).toEqual(zeroBudgetTotals());
      expect(await budgets.expireGrants(at(89))).toEqual([]);
      expect(await budgets.expireGrants(at(90))).toEqual([expiredAt(given[4]!, at(90))]);
      expect((await budgets.counters([key]))[0]!.granted.tokens).toBe(10_000);
    });

    it('marks a grant that lapsed with its window expired, and leaves its counter as the window ended', async () => {
      const key = 'agent:alpha:per_day:2026-12-03';
      // The window ends at at(30), before the grant would have expired.
      const grant = grantOf(
        'grant-1',
        key,
        { tokens: 5 },
        {
          resets_at: at(30).toISOString(),
          expires_at: at(60).toISOString(),
        },
      );
      await budgets.grant(grant);
      expect(await budgets.expireGrants(at(61))).toEqual([expiredAt(grant, at(61))]);
      expect((await budgets.counters([key]))[0]).toMatchObject({
        granted: budgetTotals({ tokens: 5 }),
      });
      expect(await budgets.listGrants()).toEqual([expiredAt(grant, at(61))]);
    });

    it('settles a hold: its amount leaves held and the real cost joins spent, less or more', async () => {
      const lines = [line('agent:alpha', { micro_usd: 100 }), line('fleet', { micro_usd: 1_000 })];
      await budgets.hold('hold-1', 'run-1', lines, { micro_usd: 60, requests: 1 }, NOW);
      expect(await budgets.settle('hold-1', { micro_usd: 45, requests: 1, tokens: 900 })).toBe(
        true,
      );
      expect(await budgets.counters(['agent:alpha', 'fleet'])).toEqual([
        counter('agent:alpha', { spent: { micro_usd: 45, requests: 1, tokens: 900 } }),
        counter('fleet', { spent: { micro_usd: 45, requests: 1, tokens: 900 } }),
      ]);

      await budgets.hold('hold-2', 'run-1', lines, { micro_usd: 55 }, NOW);
      // The call cost more than was held: spent counts it all, past the limit.
      expect(await budgets.settle('hold-2', { micro_usd: 80 })).toBe(true);
      const [alpha] = await budgets.counters(['agent:alpha']);
      expect(alpha!.spent.micro_usd).toBe(125);
      expect(alpha!.held.micro_usd).toBe(0);
      expect(await budgets.hold('hold-3', 'run-1', lines, {}, NOW)).toEqual({
        held: false,
        refusal: {
          key: 'agent:alpha',
          dimension: 'micro_usd',
          limit: 100,
          spent: 125,
          held: 0,
          asked: 0,
        },
      });
    });

    it('settles a hold once: again, or an unknown hold, is false and changes nothing', async () => {
      const lines = [line('agent:alpha', { requests: 10 })];
      await budgets.hold('hold-1', 'run-1', lines, { requests: 2 }, NOW);
      expect(await budgets.settle('hold-1', { requests: 1 })).toBe(true);
      expect(await budgets.settle('hold-1', { requests: 1 })).toBe(false);
      expect(await budgets.settle('never-held', { requests: 1 })).toBe(false);
      expect(await budgets.counters(['agent:alpha'])).toEqual([
        counter('agent:alpha', { spent: { requests: 1 } }),
      ]);
      const racing = await Promise.all(
        Array.from({ length: 5 }, () => budgets.settle('hold-1', { requests: 1 })),
      );
      expect(racing.every((settled) => !settled)).toBe(true);
    });

    it('counts a settle raced by itself once', async () => {
      await budgets.hold('hold-1', 'run-1', [line('agent:alpha', {})], { tokens: 5 }, NOW);
      const settled = await Promise.all(
        Array.from({ length: 10 }, () => budgets.settle('hold-1', { tokens: 4 })),
      );
      expect(settled.filter(Boolean)).toHaveLength(1);
      expect(await budgets.counters(['agent:alpha'])).toEqual([
        counter('agent:alpha', { spent: { tokens: 4 } }),
      ]);
    });

    it('releases a hold when it settles with nothing spent', async () => {
      const lines = [line('agent:alpha', { tool_calls: 1 })];
      await budgets.hold('hold-1', 'run-1', lines, { tool_calls: 1 }, NOW);
      expect((await budgets.hold('hold-2', 'run-1', lines, { tool_calls: 1 }, NOW)).held).toBe(
        false,
      );
      expect(await budgets.settle('hold-1', {})).toBe(true);
      expect(await budgets.counters(['agent:alpha'])).toEqual([counter('agent:alpha')]);
      expect((await budgets.hold('hold-2', 'run-1', lines, { tool_calls: 1 }, NOW)).held).toBe(
        true,
      );
    });

    it("lists a run's open holds oldest first, without the settled ones", async () => {
      const lines = [line('agent:alpha', {})];
      // Held out of time order; ids out of time order too.
      await budgets.hold('c', 'run-1', lines, { requests: 1 }, at(3));
      await budgets.hold('b', 'run-1', lines, { requests: 1 }, at(1));
      await budgets.hold('a', 'run-1', lines, { requests: 1 }, at(2));
      await budgets.hold('d', 'run-1', lines, { requests: 1 }, at(1));
      await budgets.hold('x', 'run-2', lines, { requests: 1 }, at(0));
      expect((await budgets.holdsOf('run-1')).map((hold) => hold.hold_id)).toEqual([
        'b',
        'd',
        'a',
        'c',
      ]);
      await budgets.settle('a', {});
      await budgets.settle('b', { requests: 1 });
      const open = await budgets.holdsOf('run-1');
      expect(open.map((hold) => [hold.hold_id, hold.created_at])).toEqual([
        ['d', at(1).toISOString()],
        ['c', at(3).toISOString()],
      ]);
      expect((await budgets.holdsOf('run-2')).map((hold) => hold.hold_id)).toEqual(['x']);
      expect(await budgets.holdsOf('run-3')).toEqual([]);
      await budgets.settle('c', {});
      await budgets.settle('d', {});
      expect(await budgets.holdsOf('run-1')).toEqual([]);
    });

    it('answers a hold of an id already held with that hold, changing nothing', async () => {
      const lines = [line('agent:alpha', { micro_usd: 50 })];
      const first = await budgets.hold('hold-1', 'run-1', lines, { micro_usd: 30 }, NOW);
      // Asked again (a resumed run), even for more than fits and at another time.
      const again = await budgets.hold('hold-1', 'run-9', lines, { micro_usd: 40 }, at(60));
      expect(again).toEqual(first);
      const racing = await Promise.all(
        Array.from({ length: 5 }, () =>
          budgets.hold('hold-2', 'run-1', lines, { micro_usd: 10 }, NOW),
        ),
      );
      expect(racing.every((outcome) => outcome.held)).toBe(true);
      expect(await budgets.counters(['agent:alpha'])).toEqual([
        counter('agent:alpha', { held: { micro_usd: 40 } }),
      ]);
      expect(await budgets.holdsOf('run-9')).toEqual([]);
      expect((await budgets.holdsOf('run-1')).map((hold) => hold.hold_id)).toEqual([
        'hold-1',
        'hold-2',
      ]);

      // Once settled, the id is free: a hold of it is new.
      await budgets.settle('hold-1', { micro_usd: 30 });
      expect(await budgets.hold('hold-1', 'run-1', lines, { micro_usd: 10 }, at(60))).toMatchObject(
        { held: true, hold: { amounts: { micro_usd: 10 }, created_at: at(60).toISOString() } },
      );
      expect(await budgets.counters(['agent:alpha'])).toEqual([
        counter('agent:alpha', { spent: { micro_usd: 30 }, held: { micro_usd: 20 } }),
      ]);
    });

    it('checks only the dimensions a line limits; a hold with no lines always fits', async () => {
      const lines = [line('agent:alpha', { requests: 1 })];
      const outcome = await budgets.hold(
        'hold-1',
        'run-1',
        lines,
        { micro_usd: 1_000_000_000_000, tokens: 5_000_000, requests: 1, tool_calls: 99 },
        NOW,
      );
      expect(outcome.held).toBe(true);
      expect(await budgets.hold('hold-2', 'run-1', [], { tokens: 1 }, NOW)).toEqual({
        held: true,
        hold: {
          hold_id: 'hold-2',
          run_id: 'run-1',
          keys: [],
          amounts: budgetTotals({ tokens: 1 }),
          created_at: NOW.toISOString(),
        },
      });
      expect(await budgets.settle('hold-2', { tokens: 1 })).toBe(true);
    });

    it('keeps amounts exact far past 2^32', async () => {
      const big = 2 ** 40 + 7;
      const lines = [line('fleet', { micro_usd: 2 * big })];
      await budgets.hold('hold-1', 'run-1', lines, { micro_usd: big }, NOW);
      await budgets.settle('hold-1', { micro_usd: big - 1 });
      await budgets.hold('hold-2', 'run-1', lines, { micro_usd: big + 1 }, NOW);
      expect(await budgets.hold('hold-3', 'run-1', lines, { micro_usd: 1 }, NOW)).toMatchObject({
        held: false,
        refusal: { limit: 2 * big, spent: big - 1, held: big + 1, asked: 1 },
      });
    });

    it('refuses bad amounts, naming the field, before writing anything', async () => {
      const lines = [line('agent:alpha', { tokens: 100 })];
      const cases: [() => Promise<unknown>, RegExp][] = [
        [() => budgets.hold('h', 'run-1', lines, { tokens: -1 }, NOW), /amounts\.tokens/],
        [() => budgets.hold('h', 'run-1', lines, { micro_usd: 1.5 }, NOW), /amounts\.micro_usd/],
        [
          () => budgets.hold('h', 'run-1', lines, { dollars: 1 } as BudgetAmounts, NOW),
          /amounts\.dollars/,
        ],
        [
          () => budgets.hold('h', 'run-1', lines, { requests: Number.NaN }, NOW),
          /amounts\.requests/,
        ],
        [
          () => budgets.hold('h', 'run-1', [line('x', {}), line('y', { tokens: -3 })], {}, NOW),
          /lines\[1\]\.limits\.tokens/,
        ],
        [
          () => budgets.hold('h', 'run-1', [line('x', {}, 'soon')], {}, NOW),
          /lines\[0\]\.resets_at/,
        ],
        [() => budgets.hold('', 'run-1', lines, {}, NOW), /holdId/],
      ];
      for (const [call, field] of cases) await expect(call(), String(field)).rejects.toThrow(field);
      expect(await budgets.counters(['agent:alpha', 'x', 'y'])).toEqual([
        unwritten('agent:alpha'),
        unwritten('x'),
        unwritten('y'),
      ]);
      expect(await budgets.holdsOf('run-1')).toEqual([]);

      await budgets.hold('h', 'run-1', lines, { tokens: 10 }, NOW);
      await expect(budgets.settle('h', { tokens: 0.5 })).rejects.toThrow(/actual\.tokens/);
      expect(await budgets.holdsOf('run-1')).toHaveLength(1);
      expect(await budgets.counters(['agent:alpha'])).toEqual([
        counter('agent:alpha', { held: { tokens: 10 } }),
      ]);
    });

    it('lets exactly as many of 200 racing holds through as the limit allows', async () => {
      const lines = [line('agent:alpha:per_day', { requests: 37 }), line('fleet', {})];
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          budgets.hold(`hold-${index}`, `run-${index % 7}`, lines, { requests: 1 }, NOW),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.held)).toHaveLength(37);
      for (const outcome of outcomes) {
        if (!outcome.held)
          expect(outcome.refusal).toEqual({
            key: 'agent:alpha:per_day',
            dimension: 'requests',
            limit: 37,
            spent: 0,
            held: 37,
            asked: 1,
          });
      }
      const [alpha, fleet] = await budgets.counters(['agent:alpha:per_day', 'fleet']);
      expect(alpha!.held.requests).toBe(37);
      expect(fleet!.held.requests).toBe(37);
      const open = await Promise.all(
        Array.from({ length: 7 }, (_, run) => budgets.holdsOf(`run-${run}`)),
      );
      expect(open.flat()).toHaveLength(37);
    });
  });
}
