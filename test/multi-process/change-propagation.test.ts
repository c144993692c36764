import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  type EventBackendKind,
  type MemoryBackendKind,
} from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  postgresTestUrl,
  postgresUnavailableReason,
  uniqueName,
} from '../storage/postgres-server.js';
import { deleteKeys, probeRedis, REDIS_URL } from '../storage/redis-server.js';
import { startManager } from './multi-process.js';

/** A store shared by processes: where it is, and how to make and drop one namespace of it. */
interface SharedStore {
  name: string;
  memory: MemoryBackendKind;
  events: EventBackendKind;
  unavailable: string | undefined;
  /** A fresh place in the store: its URL, namespace, and how to drop it. */
  open(): { url: string; namespace?: string; drop(): Promise<void> };
}

const postgresUrl = postgresTestUrl();
const redisProbe = await probeRedis(REDIS_URL);
const stores: SharedStore[] = [
  {
    name: 'SQLite',
    memory: 'database',
    events: 'database',
    unavailable: undefined,
    open() {
      const directory = mkdtempSync(join(tmpdir(), 'nightshift-follow-'));
      return {
        url: `sqlite:${join(directory, 'nightshift.db')}`,
        drop: async () => rmSync(directory, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'Postgres',
    memory: 'database',
    events: 'database',
    unavailable: await postgresUnavailableReason(postgresUrl),
    open() {
      const namespace = uniqueName('follow');
      return {
        url: postgresUrl,
        namespace,
        async drop() {
          const client = new pg.Client({ connectionString: postgresUrl });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
          await client.end();
        },
      };
    },
  },
  {
    name: 'Redis',
    memory: 'redis',
    events: 'redis_stream',
    unavailable: redisProbe.available ? undefined : redisProbe.reason,
    open() {
      const namespace = uniqueName('follow');
      return {
        url: REDIS_URL,
        namespace,
        async drop() {
          const client = new Redis(REDIS_URL);
          await deleteKeys(client, `${namespace}:`);
          client.disconnect();
        },
      };
    },
  },
];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.each(stores)('changes made in another process apply at once ($name)', (store) => {
  const skip = store.unavailable !== undefined && process.env.CI !== 'true';
  it.skipIf(skip)(
    'a start, pause, resume and update made by a process that runs no agents reach the manager long before its periodic sync',
    async () => {
      const place = store.open();
      cleanups.push(() => place.drop());
      const options = {
        url: place.url,
        ...(place.namespace ? { namespace: place.namespace } : {}),
      };
      const api = new BackgroundAgentService(
        new MemoryRouter(store.memory, options),
        new EventRouter(store.events, options),
      );
      cleanups.push(() => api.shutdown());
      await api.create({
        agent_id: 'follower',
        interval: 0.2,
        model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
        task_config: { query: 'q' },
      });
      // The manager's periodic sync comes every 30 s: only the change feed can be this quick.
      const manager = await startManager({
        NIGHTSHIFT_TEST_URL: place.url,
        NIGHTSHIFT_TEST_MEMORY: store.memory,
        NIGHTSHIFT_TEST_EVENTS: store.events,
        NIGHTSHIFT_TEST_LEASE_TTL_MS: '60000',
        ...(place.namespace ? { NIGHTSHIFT_TEST_NAMESPACE: place.namespace } : {}),
      });
      cleanups.push(() => manager.stop());
      const runCount = async () => (await api.getAgentStatus('follower')).run_count;

      await api.startAgent('follower');
      await waitFor(async () => (await runCount()) >= 2, {
        timeoutMs: 8_000,
        what: 'the manager to run the agent started elsewhere',
      });

      await api.pauseAgent('follower');
      // Paused: the run count settles (a run in flight may still finish).
      let settled = await runCount();
      await waitFor(
        async () => {
          const now = await runCount();
          const same = now === settled;
          settled = now;
          return same && (await api.listRuns('follower', { status: 'running' })).length === 0;
        },
        { timeoutMs: 8_000, intervalMs: 600, what: 'the runs to stop after the pause' },
      );

      await api.resumeAgent('follower');
      await waitFor(async () => (await runCount()) >= settled + 2, {
        timeoutMs: 8_000,
        what: 'the manager to resume the agent',
      });

      await api.updateAgent('follower', {
        model_config: { provider: 'scripted', script: [{ answer: 'updated' }] },
      });
      await waitFor(
        async () =>
          (await api.listRuns('follower', { limit: 5 })).some((run) => run.output === 'updated'),
        { timeoutMs: 8_000, what: 'runs of the updated definition' },
      );
      expect(await manager.stop()).toBe(0);
    },
    40_000,
  );
});
