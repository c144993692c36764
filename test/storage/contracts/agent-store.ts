import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentStats, AgentStore, StatsDelta } from '../../../src/storage/index.js';
import { agentDefinition, agentRecord, type StoreFactory, type StoreFixture } from './fixtures.js';

/** The AgentStore contract, run against one backend. */
export function describeAgentStore(name: string, factory: StoreFactory): void {
  describe(`AgentStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let agents: AgentStore;

    beforeEach(async () => {
      fixture = await factory();
      agents = fixture.store.agents;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('stamps updated_at by the clock given to its factory', async () => {
      const fixed = new Date('2031-02-03T04:05:06.789Z');
      const clocked = await factory({ now: () => fixed });
      try {
        await clocked.store.agents.insert(agentRecord('alpha'));
        const updated = await clocked.store.agents.update('alpha', { state: 'paused' });
        expect(updated?.updated_at).toBe(fixed.toISOString());
        expect((await clocked.store.agents.get('alpha'))?.updated_at).toBe(fixed.toISOString());
      } finally {
        await clocked.cleanup();
      }
    });

    it('stores an agent and reads it back', async () => {
      const record = agentRecord('alpha');
      expect(await agents.insert(record)).toBe(true);
      expect(await agents.get('alpha')).toEqual(record);
      expect(await agents.get('missing')).toBeUndefined();
    });

    it('inserts only when absent: a second insert of the id returns false and changes nothing', async () => {
      const first = agentRecord('alpha');
      await agents.insert(first);
      const second = agentRecord('alpha', {
        state: 'active',
        definition: agentDefinition('alpha', 'Another query.'),
      });
      expect(await agents.insert(second)).toBe(false);
      expect(await agents.get('alpha')).toEqual(first);
    });

    it('lets exactly one of many racing inserts of one id win', async () => {
      const contenders = Array.from({ length: 20 }, (_, index) =>
        agentRecord('alpha', { definition: agentDefinition('alpha', `Query ${index}.`) }),
      );
      const results = await Promise.all(contenders.map((record) => agents.insert(record)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await agents.get('alpha')).toEqual(contenders[results.indexOf(true)]);
    });

    it('lists every agent ordered by agent_id', async () => {
      expect(await agents.list()).toEqual([]);
      for (const agentId of ['charlie', 'alpha', 'bravo'])
        await agents.insert(agentRecord(agentId));
      expect((await agents.list()).map((record) => record.agent_id)).toEqual([
        'alpha',
        'bravo',
        'charlie',
      ]);
    });

    it('applies a patch, keeps other fields, and bumps version and updated_at', async () => {
      const original = agentRecord('alpha', { pause_reason: 'maintenance' });
      await agents.insert(original);
      const updated = await agents.update('alpha', {
        state: 'active',
        anchor_at: original.created_at,
      });
      expect(updated).toMatchObject({
        state: 'active',
        anchor_at: original.created_at,
        pause_reason: 'maintenance',
        version: 2,
        definition: original.definition,
        created_at: original.created_at,
        stats: original.stats,
      });
      expect(updated!.updated_at > original.updated_at).toBe(true);
      expect(await agents.get('alpha')).toEqual(updated);
    });

    it('treats undefined patch fields as unchanged and null as a value', async () => {
      await agents.insert(agentRecord('alpha', { state: 'paused', pause_reason: 'maintenance' }));
      const kept = await agents.update('alpha', { pause_reason: undefined, state: undefined });
      expect(kept).toMatchObject({ state: 'paused', pause_reason: 'maintenance', version: 2 });
      const cleared = await agents.update('alpha', { state: 'active', pause_reason: null });
      expect(cleared).toMatchObject({ state: 'active', pause_reason: null, version: 3 });
    });

    it('replaces the definition on update', async () => {
      await agents.insert(agentRecord('alpha'));
      const definition = agentDefinition('alpha', 'A new query.');
      await agents.update('alpha', { definition });
      expect((await agents.get('alpha'))?.definition).toEqual(definition);
    });

    it('returns undefined when updating an absent agent, and does not create it', async () => {
      expect(await agents.update('ghost', { state: 'active' })).toBeUndefined();
      expect(await agents.updateStats('ghost', { skipped: 1 })).toBeUndefined();
      expect(await agents.get('ghost')).toBeUndefined();
    });

    it('moves counters as applyStatsDelta says: errors, failure streaks, totals', async () => {
      await agents.insert(agentRecord('alpha'));
      const failed = { code: 'model_error', message: 'the model refused' } as const;
      const run = (status: NonNullable<StatsDelta['run']>['status'], minute: number) => ({
        run: {
          status,
          ended_at: `2024-01-01T00:0${minute}:00.000Z`,
          duration_ms: 100,
          total_tokens: 10,
          error: status === 'completed' || status === 'cancelled' ? null : failed,
        },
      });

      await agents.updateStats('alpha', run('failed', 1));
      const afterTwoErrors = await agents.updateStats('alpha', run('timed_out', 2));
      expect(afterTwoErrors?.stats).toMatchObject({
        run_count: 2,
        error_count: 2,
        consecutive_failures: 2,
        last_run_status: 'timed_out',
        last_error: failed,
      });

      const afterCancel = await agents.updateStats('alpha', run('cancelled', 3));
      expect(afterCancel?.stats).toMatchObject({ error_count: 2, consecutive_failures: 2 });

      const afterSuccess = await agents.updateStats('alpha', run('completed', 4));
      expect(afterSuccess?.stats).toMatchObject({
        run_count: 4,
        error_count: 2,
        consecutive_failures: 0,
        last_run_status: 'completed',
        last_run_at: '2024-01-01T00:04:00.000Z',
        total_tokens: 40,
        total_duration_ms: 400,
      });

      const afterInterrupt = await agents.updateStats('alpha', run('interrupted', 5));
      expect(afterInterrupt?.stats).toMatchObject({ error_count: 3, consecutive_failures: 1 });
      expect(await agents.get('alpha')).toEqual(afterInterrupt);
    });

    it("adds a run's cost to the total, its day and its month; a new day or month starts over", async () => {
      await agents.insert(agentRecord('alpha'));
      const priced = (usd: number, day: string): StatsDelta => ({
        run: {
          status: 'completed',
          ended_at: `${day}T12:00:00.000Z`,
          duration_ms: 10,
          total_tokens: 100,
          error: null,
          cost: { usd, day, month: day.slice(0, 7) },
        },
      });
      await agents.updateStats('alpha', priced(0.1, '2026-03-31'));
      // Dollars to the millionth: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
      const sameDay = await agents.updateStats('alpha', priced(0.2, '2026-03-31'));
      expect(sameDay?.stats).toMatchObject({
        cost_total_usd: 0.3,
        cost_day: { day: '2026-03-31', usd: 0.3 },
        cost_month: { month: '2026-03', usd: 0.3 },
      });

      // A new month (and day): both start at the run's cost; the total goes on.
      const newMonth = await agents.updateStats('alpha', priced(0.0004, '2026-04-01'));
      expect(newMonth?.stats).toMatchObject({
        cost_total_usd: 0.3004,
        cost_day: { day: '2026-04-01', usd: 0.0004 },
        cost_month: { month: '2026-04', usd: 0.0004 },
      });
      // A new day in the same month: the day starts over, the month adds.
      const newDay = await agents.updateStats('alpha', priced(0.000123, '2026-04-02'));
      expect(newDay?.stats).toMatchObject({
        cost_total_usd: 0.300523,
        cost_day: { day: '2026-04-02', usd: 0.000123 },
        cost_month: { month: '2026-04', usd: 0.000523 },
      });
      // A run that ended on an older day (a clock behind) adds to the total and its month only.
      const late = await agents.updateStats('alpha', priced(1, '2026-04-01'));
      expect(late?.stats).toMatchObject({
        cost_total_usd: 1.300523,
        cost_day: { day: '2026-04-02', usd: 0.000123 },
        cost_month: { month: '2026-04', usd: 1.000523 },
      });
      // A run without a cost (a free or unpriced model) moves no spend.
      const free = await agents.updateStats('alpha', {
        run: {
          status: 'completed',
          ended_at: '2026-04-03T00:00:00.000Z',
          duration_ms: 10,
          total_tokens: 5,
          error: null,
        },
      });
      expect(free?.stats).toMatchObject({
        run_count: 6,
        cost_total_usd: 1.300523,
        cost_day: { day: '2026-04-02', usd: 0.000123 },
      });
      expect(await agents.get('alpha')).toEqual(free);
    });

    it('reads counters stored before costs were counted as no spend, and counts from there', async () => {
      const {
        cost_total_usd: _total,
        cost_day: _day,
        cost_month: _month,
        ...older
      } = agentRecord('alpha').stats;
      await agents.insert(
        agentRecord('alpha', { stats: { ...older, run_count: 7 } as AgentStats }),
      );
      const skipped = await agents.updateStats('alpha', { skipped: 1 });
      expect(skipped?.stats).toMatchObject({
        run_count: 7,
        skip_count: 1,
        cost_total_usd: 0,
        cost_day: null,
        cost_month: null,
      });
      await agents.insert(agentRecord('bravo', { stats: { ...older } as AgentStats }));
      const priced = await agents.updateStats('bravo', {
        run: {
          status: 'failed',
          ended_at: '2026-12-03T08:00:00.000Z',
          duration_ms: 10,
          total_tokens: 900,
          error: { code: 'model_error', message: 'upstream said no' },
          cost: { usd: 0.0123, day: '2026-12-03', month: '2026-12' },
        },
      });
      expect(priced?.stats).toMatchObject({
        run_count: 1,
        error_count: 1,
        cost_total_usd: 0.0123,
        cost_day: { day: '2026-12-03', usd: 0.0123 },
        cost_month: { month: '2026-12', usd: 0.0123 },
      });
    });

    it('counts skips and misses, and never moves last_scheduled_at back', async () => {
      await agents.insert(agentRecord('alpha'));
      await agents.updateStats('alpha', { skipped: 1, scheduled_at: '2024-01-01T00:05:00.000Z' });
      await agents.updateStats('alpha', { missed: 3, scheduled_at: '2024-01-01T00:02:00.000Z' });
      const stats = (await agents.get('alpha'))?.stats;
      expect(stats).toMatchObject({
        skip_count: 1,
        missed_count: 3,
        run_count: 0,
        last_scheduled_at: '2024-01-01T00:05:00.000Z',
      });
    });

    it('does not bump version for counters (they are not definition or state)', async () => {
      await agents.insert(agentRecord('alpha'));
      const updated = await agents.updateStats('alpha', { skipped: 1 });
      expect(updated?.version).toBe(1);
    });

    it('loses no counter change when many land at once', async () => {
      await agents.insert(agentRecord('alpha'));
      await Promise.all(
        Array.from({ length: 20 }, () => agents.updateStats('alpha', { skipped: 1 })),
      );
      expect((await agents.get('alpha'))?.stats.skip_count).toBe(20);
    });

    it('deletes an agent once', async () => {
      await agents.insert(agentRecord('alpha'));
      await agents.insert(agentRecord('bravo'));
      expect(await agents.delete('alpha')).toBe(true);
      expect(await agents.get('alpha')).toBeUndefined();
      expect(await agents.delete('alpha')).toBe(false);
      expect((await agents.list()).map((record) => record.agent_id)).toEqual(['bravo']);
    });

    it('keeps its state apart from the objects callers hold', async () => {
      const record = agentRecord('alpha');
      await agents.insert(record);
      record.state = 'stopped';
      const read = await agents.get('alpha');
      read!.stats.run_count = 99;
      read!.definition.task_config.query = 'changed';
      expect(await agents.get('alpha')).toEqual(agentRecord('alpha'));
    });
  });
}
