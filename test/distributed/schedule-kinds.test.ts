import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { probeRedis, REDIS_URL } from '../storage/redis-server.js';
import { dropFleet, fleetScheduler, newFleet } from './fleet.js';

const redis = await probeRedis(REDIS_URL);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const script = { provider: 'scripted', script: [{ answer: 'ok' }] };

describe.skipIf(!redis.available)('BullMQ ticks on every kind of schedule', () => {
  it('fires cron (with seconds, in a time zone), run_at, start_at and run_immediately on the local scheduler’s instants', async () => {
    const fleet = newFleet();
    cleanups.push(() => dropFleet(fleet));
    const service = new BackgroundAgentService(
      new MemoryRouter('redis', { url: fleet.storeUrl, namespace: fleet.namespace }),
      new EventRouter('redis_stream', { url: fleet.storeUrl, namespace: fleet.namespace }),
      { scheduler: fleetScheduler(fleet), leaseTtlMs: fleet.leaseTtlMs, instanceId: 'in-process' },
    );
    cleanups.push(() => service.shutdown());
    await service.startManager();

    const soon = (ms: number) => new Date(Date.now() + ms).toISOString();
    const runAt = soon(1_200);
    const startAt = soon(1_500);
    await service.create({
      agent_id: 'cron',
      cron: '* * * * * *',
      timezone: 'Europe/Paris',
      model_config: script,
      task_config: { query: 'q' },
    });
    await service.create({
      agent_id: 'once',
      run_at: runAt,
      model_config: script,
      task_config: { query: 'q' },
    });
    await service.create({
      agent_id: 'later',
      interval: 0.5,
      start_at: startAt,
      model_config: script,
      task_config: { query: 'q' },
    });
    await service.create({
      agent_id: 'eager',
      interval: 3_600,
      run_immediately: true,
      model_config: script,
      task_config: { query: 'q' },
    });
    for (const agentId of ['cron', 'once', 'later', 'eager']) await service.startAgent(agentId);

    await waitFor(
      async () => {
        const [cron, once, later, eager] = await Promise.all(
          ['cron', 'once', 'later', 'eager'].map((agentId) => service.getAgentStatus(agentId)),
        );
        return (
          (cron?.run_count ?? 0) >= 3 &&
          once?.state === 'stopped' &&
          (later?.run_count ?? 0) >= 2 &&
          (eager?.run_count ?? 0) >= 1
        );
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );

    const ticks = async (agentId: string) =>
      (await service.listRuns(agentId)).map((run) => Date.parse(run.scheduled_at)).sort();
    const cron = await ticks('cron');
    expect(cron.every((tick) => tick % 1_000 === 0)).toBe(true);
    expect(cron.slice(1).map((tick, index) => tick - (cron[index] ?? 0))).toEqual(
      cron.slice(1).map(() => 1_000),
    );

    expect(await ticks('once')).toEqual([Date.parse(runAt)]);
    expect(await service.getAgentStatus('once')).toMatchObject({
      state: 'stopped',
      pause_reason: 'the schedule has no more fire times',
    });

    const storeRouter = new MemoryRouter('redis', {
      url: fleet.storeUrl,
      namespace: fleet.namespace,
    });
    cleanups.push(() => storeRouter.close());
    const store = await storeRouter.connect();
    const anchorOf = async (agentId: string) =>
      Date.parse((await store.agents.get(agentId))?.anchor_at ?? '');

    // Interval ticks stay on anchor + k × interval, from start_at on.
    const later = await ticks('later');
    const laterAnchor = await anchorOf('later');
    expect(later[0]).toBeGreaterThanOrEqual(Date.parse(startAt));
    expect((later[0] ?? 0) - Date.parse(startAt)).toBeLessThan(500);
    expect(later.every((tick) => (tick - laterAnchor) % 500 === 0)).toBe(true);

    // run_immediately: the first run is the tick at the anchor itself.
    expect(await ticks('eager')).toEqual([await anchorOf('eager')]);
  }, 30_000);
});
