import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentStore, StatsDelta } from '../../../src/storage/index.js';
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
