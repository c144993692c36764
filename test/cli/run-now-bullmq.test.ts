import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/storage/index.js';
import { startPrivateRedis } from '../distributed/fleet.js';
import { probeRedis, REDIS_URL } from '../storage/redis-server.js';
import {
  createWorkspace,
  killLeftoverProcesses,
  scriptedAgent,
  startCli,
  waitFor,
  type Workspace,
} from './cli-process.js';
import { runInProcess } from './in-process.js';

/** Whether this machine can start a Redis of the test's own (the fleet's queue and store). */
const redis = await probeRedis(REDIS_URL);

/** The sections every process of the fleet shares: store, event log and queue on one Redis. */
const FLEET_SECTIONS = {
  memory: { backend: 'redis', url: '${FLEET_REDIS}' },
  events: { backend: 'redis_stream', url: '${FLEET_REDIS}' },
  scheduler: { kind: 'bullmq', url: '${FLEET_REDIS}' },
};

describe.skipIf(!redis.available)('run now against nightshift serve on a BullMQ fleet', () => {
  const workspaces: Workspace[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    killLeftoverProcesses();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    for (const space of workspaces.splice(0)) space.remove();
  });

  it('queues the run for a worker, which runs it; --wait prints its answer', async () => {
    const fleetRedis = await startPrivateRedis();
    cleanups.push(() => fleetRedis.stop());
    const env = { FLEET_REDIS: fleetRedis.url };
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile('fleet.yaml', { ...FLEET_SECTIONS, agents: [] });

    const worker = startCli(['worker', file, '--lease-ttl', '2'], env);
    const started = await worker.waitForLine(/: worker \S+ for /, 15_000);
    const workerId = /: worker (\S+) for /.exec(started)?.[1];
    const server = startCli(['serve', file, '--port', '0'], env);
    const served = await server.waitForLine(/^http: \S+ /, 15_000);
    const url = /^http: (\S+) /.exec(served)?.[1] ?? '';

    const agents = space.writeFile('agents.yaml', {
      ...FLEET_SECTIONS,
      agents: [
        scriptedAgent('beat', {
          interval: 3600,
          model_config: { provider: 'scripted', script: [{ answer: 'on the fleet' }] },
          tools: [],
        }),
      ],
    });
    const applied = await runInProcess(['agents', 'apply', agents, '--url', url], env);
    expect(applied.stderr).toEqual([]);
    expect(applied.stdout[0]).toBe('beat: created; started');

    const waited = await runInProcess(['agents', 'run', 'beat', '--url', url, '--wait'], env);
    expect(waited.stderr).toEqual([]);
    expect(waited.code).toBe(0);
    expect(waited.stdout).toEqual([
      expect.stringMatching(/^beat\.manual-\S+: completed in \d+ ms, \d+ tokens$/),
      'output:',
      '  on the fleet',
    ]);
    const runId = waited.stdout[0]?.split(':')[0] ?? '';
    const run = (await (await fetch(`${url}/api/runs/${runId}`)).json()) as RunRecord;
    expect(run.attempts.map((attempt) => attempt.worker_id)).toEqual([workerId]);

    const queued = await runInProcess(['agents', 'run', 'beat', '--url', url], env);
    expect(queued.code).toBe(0);
    expect(queued.stdout).toEqual([
      expect.stringMatching(/^beat\.manual-\S+: pending \(queued for the fleet's workers\)$/),
    ]);
    const queuedId = queued.stdout[0]?.split(':')[0] ?? '';
    await waitFor(
      async () => {
        const response = await fetch(`${url}/api/runs/${queuedId}`);
        const record = response.ok ? ((await response.json()) as RunRecord) : undefined;
        return record?.status === 'completed' ? record : undefined;
      },
      'the queued run to be run by the worker',
      15_000,
    );

    server.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await server.exited(15_000)).toBe(0);
    expect(await worker.exited(15_000)).toBe(0);
  }, 60_000);
});
