import { Redis } from 'ioredis';
import pg from 'pg';
import type { EventBackendKind, MemoryBackendKind } from '../../src/index.js';
import { postgresTestUrl, postgresUnavailableReason } from '../storage/postgres-server.js';
import { deleteKeys, probeRedis, REDIS_URL } from '../storage/redis-server.js';

/** A shared store several processes use, and how to clear one namespace of it. */
export interface Backend {
  name: string;
  url: string;
  memory: MemoryBackendKind;
  events: EventBackendKind;
  unavailable: string | undefined;
  drop(namespace: string): Promise<void>;
}

const postgresUrl = postgresTestUrl();
const redisProbe = await probeRedis(REDIS_URL);
const backends: Backend[] = [
  {
    name: 'Postgres',
    url: postgresUrl,
    memory: 'database',
    events: 'database',
    unavailable: await postgresUnavailableReason(postgresUrl),
    async drop(namespace) {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
      await client.end();
    },
  },
  {
    name: 'Redis',
    url: REDIS_URL,
    memory: 'redis',
    events: 'redis_stream',
    unavailable: redisProbe.available ? undefined : redisProbe.reason,
    async drop(namespace) {
      const client = new Redis(REDIS_URL);
      await deleteKeys(client, `${namespace}:`);
      client.disconnect();
    },
  },
];
for (const backend of backends) {
  if (backend.unavailable && process.env.CI !== 'true') {
    console.warn(
      `skipped the multi-process ${backend.name} suite: nothing answers at ${backend.url} (${backend.unavailable})`,
    );
  }
}

/** The shared stores to test on: those that answer, and in CI all of them (one that does not fails). */
export function testableBackends(): Backend[] {
  return backends.filter((backend) => !backend.unavailable || process.env.CI === 'true');
}
