import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jitterOffsetMs } from '../../src/schedule/index.js';
import { MemoryRouter, type RunRecord, type Store } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { probeRedis, REDIS_URL } from '../storage/redis-server.js';
import {
  controlService,
  dropFleet,
  newFleet,
  overlaps,
  startWorkers,
  type WorkerProcess,
} from './fleet.js';

const redis = await probeRedis(REDIS_URL);
if (!redis.available) console.warn(`skipped the distributed suite: ${redis.reason}`);

const script = { provider: 'scripted', script: [{ answer: 'ok' }] };

describe.skipIf(!redis.available)('a fleet of three worker processes on BullMQ', () => {
  const fleet = newFleet();
  const control = controlService(fleet);
  const storeRouter = new MemoryRouter('redis', {
    url: fleet.storeUrl,
    namespace: fleet.namespace,
  });
  let store: Store;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    store = await storeRouter.connect();
    workers = await startWorkers(fleet, ['worker-1', 'worker-2', 'worker-3']);
  }, 40_000);

  afterAll(async () => {
    const exitCodes = await Promise.all(workers.map((worker) => worker.stop()));
    await control.shutdown();
    await storeRouter.close();
    await dropFleet(fleet);
    expect(exitCodes).toEqual([0, 0, 0]);
  }, 30_000);

  it('runs 50 agents at 1 s: one run per tick, on the tick, no overlap, every tick accounted for', async () => {
    const ids = Array.from({ length: 50 }, (_, index) => `agent-${String(index).padStart(2, '0')}`);
    const jittered = new Set(ids.filter((_, index) => index % 10 === 0));
    for (const agentId of ids) {
      await control.create({
        agent_id: agentId,
        interval: 1,
        ...(jittered.has(agentId) ? { jitter: 0.4 } : {}),
        model_config: script,
        task_config: { query: 'q' },
      });
    }
    await Promise.all(ids.map((agentId) => control.startAgent(agentId)));

    // About ten seconds of ticks, read from the store rather than slept through.
    await waitFor(
      async () =>
        (await control.listAgents()).every(
          (status) => status.run_count + status.skip_count + status.missed_count >= 10,
        ),
      { timeoutMs: 30_000, intervalMs: 200, what: 'ten ticks of every agent' },
    );
    expect((await control.listWorkers()).map((worker) => worker.worker_id)).toEqual([
      'worker-1',
      'worker-2',
      'worker-3',
    ]);
    await Promise.all(ids.map((agentId) => control.pauseAgent(agentId)));
    await waitFor(
      async () => (await control.listAgents()).every((status) => status.running_runs === 0),
      { timeoutMs: 10_000, what: 'runs in flight to end' },
    );

    const executedBy = new Set<string>();
    for (const agentId of ids) {
      const record = await store.agents.get(agentId);
      const anchor = Date.parse(record?.anchor_at ?? '');
      const pausedAt = Date.parse(record?.updated_at ?? '');
      const runs = (await control.listRuns(agentId, { limit: 1_000 })).filter(
        (run) => run.trigger === 'schedule',
      );
      const ticks = runs.map((run) => Date.parse(run.scheduled_at));
      // One run per tick, each on the agent's own ticks (anchor + k × 1 s), none twice.
      expect(new Set(ticks).size).toBe(ticks.length);
      for (const tick of ticks) {
        expect(tick > anchor && (tick - anchor) % 1_000 === 0).toBe(true);
      }
      expect(overlaps(runs)).toEqual([]);
      expect(runs.every((run) => ['completed', 'skipped'].includes(run.status))).toBe(true);
      // Every tick up to the pause is a run or a recorded miss; only the one due as the pause
      // landed may have been dropped (its job found the agent paused).
      const expected = Math.floor((pausedAt - anchor) / 1_000);
      const accounted = runs.length + (record?.stats.missed_count ?? 0);
      expect(accounted, agentId).toBeLessThanOrEqual(expected);
      expect(accounted, agentId).toBeGreaterThanOrEqual(expected - 1);
      if (jittered.has(agentId)) {
        // Jitter delays the run, never the tick it belongs to.
        for (const run of runs.filter((candidate) => candidate.started_at)) {
          const scheduledAt = new Date(run.scheduled_at);
          expect(Date.parse(run.started_at ?? '')).toBeGreaterThanOrEqual(
            scheduledAt.getTime() + jitterOffsetMs(agentId, scheduledAt, 0.4),
          );
        }
      }
      for (const run of runs)
        for (const attempt of run.attempts) executedBy.add(attempt.worker_id ?? '');
    }
    expect([...executedBy].sort()).toEqual(['worker-1', 'worker-2', 'worker-3']);

    // Events as with the local scheduler: each completed run started and completed once.
    const sample = ids[1] ?? '';
    const events = await control.readEvents({ agent_id: sample, limit: 10_000 });
    const completed = (await control.listRuns(sample, { limit: 1_000 })).filter(
      (run) => run.status === 'completed',
    );
    const count = (type: string) => events.filter((event) => event.type === type).length;
    expect(count('background_task_started')).toBe(completed.length);
    expect(count('background_task_completed')).toBe(completed.length);
  }, 60_000);

  it('pausing from one process stops the agent on every worker before its next tick; resuming counts the ticks missed', async () => {
    for (const agentId of ['paused-one', 'sentinel']) {
      await control.create({
        agent_id: agentId,
        interval: 0.25,
        model_config: script,
        task_config: { query: 'q' },
      });
      await control.startAgent(agentId);
    }
    await waitFor(async () => (await control.getAgentStatus('paused-one')).run_count >= 3, {
      timeoutMs: 10_000,
    });
    await control.pauseAgent('paused-one');
    const frozen = (await control.listRuns('paused-one', { limit: 1_000 })).length;
    const sentinelRuns = (await control.getAgentStatus('sentinel')).run_count;
    await waitFor(
      async () => (await control.getAgentStatus('sentinel')).run_count >= sentinelRuns + 8,
      { timeoutMs: 10_000, what: 'eight more ticks of the sentinel' },
    );
    // Not one tick of the paused agent was taken by any worker (not even recorded).
    expect((await control.listRuns('paused-one', { limit: 1_000 })).length).toBe(frozen);
    const queue = new Queue(fleet.queueName, {
      connection: { url: fleet.bullmqUrl },
      prefix: fleet.prefix,
    });
    try {
      expect(await queue.getJobScheduler('paused-one')).toBeUndefined();
      expect(await queue.getJobScheduler('sentinel')).toBeDefined();
    } finally {
      await queue.close();
    }

    await control.resumeAgent('paused-one');
    const resumed = await waitFor(
      async () => {
        const status = await control.getAgentStatus('paused-one');
        return status.run_count >= frozen + 2 ? status : undefined;
      },
      { timeoutMs: 10_000, what: 'runs after resuming' },
    );
    // Eight sentinel ticks of 0.25 s passed while paused: at least six were missed.
    expect(resumed.missed_count).toBeGreaterThanOrEqual(6);
    await control.pauseAgent('paused-one');
    await control.pauseAgent('sentinel');
  }, 40_000);

  it('runs a manual run requested by a process that runs no agents on a worker', async () => {
    await control.create({
      agent_id: 'manual',
      interval: 3_600,
      model_config: script,
      task_config: { query: 'q' },
    });
    const pending: RunRecord = await control.runNow('manual', { query: 'now, please' });
    expect(pending).toMatchObject({ status: 'pending', trigger: 'manual', query: 'now, please' });
    const first = await waitFor(async () => {
      const run = await store.runs.get(pending.run_id);
      return run?.status === 'completed' ? run : undefined;
    });
    expect(first.query).toBe('now, please');
    // With `wait`, the caller follows the store until the run, wherever it ran, has ended.
    const waited = await control.runNow('manual', { wait: true });
    expect(waited.status).toBe('completed');
    expect(waited.attempts[0]?.worker_id).toMatch(/^worker-/);
  }, 20_000);
});
