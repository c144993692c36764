import { describe, expect, it } from 'vitest';
import { checkPartition, ownsAgent, partitionOf } from '../../src/service/partition.js';
import type { BackgroundAgentService } from '../../src/index.js';
import type { RunRecord } from '../../src/storage/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { makeService, scriptedAgent, temporaryDatabase } from './service-fixtures.js';
import { thrownError } from '../helpers/thrown-error.js';

describe('partitionOf', () => {
  it('is stable: the same id lands in the same partition, whatever the call', () => {
    // Pinned values: managers of different releases on one store must agree.
    expect(partitionOf('', 2 ** 32)).toBe(2_872_998_923);
    expect(partitionOf('a', 2 ** 32)).toBe(444_641_715);
    expect(partitionOf('monitor', 2 ** 32)).toBe(1_762_530_309);
    for (const id of ['monitor', 'nightly-report', 'é-unicode', 'x'.repeat(300)]) {
      expect(partitionOf(id, 4)).toBe(partitionOf(id, 4));
      expect(partitionOf(id, 1)).toBe(0);
    }
  });

  it('spreads 1,000 agent ids over 4 partitions within 20% of an even share', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 1_000; i += 1) counts[partitionOf(`agent-${i}`, 4)]! += 1;
    for (const count of counts) {
      expect(count).toBeGreaterThanOrEqual(200);
      expect(count).toBeLessThanOrEqual(300);
    }
  });

  it('gives each agent exactly one owner of N', () => {
    for (let i = 0; i < 100; i += 1) {
      const owners = [0, 1, 2].filter((index) => ownsAgent({ index, count: 3 }, `agent-${i}`));
      expect(owners).toHaveLength(1);
    }
    expect(ownsAgent(undefined, 'anyone')).toBe(true);
  });
});

describe('the partition option', () => {
  it.each([
    [{ index: 2, count: 2 }, 'partition.index'],
    [{ index: -1, count: 2 }, 'partition.index'],
    [{ index: 0.5, count: 2 }, 'partition.index'],
    [{ index: 0, count: 0 }, 'partition.count'],
    [{ index: 0, count: 1.5 }, 'partition.count'],
    [{ index: '0', count: 2 }, 'partition.index'],
    ['0/2', 'partition'],
  ])('refuses %j naming %s', (partition, field) => {
    const error = thrownError(() => checkPartition(partition));
    expect(error.code).toBe('config_invalid');
    expect(error.fields.map((problem) => problem.path)).toContain(field);
  });

  it('is refused, naming it, with a distributed scheduler', () => {
    const error = thrownError(() =>
      makeService({
        partition: { index: 0, count: 2 },
        scheduler: { kind: 'bullmq', url: 'redis://127.0.0.1:6379' },
      }),
    );
    expect(error.fields.map((problem) => problem.path)).toEqual(['partition']);
  });
});

describe('two managers on one store, each with its partition', () => {
  it('runs every tick once, each agent only by its owner; a manual run runs in the process asked', async () => {
    const url = temporaryDatabase();
    const managers: BackgroundAgentService[] = [0, 1].map((index) =>
      makeService({ url, partition: { index, count: 2 }, syncIntervalMs: 200 }),
    );
    await Promise.all(managers.map((manager) => manager.startManager()));
    const [first, second] = managers as [BackgroundAgentService, BackgroundAgentService];
    const ids = Array.from({ length: 20 }, (_, i) => `agent-${i}`);
    // Created and started in one process: the other hears of its agents through the event log.
    for (const id of ids) {
      await first.create(scriptedAgent(id, { interval: 1 }));
      await first.startAgent(id);
    }
    const owner = (id: string) => managers[partitionOf(id, 2)]!;
    expect(new Set(ids.map((id) => partitionOf(id, 2)))).toEqual(new Set([0, 1]));

    const runsOf = async (id: string) => first.listRuns(id, { limit: 100 });
    await waitFor(
      async () => {
        for (const id of ids) {
          const runs = await runsOf(id);
          if (runs.filter((run) => run.status === 'completed').length < 2) return false;
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'two completed runs of every agent' },
    );

    // A manual run of an agent the other manager owns runs where it was asked.
    const foreign = ids.find((id) => owner(id) === second)!;
    const manual = await first.runNow(foreign, { wait: true });
    expect(manual.status).toBe('completed');
    expect(manual.attempts.map((attempt) => attempt.worker_id)).toEqual([first.instanceId]);

    for (const id of ids) {
      const scheduled = (await runsOf(id)).filter((run: RunRecord) => run.trigger === 'schedule');
      // One run per tick: no two runs of one scheduled instant.
      const ticks = scheduled.map((run) => run.scheduled_at);
      expect(new Set(ticks).size).toBe(ticks.length);
      // Every attempt by the manager owning the agent.
      const workers = new Set(
        scheduled.flatMap((run) => run.attempts.map((attempt) => attempt.worker_id)),
      );
      expect([...workers]).toEqual([owner(id).instanceId]);
    }
  }, 45_000);
});
