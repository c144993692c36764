import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRouter } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { probeRedis, REDIS_URL } from '../storage/redis-server.js';
import { controlService, dropFleet, newFleet, startPrivateRedis, startWorkers } from './fleet.js';

const redis = await probeRedis(REDIS_URL);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.skipIf(!redis.available)('reconciliation of BullMQ with the store', () => {
  it('brings the schedules back after BullMQ’s Redis lost everything (FLUSHALL), accounting for every tick, and removes strays', async () => {
    // BullMQ on a Redis of this test's own (a cache that may lose its data); the store on the shared one.
    const cache = await startPrivateRedis();
    cleanups.push(() => cache.stop());
    const fleet = newFleet({ bullmqUrl: cache.url, reconcileIntervalMs: 2_000 });
    cleanups.push(() => dropFleet(fleet));
    const workers = await startWorkers(fleet, ['worker-1', 'worker-2']);
    cleanups.push(() => Promise.all(workers.map((worker) => worker.stop())));
    const control = controlService(fleet);
    cleanups.push(() => control.shutdown());
    const queue = new Queue(fleet.queueName, {
      connection: { url: cache.url },
      prefix: fleet.prefix,
    });
    cleanups.push(() => queue.close());

    const agents = ['alpha', 'bravo'];
    for (const agentId of agents) {
      await control.create({
        agent_id: agentId,
        interval: 0.25,
        model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
        task_config: { query: 'q' },
      });
      await control.startAgent(agentId);
    }
    // A job scheduler no active agent owns (left by a crash between two writes, say).
    await queue.upsertJobScheduler(
      'ghost',
      { every: 60_000 },
      { name: 'tick', data: { kind: 'tick', agent_id: 'ghost', version: 1 } },
    );
    await waitFor(async () => (await queue.getJobScheduler('ghost')) === undefined, {
      timeoutMs: 10_000,
      what: 'reconciliation to remove the stray job scheduler',
    });
    await waitFor(
      async () => (await control.listAgents()).every((status) => status.run_count >= 3),
      { timeoutMs: 10_000 },
    );

    const cacheClient = new Redis(cache.url);
    cleanups.push(async () => cacheClient.disconnect());
    await cacheClient.flushall();
    const flushedAt = (await control.listAgents()).map((status) => status.run_count);
    expect(await queue.getJobSchedulersCount()).toBe(0);

    // Runs continue: reconciliation re-created both job schedulers.
    await waitFor(
      async () =>
        (await control.listAgents()).every(
          (status, index) => status.run_count >= (flushedAt[index] ?? 0) + 4,
        ),
      { timeoutMs: 15_000, intervalMs: 100, what: 'runs after the flush' },
    );
    expect((await queue.getJobSchedulers()).map((scheduler) => scheduler.key).sort()).toEqual(
      agents,
    );
    await waitFor(async () => (await control.listWorkers()).length === 2, {
      timeoutMs: 5_000,
      what: 'the workers’ heartbeats to come back',
    });

    for (const agentId of agents) await control.pauseAgent(agentId);
    await waitFor(async () =>
      (await control.listAgents()).every((status) => status.running_runs === 0),
    );
    const storeRouter = new MemoryRouter('redis', {
      url: fleet.storeUrl,
      namespace: fleet.namespace,
    });
    cleanups.push(() => storeRouter.close());
    const store = await storeRouter.connect();
    for (const agentId of agents) {
      const record = await store.agents.get(agentId);
      const anchor = Date.parse(record?.anchor_at ?? '');
      const pausedAt = Date.parse(record?.updated_at ?? '');
      const runs = await control.listRuns(agentId, { limit: 1_000 });
      const ticks = runs.map((run) => run.scheduled_at);
      expect(new Set(ticks).size).toBe(ticks.length);
      // The ticks lost with Redis's data are on the record as missed, not silently gone.
      const expected = Math.floor((pausedAt - anchor) / 250);
      const accounted = runs.length + (record?.stats.missed_count ?? 0);
      expect(accounted, agentId).toBeLessThanOrEqual(expected);
      expect(accounted, agentId).toBeGreaterThanOrEqual(expected - 1);
    }
  }, 60_000);
});
