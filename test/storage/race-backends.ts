/**
 * The shared backends a race across processes runs on — a SQLite file, a Postgres schema, a Redis
 * namespace — each opened fresh for one test and removed after it. Postgres and Redis are skipped
 * locally when nothing answers (said once per suite), never in CI.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll } from 'vitest';
import { maskUrl } from '../../src/storage/index.js';
import type { RaceStoreLocation } from './budget-race-process.js';
import { postgresTestUrl, postgresUnavailableReason, uniqueName } from './postgres-server.js';
import { deleteKeys, freshPrefix, probeRedis, REDIS_URL } from './redis-server.js';
import { temporaryDirectory } from './temporary-directory.js';

/** A location the racing processes open, and how to remove it. */
export interface RaceStore {
  location: RaceStoreLocation;
  cleanup: () => Promise<void>;
}

/** One backend of a race. */
export interface RaceBackend {
  backend: RaceStoreLocation['backend'];
  available: boolean;
  open: () => Promise<RaceStore>;
}

const postgresUrl = postgresTestUrl();
const postgresUnavailable = await postgresUnavailableReason(postgresUrl);
const redis = await probeRedis();

/** The race's backends; `name` names its SQLite file and Postgres schemas (`what` its skip notes). */
export function raceBackends(name: string, what: string): RaceBackend[] {
  if (process.env.CI !== 'true') {
    if (postgresUnavailable !== undefined)
      console.log(`skipped the Postgres ${what}: ${maskUrl(postgresUrl)} (${postgresUnavailable})`);
    if (!redis.available) console.log(`skipped the Redis ${what}: ${redis.reason}`);
  }
  const postgresAdmin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
  postgresAdmin.on('error', () => undefined);
  let redisAdmin: Redis | undefined;
  afterAll(async () => {
    await postgresAdmin.end();
    redisAdmin?.disconnect();
  });
  return [
    {
      backend: 'sqlite',
      available: true,
      open: async () => {
        const directory = temporaryDirectory();
        return {
          location: {
            backend: 'sqlite',
            location: join(directory.path, `${name}.db`),
            namespace: '',
          },
          cleanup: async () => directory.remove(),
        };
      },
    },
    {
      backend: 'postgres',
      available: postgresUnavailable === undefined,
      open: async () => {
        const schema = uniqueName(`nightshift_${name}`);
        return {
          location: { backend: 'postgres', location: postgresUrl, namespace: schema },
          cleanup: async () => {
            await postgresAdmin.query(
              `DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`,
            );
          },
        };
      },
    },
    {
      backend: 'redis',
      available: redis.available,
      open: async () => {
        const prefix = freshPrefix();
        return {
          location: { backend: 'redis', location: REDIS_URL, namespace: prefix.slice(0, -1) },
          cleanup: async () => {
            redisAdmin ??= new Redis(REDIS_URL, { lazyConnect: true });
            await deleteKeys(redisAdmin, prefix);
          },
        };
      },
    },
  ];
}
