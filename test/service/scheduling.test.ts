import { describe, expect, it } from 'vitest';
import { jitterOffsetMs } from '../../src/schedule/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { makeService, scriptedAgent, temporaryDatabase } from './service-fixtures.js';

describe('scheduling', () => {
  it('does not drift: scheduled times are exact multiples of the interval from the start', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(scriptedAgent('metronome', { interval: 0.05 }));
    const started = await service.startAgent('metronome');
    await waitFor(async () => (await service.getAgentStatus('metronome')).run_count >= 20, {
      timeoutMs: 15_000,
    });
    const runs = (await service.listRuns('metronome', { limit: 1000 })).reverse();
    const anchor = new Date(runs[0]?.scheduled_at ?? 0).getTime();
    expect(anchor).toBeGreaterThan(new Date(started.updated_at).getTime());
    const offsets = runs.map((run) => new Date(run.scheduled_at).getTime() - anchor);
    for (const offset of offsets) expect(offset % 50).toBe(0);
    // Every tick between the first and the last is a run (or skip), or counted missed — never lost.
    const span = ((offsets.at(-1) ?? 0) - (offsets[0] ?? 0)) / 50 + 1;
    const { missed_count } = await service.getAgentStatus('metronome');
    expect(runs.length + missed_count).toBeGreaterThanOrEqual(span);
    expect(new Set(offsets).size).toBe(offsets.length);
  });

  it('run_immediately runs at start; max_runs stops the agent after N runs', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(
      scriptedAgent('eager', { interval: 0.05, run_immediately: true, max_runs: 3 }),
    );
    const started = await service.startAgent('eager');
    const stopped = await waitFor(async () => {
      const status = await service.getAgentStatus('eager');
      return status.state === 'stopped' ? status : undefined;
    });
    expect(stopped).toMatchObject({
      run_count: 3,
      pause_reason: 'max_runs (3) reached',
      next_run_at: null,
    });
    const runs = (await service.listRuns('eager')).reverse();
    expect(runs[0]?.scheduled_at).toBe(started.updated_at);
  });

  it('run_at runs once at its time, then the agent stops', async () => {
    const service = makeService();
    await service.startManager();
    const at = new Date(Date.now() + 100).toISOString();
    await service.create(scriptedAgent('once', { interval: undefined, run_at: at }));
    await service.startAgent('once');
    const stopped = await waitFor(async () => {
      const status = await service.getAgentStatus('once');
      return status.state === 'stopped' && status.run_count === 1 ? status : undefined;
    });
    expect(stopped.pause_reason).toBe('the schedule has no more fire times');
    expect((await service.listRuns('once'))[0]?.scheduled_at).toBe(at);
  });

  it('jitter delays a tick by its deterministic offset, keeping the nominal scheduled_at', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(scriptedAgent('jittery', { interval: 0.2, jitter: 0.15 }));
    await service.startAgent('jittery');
    await waitFor(async () => (await service.getAgentStatus('jittery')).run_count >= 2);
    for (const run of await service.listRuns('jittery')) {
      const scheduled = new Date(run.scheduled_at);
      const offset = jitterOffsetMs('jittery', scheduled, 0.15);
      expect(new Date(run.started_at ?? 0).getTime() - scheduled.getTime()).toBeGreaterThanOrEqual(
        offset,
      );
    }
  });

  it('computes the next fire times of a cron in its time zone', async () => {
    const service = makeService();
    await service.create(
      scriptedAgent('nightly', {
        interval: undefined,
        cron: '30 2 * * *',
        timezone: 'America/New_York',
      }),
    );
    const next = await service.nextRuns('nightly', 3);
    expect(next).toHaveLength(3);
    for (const time of next) {
      const local = new Intl.DateTimeFormat('en-US', {
        timeZone: 'America/New_York',
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
      }).format(new Date(time));
      expect(['02:30', '03:00']).toContain(local);
    }
  });

  it('restores every agent from the same SQLite file after a restart: state, counters, history, schedule', async () => {
    const url = temporaryDatabase();
    const first = makeService({ url });
    await first.startManager();
    await first.create(scriptedAgent('keeper', { interval: 0.05 }));
    await first.create(scriptedAgent('sleeper', { interval: 0.05 }));
    await first.startAgent('keeper');
    await first.startAgent('sleeper');
    await waitFor(
      async () =>
        (await first.getAgentStatus('keeper')).run_count >= 2 &&
        (await first.getAgentStatus('sleeper')).run_count >= 1,
    );
    await first.pauseAgent('sleeper');
    await first.shutdown({ timeout: 2000 });
    const kept = await makeService({ url }).getAgentStatus('keeper');

    const second = makeService({ url });
    expect(await second.getAgentStatus('sleeper')).toMatchObject({ state: 'paused' });
    await second.startManager();
    await waitFor(
      async () => (await second.getAgentStatus('keeper')).run_count >= kept.run_count + 2,
    );
    const sleeper = await second.getAgentStatus('sleeper');
    expect(sleeper.state).toBe('paused');
    const history = await second.listRuns('keeper', { limit: 1000 });
    expect(history.length).toBeGreaterThanOrEqual(kept.run_count + 2);
    expect(history.every((run) => run.status === 'completed' || run.status === 'skipped')).toBe(
      true,
    );
  });

  it('counts ticks missed while the process was down; run_once catches up the newest within grace', async () => {
    const url = temporaryDatabase();
    let clock = new Date('2026-03-01T12:00:00.000Z').getTime();
    const now = () => new Date(clock);
    const first = makeService({ url, now });
    await first.startManager();
    await first.create(scriptedAgent('skipper', { interval: 60 }));
    await first.create(
      scriptedAgent('catcher', { interval: 60, misfire_policy: 'run_once', misfire_grace: 120 }),
    );
    await first.startAgent('skipper');
    await first.startAgent('catcher');
    await first.shutdown({ timeout: 1000 });

    clock += 10 * 60_000 + 30_000; // down for ten and a half minutes: ticks at +1 … +10 min passed
    const second = makeService({ url, now });
    await second.startManager();
    expect(await second.getAgentStatus('skipper')).toMatchObject({
      missed_count: 10,
      run_count: 0,
    });
    const catcher = await second.getAgentStatus('catcher');
    expect(catcher.missed_count).toBe(9);
    const caughtUp = await waitFor(async () => (await second.listRuns('catcher'))[0]);
    expect(caughtUp.scheduled_at).toBe('2026-03-01T12:10:00.000Z');
  });

  it('a pause made by another process is obeyed before the next tick (promise 6)', async () => {
    const url = temporaryDatabase();
    const manager = makeService({ url, leaseTtlMs: 400 });
    await manager.startManager();
    await manager.create(scriptedAgent('remote', { interval: 0.05 }));
    await manager.create(scriptedAgent('witness', { interval: 0.05 }));
    await manager.startAgent('remote');
    await manager.startAgent('witness');
    await waitFor(async () => (await manager.getAgentStatus('remote')).run_count >= 1);

    const inspector = makeService({ url });
    expect((await inspector.listAgents()).map((agent) => agent.agent_id)).toEqual([
      'remote',
      'witness',
    ]);
    await inspector.pauseAgent('remote');
    // The manager learns of it within its sync interval; after that, no new run starts.
    const witnessBefore = (await manager.getAgentStatus('witness')).run_count;
    await waitFor(
      async () => (await manager.getAgentStatus('witness')).run_count >= witnessBefore + 8,
      { timeoutMs: 15_000 },
    );
    const frozen = (await manager.listRuns('remote', { limit: 1000 })).length;
    const witnessNow = (await manager.getAgentStatus('witness')).run_count;
    await waitFor(
      async () => (await manager.getAgentStatus('witness')).run_count >= witnessNow + 4,
      { timeoutMs: 15_000 },
    );
    expect((await manager.listRuns('remote', { limit: 1000 })).length).toBe(frozen);
  });
});
