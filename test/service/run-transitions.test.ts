import { describe, expect, it } from 'vitest';
import { parseAgentDefinition } from '../../src/index.js';
import { emptyStats, type AgentRecord, type RunRecord } from '../../src/storage/contracts/index.js';
import { createMemoryEventLog, createMemoryStore } from '../../src/storage/memory/index.js';
import { EventPublisher } from '../../src/service/event-publisher.js';
import { LocalScheduler } from '../../src/service/local-scheduler.js';
import { Redactor } from '../../src/service/redactor.js';
import { newRunRecord } from '../../src/service/run-records.js';
import { abortReasons } from '../../src/service/runs/abort-reasons.js';
import { runDurationMs, RunTransitions } from '../../src/service/runs/run-transitions.js';
import type { SchedulerTarget } from '../../src/service/tick-scheduler.js';
import { waitFor } from '../helpers/wait-for.js';

const start = new Date('2026-01-01T00:00:00.000Z');

/** Transitions on a real in-memory store, with a clock the test moves. */
async function setup() {
  const store = createMemoryStore();
  const log = createMemoryEventLog();
  let now = start;
  const clock = () => now;
  const events = new EventPublisher(log, clock, new Redactor());
  const transitions = new RunTransitions({
    store,
    events,
    now: clock,
    instanceId: 'here',
    leaseTtlMs: 30_000,
  });
  const definition = parseAgentDefinition({
    agent_id: 'a',
    interval: 60,
    model_config: { provider: 'scripted', script: [{ answer: 'x' }] },
    task_config: { query: 'q' },
  });
  const agent: AgentRecord = {
    agent_id: 'a',
    definition,
    state: 'active',
    pause_reason: null,
    anchor_at: start.toISOString(),
    created_at: start.toISOString(),
    updated_at: start.toISOString(),
    version: 1,
    stats: emptyStats(),
  };
  await store.agents.insert(agent);
  const run = (owner: string): RunRecord =>
    newRunRecord({
      runId: `a:${owner}`,
      agentId: 'a',
      trigger: 'schedule',
      scheduledAt: start,
      query: 'q',
      now: start,
      leaseOwner: owner,
      leaseExpiresAt: new Date(start.getTime() + 30_000).toISOString(),
    });
  return {
    store,
    log,
    transitions,
    run,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
  };
}

describe('run transitions', () => {
  it('measures a run from its start, and a run that never started as 0', () => {
    const endedAt = new Date(start.getTime() + 1500);
    expect(runDurationMs({ started_at: start.toISOString() }, endedAt)).toBe(1500);
    expect(runDurationMs({ started_at: null }, endedAt)).toBe(0);
    expect(runDurationMs({ started_at: endedAt.toISOString() }, start)).toBe(0);
  });

  it('cancels a run another process holds: fenced on its holder, stats and event once', async () => {
    const { store, log, transitions, run, advance } = await setup();
    const running = await transitions.claimRunning(run('there'));
    expect(running?.status).toBe('running');
    advance(2000);
    const cancelled = await transitions.cancel(running!, 'stop');
    expect(cancelled?.run).toMatchObject({
      status: 'cancelled',
      lease_owner: null,
      lease_expires_at: null,
      error: { code: 'cancelled', message: 'stop' },
    });
    expect(cancelled?.agent?.stats).toMatchObject({ run_count: 1, total_duration_ms: 2000 });
    // The record changed under the second attempt: its fence fails and nothing more is written.
    expect(await transitions.cancel(running!, 'stop again')).toBeUndefined();
    expect((await store.agents.get('a'))?.stats.run_count).toBe(1);
    const errors = (await log.read({})).filter((event) => event.type === 'background_task_error');
    expect(errors.map((event) => event.payload)).toEqual([
      {
        error: { code: 'cancelled', message: 'stop' },
        attempt: 1,
        will_retry: false,
        status: 'cancelled',
      },
    ]);
  });

  it('writes nothing for this process once another holds the run', async () => {
    const { store, transitions, run } = await setup();
    const theirs = run('there');
    expect(await transitions.claim(theirs)).toBe(true);
    expect(await transitions.start(theirs.run_id, start.toISOString())).toBeUndefined();
    expect(await transitions.heartbeat(theirs.run_id)).toBeUndefined();
    const finished = await transitions.finish(theirs, {
      status: 'completed',
      output: 'x',
      error: null,
      usage: theirs.usage,
      attempts: [],
    });
    expect(finished).toBeUndefined();
    expect((await store.runs.get(theirs.run_id))?.status).toBe('pending');
    expect((await store.agents.get('a'))?.stats.run_count).toBe(0);
  });

  it('ends a queued run that never started interrupted at shutdown, in no time, with no event', async () => {
    const { log, transitions, run, advance } = await setup();
    const queued = run('here');
    await transitions.claim(queued);
    advance(5000);
    const ended = await transitions.abandon(queued, abortReasons.shutdown());
    expect(ended.run).toMatchObject({ status: 'interrupted', error: { code: 'interrupted' } });
    expect(ended.agent?.stats).toMatchObject({ run_count: 1, total_duration_ms: 0 });
    expect(ended.agent?.stats.last_scheduled_at).toBe(start.toISOString());
    expect((await log.read({})).filter((event) => event.run_id === queued.run_id)).toEqual([]);
  });

  it('records a skip as a run with its reason, counted and announced', async () => {
    const { log, store, transitions, run } = await setup();
    const skipped = await transitions.skip(run('here'), 'overlap: busy');
    expect(skipped).toMatchObject({ status: 'skipped', skip_reason: 'overlap: busy' });
    expect(await transitions.skip(run('here'), 'again')).toBeUndefined();
    expect((await store.agents.get('a'))?.stats).toMatchObject({ skip_count: 1, run_count: 0 });
    const events = await log.read({});
    expect(events.map((event) => event.type)).toEqual(['background_task_skipped']);
  });
});

describe('LocalScheduler as a peer of the distributed one', () => {
  it('has no queue: manual runs run here, ticks reach onTick, no workers are listed', async () => {
    const ticks: string[] = [];
    const target: SchedulerTarget = {
      onTick: async (agentId, scheduledAt) => {
        ticks.push(`${agentId}@${scheduledAt.toISOString()}`);
        return 'handled';
      },
      onManual: async () => 'handled',
      onResume: async () => 'handled',
      onMissed: () => undefined,
      onFinished: () => undefined,
      runningRuns: () => [],
      listAgents: async () => [],
    };
    const scheduler = new LocalScheduler(target, () => new Date());
    const request = { agent_id: 'a', run_id: 'r', query: 'q', requested_at: start.toISOString() };
    expect(await scheduler.enqueueManual(request)).toBe('run_here');
    await scheduler.enqueueTick('a', start);
    await waitFor(() => ticks.length === 1);
    expect(ticks).toEqual([`a@${start.toISOString()}`]);
    expect(await scheduler.listWorkers()).toEqual([]);
    await scheduler.close();
  });
});
