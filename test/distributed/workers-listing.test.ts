import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/index.js';
import { runInProcess } from '../cli/in-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { probeRedis } from '../storage/redis-server.js';
import { controlService, dropFleet, newFleet, startWorker } from './fleet.js';

const redis = await probeRedis();
const skip = !redis.available && process.env.CI !== 'true';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.skipIf(skip)('the workers of a real BullMQ fleet', () => {
  it('are listed by GET /api/workers and nightshift workers, with host, pid and heartbeat', async () => {
    const fleet = newFleet();
    cleanups.push(() => dropFleet(fleet));
    const worker = await startWorker(fleet, 'listed-worker');
    cleanups.push(() => worker.stop());
    const control = controlService(fleet);
    cleanups.push(() => control.shutdown());
    const server = await startServer(control, { port: 0 });
    cleanups.push(() => server.close());

    const listed = await waitFor(
      async () => {
        const answer = (await (await fetch(`${server.url}/api/workers`)).json()) as {
          workers: { worker_id: string; pid: number; host: string; last_heartbeat: string }[];
        };
        return answer.workers.find((entry) => entry.pid === worker.child.pid);
      },
      { timeoutMs: 15_000, what: 'the worker in the registry' },
    );
    expect(listed.host).toBeTruthy();
    expect(Date.parse(listed.last_heartbeat)).not.toBeNaN();

    const { code, stdout } = await runInProcess(['workers', '--url', server.url]);
    expect(code).toBe(0);
    expect(
      stdout.some((line) => line.includes(listed.worker_id) && line.includes(String(listed.pid))),
    ).toBe(true);
  });
});
