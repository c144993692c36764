import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServer } from '../../src/server/index.js';
import { BackgroundAgentService, type WorkerInfo } from '../../src/service/index.js';
import { EventRouter, MemoryRouter } from '../../src/storage/index.js';
import { runInProcess } from './in-process.js';

const TOKEN = 'workers-token-7d20';
const INSTANT = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;

/** A server over a service that runs no agents: its workers are what the test says. */
async function serve(workers?: WorkerInfo[]) {
  const service = new BackgroundAgentService(
    new MemoryRouter('in_memory'),
    new EventRouter('in_memory'),
    { env: {} },
  );
  // A BullMQ registry needs Redis; the route and the command only see what listWorkers answers.
  if (workers) vi.spyOn(service, 'listWorkers').mockResolvedValue(workers);
  const server = await startServer(service, { port: 0, token: TOKEN });
  cleanups.push(async () => {
    await server.close();
    await service.shutdown();
  });
  return server;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  vi.restoreAllMocks();
});

describe('nightshift workers', () => {
  it('lists each worker with its host, pid, heartbeat and running runs', async () => {
    const now = Date.now();
    const server = await serve([
      {
        worker_id: 'box-2:77:ffee01',
        host: 'box-2',
        pid: 77,
        started_at: new Date(now - 3_600_000).toISOString(),
        last_heartbeat: new Date(now - 4_000).toISOString(),
        running_runs: [],
      },
      {
        worker_id: 'box-1:4242:a1b2c3',
        host: 'box-1',
        pid: 4242,
        started_at: new Date(now - 7_200_000).toISOString(),
        last_heartbeat: new Date(now - 1_000).toISOString(),
        running_runs: ['monitor.1796000000000', 'digest.manual-1796000000000-abcdef'],
      },
    ]);
    const { code, stdout, stderr } = await runInProcess(['workers', '--url', server.url], {
      NIGHTSHIFT_TOKEN: TOKEN,
    });
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    const [header = '', first = '', second = ''] = stdout;
    expect(header.split(/\s{2,}/)).toEqual([
      'WORKER',
      'HOST',
      'PID',
      'STARTED',
      'HEARTBEAT',
      'RUNNING',
      'RUNS',
    ]);
    expect(first).toMatch(
      new RegExp(
        `^box-1:4242:a1b2c3  box-1  4242  ${INSTANT}  ${INSTANT} \\([\\d.]+ s ago\\)  +2  monitor\\.1796000000000, digest\\.manual-1796000000000-abcdef$`,
      ),
    );
    expect(second).toMatch(
      new RegExp(`^box-2:77:ffee01 +box-2 +77  ${INSTANT}  ${INSTANT} \\([\\d.]+ s ago\\)  +0  -$`),
    );
    expect(stdout).toHaveLength(3);

    const json = await runInProcess(['workers', '--url', server.url, '--token', TOKEN, '--json']);
    const listed = JSON.parse(json.stdout.join('\n')) as WorkerInfo[];
    expect(listed.map((worker) => worker.worker_id)).toEqual([
      'box-1:4242:a1b2c3',
      'box-2:77:ffee01',
    ]);
  });

  it('says why there are none with the in-process scheduler', async () => {
    const server = await serve();
    const { code, stdout } = await runInProcess(['workers', '--url', server.url, '--token', TOKEN]);
    expect(code).toBe(0);
    expect(stdout).toEqual([
      `no workers registered at ${server.url}`,
      'with the in-process scheduler (the default) agents run inside the Nightshift process itself (nightshift run), without workers; with BullMQ, start some with nightshift worker <file>',
    ]);
  });

  it('needs a server, and its token', async () => {
    expect(await runInProcess(['workers'])).toEqual({
      code: 1,
      stdout: [],
      stderr: [
        'error: workers asks a running Nightshift for its workers: pass --url of its HTTP API (or set NIGHTSHIFT_URL)',
      ],
    });
    const server = await serve();
    const refused = await runInProcess(['workers', '--url', server.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr[0]).toContain('requires a token');
  });
});
