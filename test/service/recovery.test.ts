import { describe, expect, it } from 'vitest';
import {
  EventRouter,
  MemoryRouter,
  BackgroundAgentService,
  emptyUsage,
  type RunRecord,
} from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { gatedModel } from './gated-model.js';
import { onCleanup, scriptedAgent, testAgent, testProvider } from './service-fixtures.js';

function serviceOn(
  memory: MemoryRouter,
  options: ConstructorParameters<typeof BackgroundAgentService>[2] = {},
) {
  const service = new BackgroundAgentService(memory, new EventRouter('in_memory'), {
    leaseTtlMs: 200,
    ...options,
  });
  onCleanup(() => service.shutdown({ timeout: 500 }));
  return service;
}

/** The behaviour before durable runs: a dead process's run starts again only as a retry. */
const RESTART = { task_config: { query: 'Do the task.', on_interrupt: 'restart' as const } };

function orphan(agentId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  const past = new Date(Date.now() - 60_000).toISOString();
  return {
    run_id: `${agentId}.${Date.parse(past)}`,
    agent_id: agentId,
    trigger: 'schedule',
    scheduled_at: past,
    created_at: past,
    started_at: past,
    ended_at: null,
    status: 'running',
    query: 'Do the task.',
    attempts: [],
    output: null,
    error: null,
    usage: emptyUsage(),
    skip_reason: null,
    lease_owner: 'a-process-that-died',
    lease_expires_at: new Date(Date.now() - 1000).toISOString(),
    ...overrides,
  };
}

describe('recovery', () => {
  it('ends a run whose process died (lease expired) interrupted, on the record and in the counters', async () => {
    const memory = new MemoryRouter('in_memory');
    const service = serviceOn(memory);
    await service.create(scriptedAgent('orphaned', RESTART));
    const store = await memory.connect();
    const run = orphan('orphaned');
    await store.runs.claim(run);
    await service.startManager();
    expect(await service.getRun(run.run_id)).toMatchObject({
      status: 'interrupted',
      error: { code: 'interrupted' },
      lease_owner: null,
      attempts: [{ attempt: 1, status: 'interrupted' }],
    });
    expect(await service.getAgentStatus('orphaned')).toMatchObject({
      error_count: 1,
      last_run_status: 'interrupted',
    });
  });

  it('retries an interrupted run when retries remain, under the same run id', async () => {
    const memory = new MemoryRouter('in_memory');
    const service = serviceOn(memory);
    await service.create(
      scriptedAgent('phoenix', { task_config: { query: 'Do the task.', max_retries: 1 } }),
    );
    const store = await memory.connect();
    const run = orphan('phoenix');
    await store.runs.claim(run);
    await service.startManager();
    const finished = await waitFor(async () => {
      const current = await service.getRun(run.run_id);
      return current.status === 'completed' ? current : undefined;
    });
    expect(finished.attempts.map((attempt) => attempt.status)).toEqual([
      'interrupted',
      'completed',
    ]);
    expect(finished.output).toBe('phoenix done');
  });

  it('leaves a run alone while its lease is live, and recovers it once the lease expires', async () => {
    const memory = new MemoryRouter('in_memory');
    const service = serviceOn(memory);
    await service.create(scriptedAgent('later', RESTART));
    const store = await memory.connect();
    const run = orphan('later', { lease_expires_at: new Date(Date.now() + 300).toISOString() });
    await store.runs.claim(run);
    await service.startManager();
    expect((await service.getRun(run.run_id)).status).toBe('running');
    await waitFor(async () => (await service.getRun(run.run_id)).status === 'interrupted', {
      timeoutMs: 5000,
    });
  });

  it('a process that lost its lease stops writing: a stale holder cannot write over the new one', async () => {
    const gate = gatedModel();
    const memory = new MemoryRouter('in_memory');
    const service = serviceOn(memory, { providers: testProvider(gate.model), leaseTtlMs: 60_000 });
    await service.startManager();
    await service.create(testAgent('contested'));
    const finished = service.runNow('contested', { wait: true });
    await waitFor(() => gate.waiting === 1);
    const [run] = await service.listRuns('contested');
    if (!run) throw new Error('no run');
    const store = await memory.connect();
    // Another process takes the run over (as recovery would after this one stalled).
    await store.runs.update(run.run_id, { lease_owner: 'the-new-holder' });
    gate.openForever();
    // This process finishes its work, finds the run is no longer its own, and writes nothing more.
    await finished;
    expect(await service.getRun(run.run_id)).toMatchObject({
      status: 'running',
      lease_owner: 'the-new-holder',
      output: null,
    });
    const events = await service.readEvents({ agent_id: 'contested' });
    expect(events.some((event) => event.type === 'background_task_completed')).toBe(false);
    expect((await service.getAgentStatus('contested')).run_count).toBe(0);
  });
});

describe('recovery and missed ticks', () => {
  it('never counts the tick of a recovered run as missed', async () => {
    const memory = new MemoryRouter('in_memory');
    const service = serviceOn(memory);
    await service.create(
      scriptedAgent('steady', {
        interval: 10,
        task_config: { query: 'Do the task.', max_retries: 1 },
      }),
    );
    const store = await memory.connect();
    // Started 10.5 s ago: its one tick so far was 0.5 s ago, and a process that died had its run.
    const anchor = Date.now() - 10_500;
    await store.agents.update('steady', {
      state: 'active',
      anchor_at: new Date(anchor).toISOString(),
    });
    const tick = new Date(anchor + 10_000).toISOString();
    const run = orphan('steady', { run_id: `steady.${Date.parse(tick)}`, scheduled_at: tick });
    await store.runs.claim(run);
    await service.startManager();
    const finished = await waitFor(async () => {
      const current = await service.getRun(run.run_id);
      return current.status === 'completed' ? current : undefined;
    });
    expect(finished.attempts.map((attempt) => attempt.status)).toEqual([
      'interrupted',
      'completed',
    ]);
    expect((await service.getAgentStatus('steady')).missed_count).toBe(0);
  });
});
