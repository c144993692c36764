import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { gatedModel } from './gated-model.js';
import {
  makeService,
  scriptedAgent,
  temporaryDatabase,
  testAgent,
  testProvider,
} from './service-fixtures.js';

describe('overlap policies', () => {
  it('skip (default): never two runs at once; each skipped tick is a run record with its reason', async () => {
    const gate = gatedModel();
    const service = makeService({ providers: testProvider(gate.model) });
    await service.startManager();
    await service.create(testAgent('skipper', { interval: 0.05 }));
    await service.startAgent('skipper');
    await waitFor(async () => (await service.getAgentStatus('skipper')).skip_count >= 3);
    expect(gate.waiting).toBe(1);
    const skipped = await service.listRuns('skipper', { status: 'skipped' });
    expect(skipped.length).toBeGreaterThanOrEqual(3);
    expect(skipped[0]?.skip_reason).toMatch(/^overlap: the previous run .* is still running$/);
    expect(skipped[0]?.trigger).toBe('schedule');
    const status = await service.getAgentStatus('skipper');
    expect(status).toMatchObject({ is_running: true, running_runs: 1, run_count: 0 });
    gate.openForever();
    await waitFor(async () => (await service.getAgentStatus('skipper')).run_count >= 2);
    // Every scheduled tick is on the record exactly once.
    const runs = await service.listRuns('skipper', { limit: 1000 });
    expect(new Set(runs.map((run) => run.scheduled_at)).size).toBe(runs.length);
  });

  it('skip applies to manual runs too', async () => {
    const gate = gatedModel();
    const service = makeService({ providers: testProvider(gate.model) });
    await service.startManager();
    await service.create(testAgent('manual-skip'));
    const first = await service.runNow('manual-skip');
    const second = await service.runNow('manual-skip');
    expect(first.status).toBe('running');
    expect(second).toMatchObject({ status: 'skipped', trigger: 'manual' });
    gate.openForever();
  });

  it('a run asked for as soon as the previous one is on the record as ended is not skipped', async () => {
    const service = makeService({ url: temporaryDatabase() });
    await service.startManager();
    await service.create(scriptedAgent('back-to-back'));
    for (let index = 0; index < 20; index += 1) {
      const run = await service.runNow('back-to-back');
      expect(run.status, `run ${index}: ${run.skip_reason}`).not.toBe('skipped');
      // The record says it ended: the run's overlap lease may still be on its way back.
      await waitFor(async () => (await service.getRun(run.run_id)).ended_at !== null, {
        intervalMs: 1,
      });
    }
  });

  it('queue_one: one run waits for the running one; further ticks are skipped', async () => {
    const gate = gatedModel();
    const service = makeService({ providers: testProvider(gate.model) });
    await service.startManager();
    await service.create(testAgent('queuer', { overlap_policy: 'queue_one' }));
    const first = await service.runNow('queuer');
    const queued = await service.runNow('queuer');
    const third = await service.runNow('queuer');
    expect([first.status, queued.status, third.status]).toEqual(['running', 'pending', 'skipped']);
    expect(third.skip_reason).toContain('queued');
    await waitFor(() => gate.waiting === 1);
    gate.release();
    await waitFor(async () => (await service.getRun(queued.run_id)).status === 'running');
    expect((await service.getRun(first.run_id)).status).toBe('completed');
    await waitFor(() => gate.waiting === 1);
    gate.release();
    await waitFor(async () => (await service.getRun(queued.run_id)).status === 'completed');
  });

  it('cancel_previous: a new tick cancels the run in flight', async () => {
    const gate = gatedModel();
    const service = makeService({ providers: testProvider(gate.model) });
    await service.startManager();
    await service.create(testAgent('canceller', { overlap_policy: 'cancel_previous' }));
    const first = await service.runNow('canceller');
    await waitFor(() => gate.waiting === 1);
    const second = await service.runNow('canceller');
    expect(second.status).toBe('running');
    expect(await service.getRun(first.run_id)).toMatchObject({
      status: 'cancelled',
      error: { code: 'cancelled', message: expect.stringContaining(second.run_id) },
    });
    gate.openForever();
    await waitFor(async () => (await service.getRun(second.run_id)).status === 'completed');
  });

  it('allow: runs overlap freely', async () => {
    const gate = gatedModel();
    const service = makeService({ providers: testProvider(gate.model) });
    await service.startManager();
    await service.create(testAgent('allower', { overlap_policy: 'allow' }));
    await service.runNow('allower');
    await service.runNow('allower');
    await waitFor(() => gate.waiting === 2);
    expect((await service.getAgentStatus('allower')).running_runs).toBe(2);
    gate.openForever();
    await waitFor(async () => (await service.getAgentStatus('allower')).run_count === 2);
  });
});
