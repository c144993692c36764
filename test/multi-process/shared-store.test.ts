import { afterEach, describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  compareEventIds,
  EventRouter,
  MemoryRouter,
  type NightshiftEvent,
} from '../../src/index.js';
import { overlaps } from '../helpers/run-overlaps.js';
import { waitFor } from '../helpers/wait-for.js';
import { uniqueName } from '../storage/postgres-server.js';
import { startManager, type ManagerProcess } from './multi-process.js';
import { testableBackends, type Backend } from './shared-backends.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function inspector(backend: Backend, namespace: string): BackgroundAgentService {
  const service = new BackgroundAgentService(
    new MemoryRouter(backend.memory, { url: backend.url, namespace }),
    new EventRouter(backend.events, { url: backend.url, namespace }),
  );
  cleanups.push(() => service.shutdown());
  return service;
}

function managerEnvironment(backend: Backend, namespace: string): Record<string, string> {
  return {
    NIGHTSHIFT_TEST_URL: backend.url,
    NIGHTSHIFT_TEST_MEMORY: backend.memory,
    NIGHTSHIFT_TEST_EVENTS: backend.events,
    NIGHTSHIFT_TEST_NAMESPACE: namespace,
  };
}

const testable = testableBackends();

describe.each(testable)('two processes on one $name store', (backend) => {
  it('is reachable in CI', () => {
    expect(backend.unavailable).toBeUndefined();
  });

  it('never runs a tick twice nor overlaps an agent; a pause from a third process is obeyed by both', async () => {
    const namespace = uniqueName('ns_multi');
    cleanups.push(() => backend.drop(namespace));
    const control = inspector(backend, namespace);
    const agents = ['alpha', 'bravo', 'charlie'];
    for (const agentId of agents) {
      await control.create({
        agent_id: agentId,
        interval: 0.2,
        // Each run takes longer than the interval: without the cluster-wide lease, runs would overlap.
        model_config: { provider: 'scripted', script: [{ delay: 0.3, answer: `${agentId} ok` }] },
        task_config: { query: 'q' },
      });
      await control.startAgent(agentId);
    }
    const environment = {
      ...managerEnvironment(backend, namespace),
      NIGHTSHIFT_TEST_LEASE_TTL_MS: '1500',
    };
    const managers: ManagerProcess[] = await Promise.all([
      startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'manager-1' }),
      startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'manager-2' }),
    ]);
    cleanups.push(async () => Promise.all(managers.map((manager) => manager.stop())));

    await waitFor(
      async () =>
        (await control.listAgents()).every(
          (status) => status.run_count >= 3 && status.skip_count >= 2,
        ),
      { timeoutMs: 20_000 },
    );

    await control.pauseAgent('alpha');
    const frozenAt = (await control.listRuns('alpha', { limit: 1000 })).length;
    await waitFor(async () => (await control.getAgentStatus('bravo')).run_count >= 6, {
      timeoutMs: 20_000,
    });
    await waitFor(async () => (await control.getAgentStatus('alpha')).running_runs === 0, {
      timeoutMs: 5_000,
    });
    // No new tick of the paused agent was taken by either process.
    expect((await control.listRuns('alpha', { limit: 1000 })).length).toBe(frozenAt);

    const exitCodes = await Promise.all(managers.map((manager) => manager.stop()));
    expect(exitCodes).toEqual([0, 0]);

    for (const agentId of agents) {
      const runs = await control.listRuns(agentId, { limit: 1000 });
      const ticks = runs.map((run) => run.scheduled_at);
      expect(new Set(ticks).size).toBe(ticks.length);
      expect(overlaps(runs)).toEqual([]);
      const unexpected = runs.filter(
        (run) => !['completed', 'skipped', 'interrupted'].includes(run.status),
      );
      expect(
        unexpected.map((run) => ({
          status: run.status,
          error: run.error,
          scheduled_at: run.scheduled_at,
          skip_reason: run.skip_reason,
        })),
      ).toEqual([]);
    }
  }, 60_000);

  it('streams events another process emits, in order and without gaps', async () => {
    const namespace = uniqueName('ns_events');
    cleanups.push(() => backend.drop(namespace));
    const control = inspector(backend, namespace);
    await control.create({
      agent_id: 'talker',
      interval: 0.1,
      model_config: { provider: 'scripted', script: [{ answer: 'hello' }] },
      task_config: { query: 'q' },
    });
    await control.startAgent('talker');
    const seen: NightshiftEvent[] = [];
    const controller = new AbortController();
    cleanups.push(async () => controller.abort());
    const reading = (async () => {
      for await (const event of control.streamAgentEvents('talker', { signal: controller.signal }))
        seen.push(event);
    })();
    const manager = await startManager(managerEnvironment(backend, namespace));
    cleanups.push(() => manager.stop());
    await waitFor(
      () => seen.filter((event) => event.type === 'background_task_completed').length >= 5,
      {
        timeoutMs: 20_000,
      },
    );
    await manager.stop();
    controller.abort();
    await reading;
    const stored = await control.readEvents({ agent_id: 'talker', limit: 10_000 });
    const fromStream = seen.map((event) => event.id);
    const first = fromStream[0] ?? '0';
    const last = fromStream.at(-1) ?? '0';
    const storedIds = stored
      .map((event) => event.id)
      .filter((id) => compareEventIds(id, first) >= 0 && compareEventIds(id, last) <= 0);
    expect(fromStream).toEqual(storedIds);
  }, 60_000);
});
