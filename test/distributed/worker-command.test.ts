import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/cli-context.js';
import { registerWorkerCommand } from '../../src/cli/commands/worker.js';
import {
  BackgroundAgentService,
  createBullmqScheduler,
  EventRouter,
  MemoryRouter,
} from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { probeRedis, REDIS_URL } from '../storage/redis-server.js';
import { temporaryDirectory } from '../storage/temporary-directory.js';
import { startPrivateRedis } from './fleet.js';

const redis = await probeRedis(REDIS_URL);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.skipIf(!redis.available)('nightshift worker <file>', () => {
  it('executes the runs of agents managed elsewhere, and shuts down on SIGTERM', async () => {
    // Everything on a Redis of the test's own: the file names no key prefix.
    const server = await startPrivateRedis();
    cleanups.push(() => server.stop());
    const directory = temporaryDirectory();
    cleanups.push(async () => directory.remove());
    const file = join(directory.path, 'fleet.yaml');
    writeFileSync(
      file,
      [
        'memory: { backend: redis, url: "${FLEET_REDIS}" }',
        'events: { backend: redis_stream, url: "${FLEET_REDIS}" }',
        'scheduler: { kind: bullmq, url: "${FLEET_REDIS}", concurrency: 4 }',
        'agents: []',
      ].join('\n'),
    );

    const stdout: string[] = [];
    const stderr: string[] = [];
    let deliver: (signal: string) => void = () => undefined;
    const context: CliContext = {
      out: (line) => stdout.push(line),
      err: (line) => stderr.push(line),
      env: { FLEET_REDIS: server.url },
      waitForStop: () => new Promise((resolve) => (deliver = resolve)),
    };
    const program = new Command('nightshift').exitOverride();
    registerWorkerCommand(program, context);
    const exited = program.parseAsync(['worker', file, '--lease-ttl', '2'], { from: 'user' });
    cleanups.push(async () => {
      deliver('SIGTERM');
      await exited;
    });
    const started = await waitFor(() => stdout.find((line) => line.includes(': worker ')), {
      timeoutMs: 15_000,
      what: 'the worker to start',
    });
    expect(started).toContain('4 runs at once');
    expect(started).not.toContain(server.url.replace('redis://', ''));

    // An API node: the same store and scheduler, running nothing itself.
    const control = new BackgroundAgentService(
      new MemoryRouter('redis', { url: server.url }),
      new EventRouter('redis_stream', { url: server.url }),
      { scheduler: createBullmqScheduler({ url: server.url }) },
    );
    cleanups.push(() => control.shutdown());
    await control.create({
      agent_id: 'remote',
      interval: 0.3,
      model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
      task_config: { query: 'q' },
    });
    await control.startAgent('remote');
    await waitFor(async () => (await control.getAgentStatus('remote')).run_count >= 2, {
      timeoutMs: 10_000,
    });
    const [worker] = await control.listWorkers();
    expect(started).toContain(`worker ${worker?.worker_id} `);
    const [run] = await control.listRuns('remote', { status: 'completed', limit: 1 });
    expect(run?.attempts[0]?.worker_id).toBe(worker?.worker_id);

    deliver('SIGTERM');
    await exited;
    expect(stdout.at(-2)).toMatch(/^SIGTERM: no new runs/);
    expect(stdout.at(-1)).toBe('nightshift: worker stopped');
    expect(await control.listWorkers()).toEqual([]);
    expect(stderr).toEqual([]);
  }, 30_000);
});
