import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal, type RunRecord } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { probeRedis, REDIS_URL } from '../storage/redis-server.js';
import {
  controlService,
  dropFleet,
  newFleet,
  prepareWorker,
  startWorker,
  startWorkers,
} from './fleet.js';

const redis = await probeRedis(REDIS_URL);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** An agent whose one run (at start) takes `seconds`, retried once at once if it fails. */
function slowAgent(agentId: string, seconds: number) {
  return {
    agent_id: agentId,
    interval: 3_600,
    run_immediately: true,
    model_config: { provider: 'scripted', script: [{ delay: seconds, answer: 'done' }] },
    task_config: { query: 'q', max_retries: 1, retry_delay: 0 },
  };
}

async function terminal(
  control: ReturnType<typeof controlService>,
  runId: string,
): Promise<RunRecord> {
  return waitFor(
    async () => {
      const run = await control.getRun(runId);
      return isTerminal(run.status) ? run : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, what: `run ${runId} to end` },
  );
}

describe.skipIf(!redis.available)('worker crashes and shutdowns', () => {
  it('a worker killed mid-run: its attempt ends interrupted there and the run resumes on another worker; the stalled job runs nothing twice', async () => {
    const fleet = newFleet({ leaseTtlMs: 1_500 });
    cleanups.push(() => dropFleet(fleet));
    const workers = await startWorkers(fleet, ['worker-a', 'worker-b']);
    cleanups.push(() => Promise.all(workers.map((worker) => worker.kill())));
    const control = controlService(fleet);
    cleanups.push(() => control.shutdown());
    await control.create(slowAgent('slow', 2));
    await control.startAgent('slow');

    const running = await waitFor(
      async () => (await control.listRuns('slow')).find((run) => run.status === 'running'),
      { timeoutMs: 15_000, intervalMs: 20, what: 'the run to start' },
    );
    const victim = workers.find((worker) => worker.id === running.lease_owner);
    const survivor = workers.find((worker) => worker.id !== running.lease_owner);
    expect(victim && survivor).toBeTruthy();
    // Killed once the model call is on the record (the request in flight, its reply not).
    await waitFor(async () => (await control.getRunSteps(running.run_id)).length > 0, {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'the model call to be recorded',
    });
    await victim?.kill();

    const ended = await terminal(control, running.run_id);
    expect(ended.status).toBe('completed');
    expect(ended.attempts.map((attempt) => [attempt.status, attempt.worker_id])).toEqual([
      ['interrupted', victim?.id],
      ['completed', survivor?.id],
    ]);
    // The survivor resumed the run from its journal: the model call in flight had no reply on
    // the record, so it was sent again, and both requests count.
    expect(ended.attempts[1]?.resumed_from).toBe('1.0');
    expect(ended.usage.requests).toBe(2);
    const events = await control.readEvents({ agent_id: 'slow' });
    expect(
      events.filter((event) => event.type === 'background_task_resumed').map((e) => e.payload),
    ).toEqual([{ attempt: 2, from_step: '1.0', skipped_model_calls: 0, unknown_outcome_calls: 0 }]);
    const errors = events.filter((event) => event.type === 'background_task_error');
    expect(errors.map((event) => event.payload)).toMatchObject([
      { status: 'interrupted', will_retry: true },
    ]);

    // BullMQ handed the killed worker's job to the survivor, which found the tick claimed.
    const queue = new Queue(fleet.queueName, {
      connection: { url: fleet.bullmqUrl },
      prefix: fleet.prefix,
    });
    try {
      const job = await waitFor(
        async () => {
          const candidate = await queue.getJob(`tick.slow.${Date.parse(ended.scheduled_at)}`);
          return candidate?.finishedOn ? candidate : undefined;
        },
        { timeoutMs: 10_000, what: 'the stalled job to be taken again' },
      );
      expect(job.stalledCounter).toBe(1);
    } finally {
      await queue.close();
    }
    expect((await control.listRuns('slow')).map((run) => run.run_id)).toEqual([running.run_id]);
    await waitFor(
      async () =>
        (await control.listWorkers()).map((worker) => worker.worker_id).join() === survivor?.id,
      { timeoutMs: 10_000, what: 'the killed worker to leave the registry' },
    );
  }, 60_000);

  it('SIGTERM: the worker stops taking jobs, lets its run finish, exits 0; what it did not take waits for another worker', async () => {
    const fleet = newFleet();
    cleanups.push(() => dropFleet(fleet));
    // The second worker loads meanwhile, to start only once the first has gone.
    const [first, later] = await Promise.all([
      startWorker(fleet, 'worker-first', { NIGHTSHIFT_TEST_SHUTDOWN_MS: '10000' }),
      prepareWorker(fleet, 'worker-second'),
    ]);
    cleanups.push(() => first.kill());
    const control = controlService(fleet);
    cleanups.push(() => control.shutdown());
    await control.create(slowAgent('steady', 1));
    await control.startAgent('steady');
    const running = await waitFor(
      async () => (await control.listRuns('steady')).find((run) => run.status === 'running'),
      { timeoutMs: 15_000, intervalMs: 20, what: 'the run to start' },
    );
    // The worker's heartbeat says what it runs.
    await waitFor(
      async () =>
        JSON.stringify((await control.listWorkers()).map((worker) => worker.running_runs)) ===
        JSON.stringify([[running.run_id]]),
      { timeoutMs: 5_000, what: 'the heartbeat to show the run' },
    );

    expect(await first.stop()).toBe(0);
    const ended = await control.getRun(running.run_id);
    expect(ended.status).toBe('completed');
    expect(ended.attempts.map((attempt) => attempt.worker_id)).toEqual(['worker-first']);
    expect(await control.listWorkers()).toEqual([]);

    // Nobody is working: a manual run waits in the queue until a worker comes.
    const requested = await control.runNow('steady');
    const second = await later.start();
    cleanups.push(() => second.stop());
    const manual = await terminal(control, requested.run_id);
    expect(manual.status).toBe('completed');
    expect(manual.attempts.map((attempt) => attempt.worker_id)).toEqual(['worker-second']);
  }, 60_000);
});
