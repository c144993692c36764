/**
 * The four backends as store factories, for storage tests that check one behaviour everywhere
 * outside the shared contract suites: memory, a SQLite file, a Postgres schema and a Redis
 * namespace of their own, each removed after the test. Postgres and Redis are skipped locally
 * when nothing answers (never in CI).
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll } from 'vitest';
import {
  createMemoryStore,
  createPostgresStore,
  createSqliteStore,
} from '../../src/storage/index.js';
import { createRedisStore } from '../../src/storage/redis/index.js';
import type { StoreFactory } from './contracts/fixtures.js';
import { postgresTestUrl, postgresUnavailableReason, uniqueName } from './postgres-server.js';
import { deleteKeys, freshPrefix, probeRedis, REDIS_URL } from './redis-server.js';
import { temporaryDirectory } from './temporary-directory.js';

/** One backend to run a test on. */
export interface TestBackend {
  name: 'memory' | 'sqlite' | 'postgres' | 'redis';
  skip: boolean;
  factory: StoreFactory;
}

const postgresUrl = postgresTestUrl();
const postgresMissing = await postgresUnavailableReason(postgresUrl);
const redisProbe = await probeRedis(REDIS_URL);
const inCi = process.env.CI === 'true';

/** Every backend; Postgres schemas are named after `schemaPrefix`. Registers its own cleanup. */
export function everyBackend(schemaPrefix: string): TestBackend[] {
  const admin = new pg.Pool({ connectionString: postgresUrl, max: 2 });
  admin.on('error', () => undefined);
  const redisAdmin = new Redis(REDIS_URL, { lazyConnect: true });
  afterAll(async () => {
    await admin.end();
    redisAdmin.disconnect();
  });
  return [
    {
      name: 'memory',
      skip: false,
      factory: async () => {
        const store = createMemoryStore();
        return { store, cleanup: () => store.close() };
      },
    },
    {
      name: 'sqlite',
      skip: false,
      factory: async () => {
        const directory = temporaryDirectory();
        const store = createSqliteStore({ path: join(directory.path, 'nightshift.db') });
        return {
          store,
          cleanup: async () => {
            await store.close();
            directory.remove();
          },
        };
      },
    },
    {
      name: 'postgres',
      skip: postgresMissing !== undefined && !inCi,
      factory: async () => {
        const schema = uniqueName(schemaPrefix);
        const store = createPostgresStore({ url: postgresUrl, namespace: schema });
        return {
          store,
          cleanup: async () => {
            await store.close();
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          },
        };
      },
    },
    {
      name: 'redis',
      skip: !redisProbe.available && !inCi,
      factory: async () => {
        const prefix = freshPrefix();
        const store = createRedisStore({ url: REDIS_URL, namespace: prefix.slice(0, -1) });
        return {
          store,
          cleanup: async () => {
            await store.close();
            await deleteKeys(redisAdmin, prefix);
          },
        };
      },
    },
  ];
}
