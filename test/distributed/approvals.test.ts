/**
 * A person in the loop on BullMQ: a run waiting for approval ends its job, so a worker with
 * concurrency 1 runs other agents meanwhile; its worker dies; the approval from a process that
 * runs no agents makes a new worker take the run up from its journal.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { probeRedis, REDIS_URL } from '../storage/redis-server.js';
import { controlService, dropFleet, newFleet, startWorker, type WorkerProcess } from './fleet.js';

const redis = await probeRedis(REDIS_URL);
if (!redis.available) console.warn(`skipped the distributed approvals suite: ${redis.reason}`);

describe.skipIf(!redis.available)('an approval on a BullMQ fleet', () => {
  const fleet = newFleet();
  const control = controlService(fleet);
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await control.shutdown();
    await dropFleet(fleet);
  }, 30_000);

  it('holds no worker slot while it waits, and goes on in another worker after the decision', async () => {
    await control.create({
      agent_id: 'asker',
      interval: 3_600,
      model_config: {
        provider: 'scripted',
        script: [{ tool: 'system_stats' }, { answer: 'checked' }],
      },
      task_config: { query: 'check' },
      tools: ['system_stats'],
      agent_config: { approvals: [{ tools: ['system_stats'] }] },
    });
    await control.create({
      agent_id: 'other',
      interval: 3_600,
      model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
      task_config: { query: 'q' },
    });
    await control.create({
      agent_id: 'slow',
      interval: 3_600,
      model_config: { provider: 'scripted', script: [{ answer: 'slow ok', delay: 1.5 }] },
      task_config: { query: 'q' },
    });
    const first = await startWorker(fleet, 'worker-1', { NIGHTSHIFT_TEST_CONCURRENCY: '1' });
    workers.push(first);
    const asked = await control.runNow('asker');
    await waitFor(async () => (await control.getRun(asked.run_id)).status === 'awaiting_approval', {
      timeoutMs: 15_000,
      what: 'the run to wait for approval',
    });
    // The only slot of the only worker is free: another agent's run goes through meanwhile.
    const other = await control.runNow('other', { wait: true });
    expect(other).toMatchObject({ status: 'completed' });
    expect(other.attempts[0]?.worker_id).toMatch(/^worker-1/);

    await first.kill();
    const second = await startWorker(fleet, 'worker-2', { NIGHTSHIFT_TEST_CONCURRENCY: '1' });
    workers.push(second);
    // The new worker's only slot is busy when the decision comes: the waiting run's next attempt
    // is queued for it, and starts once that slot is free, not beside the slow run.
    const slow = await control.runNow('slow');
    await waitFor(async () => (await control.getRun(slow.run_id)).status === 'running', {
      timeoutMs: 15_000,
      what: 'the slow run to start',
    });
    const [approval] = await control.listApprovals({ state: 'pending', run_id: asked.run_id });
    await control.decideApproval(approval!.approval_id, { decision: 'approve', by: 'ana' });
    const done = await waitFor(
      async () => {
        const run = await control.getRun(asked.run_id);
        return run.status === 'completed' ? run : undefined;
      },
      { timeoutMs: 15_000, what: 'the run to complete on the second worker' },
    ).catch(async (error: unknown) => {
      console.log('DEBUG', second.errors(), JSON.stringify(await control.getRun(asked.run_id)));
      throw error;
    });
    expect(done.output).toBe('checked');
    expect(done.attempts.map((attempt) => attempt.status)).toEqual([
      'awaiting_approval',
      'completed',
    ]);
    expect(done.attempts[1]?.worker_id).toMatch(/^worker-2/);
    const slowDone = await control.getRun(slow.run_id);
    expect(slowDone.status).toBe('completed');
    expect(Date.parse(done.attempts[1]!.started_at)).toBeGreaterThanOrEqual(
      Date.parse(slowDone.ended_at!),
    );
    const tools = (await control.getRunSteps(asked.run_id)).filter(
      (step) => step.kind === 'tool_call',
    );
    expect(tools).toHaveLength(1);
  }, 60_000);
});
