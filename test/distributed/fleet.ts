import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { createBullmqScheduler } from '../../src/service/bullmq/index.js';
import { deleteKeys, REDIS_URL } from '../storage/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';

const workerScript = resolve(import.meta.dirname, 'fleet-worker.ts');
const repositoryRoot = resolve(import.meta.dirname, '../..');

/** Where one test's fleet keeps its store and its queue, apart from every other test's. */
export interface Fleet {
  storeUrl: string;
  namespace: string;
  bullmqUrl: string;
  queueName: string;
  prefix: string;
  leaseTtlMs: number;
  reconcileIntervalMs: number;
}

/** A fleet with fresh names: the store and the queue on the shared Redis unless told otherwise. */
export function newFleet(overrides: Partial<Fleet> = {}): Fleet {
  const suffix = randomBytes(5).toString('hex');
  return {
    storeUrl: REDIS_URL,
    namespace: `nsdist_${suffix}`,
    bullmqUrl: REDIS_URL,
    queueName: `fleet-${suffix}`,
    prefix: 'nightshift-test',
    leaseTtlMs: 1_500,
    reconcileIntervalMs: 30_000,
    ...overrides,
  };
}

/** Deletes a fleet's keys: its store namespace and its queue. Never FLUSHDB: other suites share Redis. */
export async function dropFleet(fleet: Fleet): Promise<void> {
  for (const [url, prefix] of [
    [fleet.storeUrl, `${fleet.namespace}:`],
    [fleet.bullmqUrl, `${fleet.prefix}:${fleet.queueName}:`],
  ] as const) {
    const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await deleteKeys(client, prefix);
    } catch {
      // A private server already stopped has nothing left to delete.
    } finally {
      client.disconnect();
    }
  }
}

/** The scheduler a fleet's processes share. */
export function fleetScheduler(fleet: Fleet) {
  return createBullmqScheduler({
    url: fleet.bullmqUrl,
    queueName: fleet.queueName,
    prefix: fleet.prefix,
    reconcileIntervalMs: fleet.reconcileIntervalMs,
  });
}

/**
 * A process that manages the fleet and runs nothing (an API node): it schedules through the
 * scheduler's producer side.
 */
export function controlService(fleet: Fleet): BackgroundAgentService {
  return new BackgroundAgentService(
    new MemoryRouter('redis', { url: fleet.storeUrl, namespace: fleet.namespace }),
    new EventRouter('redis_stream', { url: fleet.storeUrl, namespace: fleet.namespace }),
    { scheduler: fleetScheduler(fleet), leaseTtlMs: fleet.leaseTtlMs },
  );
}

/** A running worker process. */
export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  /** What it wrote to standard error so far (warnings, errors). */
  errors(): string;
  /** SIGTERM, then its exit code once it has shut down. */
  stop(): Promise<number | null>;
  /** SIGKILL: it dies at once, mid-run if it is running one. */
  kill(): Promise<void>;
}

/** Starts a worker process of the fleet; resolves once it runs agents. */
export async function startWorker(
  fleet: Fleet,
  id: string,
  environment: Record<string, string> = {},
): Promise<WorkerProcess> {
  return (await launchWorker(fleet, id, environment, 'ready')).worker;
}

/**
 * Loads a worker process without starting it: `start()` makes it run agents at once, without
 * the seconds loading the code takes.
 */
export async function prepareWorker(
  fleet: Fleet,
  id: string,
  environment: Record<string, string> = {},
): Promise<{ start(): Promise<WorkerProcess> }> {
  const launched = await launchWorker(
    fleet,
    id,
    { ...environment, NIGHTSHIFT_TEST_DEFERRED: '1' },
    'loaded',
  );
  return {
    async start() {
      const ready = launched.waitForLine('ready');
      launched.worker.child.kill('SIGUSR2');
      await ready;
      return launched.worker;
    },
  };
}

async function launchWorker(
  fleet: Fleet,
  id: string,
  environment: Record<string, string>,
  until: string,
): Promise<{ worker: WorkerProcess; waitForLine(line: string): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript], {
    cwd: repositoryRoot,
    env: {
      ...process.env,
      NIGHTSHIFT_TEST_STORE_URL: fleet.storeUrl,
      NIGHTSHIFT_TEST_NAMESPACE: fleet.namespace,
      NIGHTSHIFT_TEST_BULLMQ_URL: fleet.bullmqUrl,
      NIGHTSHIFT_TEST_QUEUE: fleet.queueName,
      NIGHTSHIFT_TEST_PREFIX: fleet.prefix,
      NIGHTSHIFT_TEST_LEASE_TTL_MS: String(fleet.leaseTtlMs),
      NIGHTSHIFT_TEST_RECONCILE_MS: String(fleet.reconcileIntervalMs),
      NIGHTSHIFT_TEST_INSTANCE: id,
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const waitForLine = (line: string) =>
    new Promise<void>((resolveLine, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker ${id} did not print ${line}: ${errors}`)),
        30_000,
      );
      const check = () => {
        if (!output.split('\n').includes(line)) return;
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolveLine();
      };
      child.stdout?.on('data', check);
      check();
      void exited.then(([code]) => {
        clearTimeout(timer);
        reject(new Error(`worker ${id} exited with ${code}: ${errors}`));
      });
    });
  await waitForLine(until);
  const worker: WorkerProcess = {
    id,
    child,
    errors: () => errors,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  return { worker, waitForLine };
}

/** Starts several workers at once. */
export function startWorkers(
  fleet: Fleet,
  ids: string[],
  environment: Record<string, string> = {},
): Promise<WorkerProcess[]> {
  return Promise.all(ids.map((id) => startWorker(fleet, id, environment)));
}

/** A redis-server of the test's own (FLUSHALL is allowed there), without persistence. */
export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/** Starts `redis-server` on a free port; resolves once it answers. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    },
    { timeoutMs: 10_000, intervalMs: 50, what: 'the private redis-server' },
  );
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListening) => server.listen(0, '127.0.0.1', resolveListening));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolveClosed) => server.close(resolveClosed));
  return port;
}

export { overlaps } from '../helpers/run-overlaps.js';
