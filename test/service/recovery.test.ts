import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { localScope } from '../../src/shared/process-liveness.js';
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
    output_json: null,
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

describe('recovery of a process known dead', () => {
  /** A process of this machine, and the instance id it would have had; killed, or alive. */
  async function processOnThisMachine(alive: boolean): Promise<string> {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    await new Promise<void>((spawned) => child.once('spawn', () => spawned()));
    const scope = localScope();
    if (scope === undefined) throw new Error('no pid namespace to tell');
    const id = `${hostname()}:${child.pid}:c0ffee.${scope}`;
    if (alive) onCleanup(() => void child.kill('SIGKILL'));
    else {
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGKILL');
      await exited;
    }
    return id;
  }

  it.runIf(process.platform === 'linux')(
    'takes over a dead process’s run and overlap lease at once, long before they run out, and leaves a live one’s alone',
    async () => {
      const memory = new MemoryRouter('in_memory');
      const service = serviceOn(memory, { leaseTtlMs: 600_000 });
      await service.create(scriptedAgent('sudden', {}));
      await service.create(scriptedAgent('alive', RESTART));
      const store = await memory.connect();
      const dead = await processOnThisMachine(false);
      const living = await processOnThisMachine(true);
      const inTenMinutes = new Date(Date.now() + 600_000).toISOString();
      const orphaned = orphan('sudden', { lease_owner: dead, lease_expires_at: inTenMinutes });
      const busy = orphan('alive', { lease_owner: living, lease_expires_at: inTenMinutes });
      await store.runs.claim(orphaned);
      await store.runs.claim(busy);
      // The dead process also held the agent's overlap lease for ten minutes.
      const overlap = await store.leases.acquire(
        'overlap:sudden',
        `${dead}/${orphaned.run_id}`,
        600_000,
      );
      expect(overlap).toBeDefined();
      await service.startManager();

      // Resumed and completed under the service's default lease of ten minutes: neither lease
      // was waited for.
      const done = await waitFor(async () => {
        const run = await service.getRun(orphaned.run_id);
        return run.status === 'completed' ? run : undefined;
      });
      expect(done.attempts.map((attempt) => attempt.status)).toEqual(['interrupted', 'completed']);
      expect(done.attempts[1]?.resumed_from).toBeNull();
      expect(await service.getRun(busy.run_id)).toMatchObject({
        status: 'running',
        lease_owner: living,
      });
    },
  );
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
