import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  NightshiftError,
} from '../../src/index.js';
import { startPrivateRedis } from '../faults/private-redis.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  postgresTestUrl,
  postgresUnavailableReason,
  uniqueName,
} from '../storage/postgres-server.js';
import { deleteKeys, probeRedis, REDIS_URL } from '../storage/redis-server.js';

const postgresUrl = postgresTestUrl();
const postgresDown = await postgresUnavailableReason(postgresUrl);
const redisProbe = await probeRedis(REDIS_URL);
const inCi = process.env.CI === 'true';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Runs a fast agent on the service until it has `count` more completed runs. */
async function keepsRunning(service: BackgroundAgentService, count: number): Promise<void> {
  const before = (await service.getAgentStatus('steady')).run_count;
  // Reads may fail while the store reconnects: they count as "not yet".
  await waitFor(
    async () =>
      ((await service.getAgentStatus('steady').catch(() => undefined))?.run_count ?? 0) >=
      before + count,
    {
      timeoutMs: 20_000,
    },
  );
}

async function startSteadyAgent(service: BackgroundAgentService): Promise<void> {
  await service.startManager();
  await service.create({
    agent_id: 'steady',
    interval: 0.1,
    model_config: { provider: 'scripted', script: [{ answer: 'steady' }] },
    task_config: { query: 'q', max_retries: 1, retry_delay: 0.05 },
  });
  await service.startAgent('steady');
  await keepsRunning(service, 3);
}

/** After the service stops, no run is left without a terminal state. */
async function everyRunEnded(memory: MemoryRouter, events: EventRouter): Promise<void> {
  const inspector = new BackgroundAgentService(memory, events);
  const runs = await inspector.listRuns('steady', { limit: 10_000 });
  expect(runs.length).toBeGreaterThan(0);
  expect(runs.filter((run) => run.status === 'running' || run.status === 'pending')).toEqual([]);
  await inspector.shutdown();
}

describe.skipIf(postgresDown !== undefined && !inCi)('Postgres faults', () => {
  it('goes on after its Postgres connections are killed', async () => {
    const namespace = uniqueName('ns_fault');
    const options = { url: postgresUrl, namespace };
    const service = new BackgroundAgentService(
      new MemoryRouter('database', options),
      new EventRouter('database', options),
      { leaseTtlMs: 2000 },
    );
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
      await client.end();
    });
    cleanups.push(() => service.shutdown({ timeout: 1000 }));
    await startSteadyAgent(service);

    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const killed = await admin.query<{ pid: number }>(
      'SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity WHERE application_name = $1',
      [`nightshift:${namespace}`],
    );
    await admin.end();
    expect(killed.rowCount).toBeGreaterThan(0);

    await keepsRunning(service, 5);
    await service.shutdown({ timeout: 2000 });
    await everyRunEnded(
      new MemoryRouter('database', options),
      new EventRouter('database', options),
    );
  }, 60_000);
});

describe.skipIf(!redisProbe.available && !inCi)('Redis faults', () => {
  it('goes on after its Redis connections are killed', async () => {
    const namespace = uniqueName('ns_fault');
    const options = { url: REDIS_URL, namespace };
    const service = new BackgroundAgentService(
      new MemoryRouter('redis', options),
      new EventRouter('redis_stream', options),
      { leaseTtlMs: 2000 },
    );
    cleanups.push(async () => {
      const client = new Redis(REDIS_URL);
      await deleteKeys(client, `${namespace}:`);
      client.disconnect();
    });
    cleanups.push(() => service.shutdown({ timeout: 1000 }));
    await startSteadyAgent(service);
    const controller = new AbortController();
    cleanups.push(async () => controller.abort());
    const seen: string[] = [];
    const following = (async () => {
      for await (const event of service.streamAgentEvents('steady', { signal: controller.signal }))
        seen.push(event.id);
    })();

    const admin = new Redis(REDIS_URL);
    const clients = String(await admin.call('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${namespace}:`));
    for (const line of clients) {
      const id = /\bid=(\d+)/.exec(line)?.[1];
      if (id) await admin.call('CLIENT', 'KILL', 'ID', id);
    }
    admin.disconnect();
    expect(clients.length).toBeGreaterThan(0);

    await keepsRunning(service, 5);
    controller.abort();
    await following;
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length);
    await service.shutdown({ timeout: 2000 });
    await everyRunEnded(
      new MemoryRouter('redis', options),
      new EventRouter('redis_stream', options),
    );
  }, 60_000);
});

describe('a Redis restart', () => {
  it('is survived: the service reconnects and goes on, and every run ends recorded', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const options = { url: redis.url, namespace: 'restart' };
    const service = new BackgroundAgentService(
      new MemoryRouter('redis', options),
      new EventRouter('redis_stream', options),
      { leaseTtlMs: 3000 },
    );
    cleanups.push(() => service.shutdown({ timeout: 1000 }));
    await startSteadyAgent(service);
    await redis.kill();
    await redis.start();
    await keepsRunning(service, 5);
    await service.shutdown({ timeout: 2000 });
    await everyRunEnded(
      new MemoryRouter('redis', options),
      new EventRouter('redis_stream', options),
    );
  }, 60_000);
});

describe('unreachable stores', () => {
  it('fail at start with storage_unavailable naming the URL with its password masked', async () => {
    for (const [memory, events] of [
      [
        new MemoryRouter('database', { url: 'postgres://nightshift:topsecret@127.0.0.1:1/x' }),
        new EventRouter('in_memory'),
      ],
      [
        new MemoryRouter('redis', { url: 'redis://:topsecret@127.0.0.1:1' }),
        new EventRouter('in_memory'),
      ],
    ] as const) {
      const service = new BackgroundAgentService(memory, events);
      const error = await service.startManager().catch((caught: unknown) => caught);
      expect(NightshiftError.isInstance(error) && error.code).toBe('storage_unavailable');
      expect(String((error as Error).message)).toContain('127.0.0.1:1');
      expect(JSON.stringify({ message: (error as Error).message })).not.toContain('topsecret');
      await service.shutdown();
    }
  }, 30_000);
});
