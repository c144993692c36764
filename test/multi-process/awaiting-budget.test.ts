/**
 * A run waiting for its budget across real processes on Postgres and Redis: the manager that ran
 * it is killed while it waits, a grant comes from another process, and a new manager takes the
 * run up from its journal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { uniqueName } from '../storage/postgres-server.js';
import { startManager } from './multi-process.js';
import { testableBackends } from './shared-backends.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.each(testableBackends())('a run waiting for its budget on $name', (backend) => {
  it('holds nothing while it waits, survives its manager, and goes on after a grant in another process', async () => {
    const namespace = uniqueName('ns_waiting');
    cleanups.push(() => backend.drop(namespace));
    const control = new BackgroundAgentService(
      new MemoryRouter(backend.memory, { url: backend.url, namespace }),
      new EventRouter(backend.events, { url: backend.url, namespace }),
    );
    cleanups.push(() => control.shutdown());
    await control.create({
      agent_id: 'waiter',
      interval: 3600,
      run_immediately: true,
      model_config: {
        provider: 'scripted',
        script: [{ tool: 'system_stats' }, { answer: 'all well' }],
      },
      task_config: { query: 'check the machine', max_retries: 0 },
      tools: ['system_stats'],
      // The first request fits; the second waits for more.
      budget_config: { per_day: { requests: 1 }, on_exhausted: 'wait' },
    });
    const environment = {
      NIGHTSHIFT_TEST_URL: backend.url,
      NIGHTSHIFT_TEST_MEMORY: backend.memory,
      NIGHTSHIFT_TEST_EVENTS: backend.events,
      NIGHTSHIFT_TEST_NAMESPACE: namespace,
    };
    const first = await startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'first' });
    cleanups.push(() => first.stop());
    await control.startAgent('waiter');
    const [waiting] = await waitFor(
      async () => {
        const runs = await control.listRuns('waiter', { status: 'awaiting_budget' });
        return runs.length > 0 ? runs : undefined;
      },
      { timeoutMs: 20_000, what: 'the run to wait for its budget' },
    );
    expect(waiting).toMatchObject({
      lease_owner: null,
      error: { code: 'budget.agent.per_day.requests' },
    });

    // Its manager dies while it waits: there is nothing of it to recover, only to wake.
    first.child.kill('SIGKILL');
    const second = await startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'second' });
    cleanups.push(() => second.stop());
    expect((await control.getRun(waiting!.run_id)).status).toBe('awaiting_budget');
    await control.grantBudget({
      scope: { agent_id: 'waiter' },
      window: 'per_day',
      requests: 1,
      by: 'ops',
      note: 'finish the check',
    });
    const done = await waitFor(
      async () => {
        const run = await control.getRun(waiting!.run_id);
        return run.status === 'completed' ? run : undefined;
      },
      { timeoutMs: 20_000, what: 'the run to complete in the second manager' },
    );
    expect(done.output).toBe('all well');
    expect(done.attempts.map((attempt) => [attempt.status, attempt.worker_id])).toEqual([
      ['awaiting_budget', 'first'],
      ['completed', 'second'],
    ]);
    // Two requests in all: the first reply came from the journal.
    expect(done.usage.requests).toBe(2);
    const steps = await control.getRunSteps(done.run_id);
    expect(steps.filter((step) => step.kind === 'tool_call')).toHaveLength(1);
    expect(await second.stop()).toBe(0);
  });
});
