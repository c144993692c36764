import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  backendKinds,
  locateBackend,
  STORAGE_BACKENDS,
} from '../../src/storage/backend-registry.js';
import { EventRouter, MemoryRouter } from '../../src/storage/index.js';
import { agentMessage, agentRecord } from './contracts/fixtures.js';
import { postgresTestUrl, postgresUnavailableReason, uniqueName } from './postgres-server.js';
import { deleteKeys, probeRedis, REDIS_URL } from './redis-server.js';
import { thrownError } from '../helpers/thrown-error.js';

/** A URL of each scheme the registry lists: a new backend's schemes get a line here. */
const EXAMPLE_URLS: Record<string, string> = {
  sqlite: 'sqlite:data/nightshift.db',
  file: 'file:///var/lib/nightshift.db',
  '': 'data/nightshift.db',
  postgres: 'postgres://nightshift:s3cret@db.internal:5432/agents',
  postgresql: 'postgresql://db.internal/agents',
  redis: 'redis://:s3cret@cache:6379/0',
  rediss: 'rediss://cache:6380',
};

describe('the storage backend registry', () => {
  it('lists the kinds of both routers from its backends, in order', () => {
    expect(backendKinds('memory')).toEqual(['in_memory', 'database', 'redis']);
    expect(backendKinds('event')).toEqual(['in_memory', 'database', 'redis_stream']);
  });

  it('resolves every registered scheme to the backend that registered it, for both routers', () => {
    for (const backend of STORAGE_BACKENDS) {
      for (const scheme of backend.schemes) {
        const url = EXAMPLE_URLS[scheme];
        expect(url, `an example URL for scheme "${scheme}:"`).toBeDefined();
        for (const [role, kind] of [
          ['memory', backend.storeKind],
          ['event', backend.eventKind],
        ] as const) {
          const target = locateBackend(role, kind, { url, cwd: '/srv/nightshift', env: {} });
          // Each URL backend's location names it.
          expect((target.location as { dialect: string }).dialect).toBe(backend.name);
          expect(target.description).not.toContain('s3cret');
        }
      }
    }
    const memory = locateBackend('memory', 'in_memory');
    expect(memory.description).toBe('in_memory');
  });

  it('names the url field, the scheme and the accepted forms for a scheme no backend of the kind opens', () => {
    const error = thrownError(
      () => new MemoryRouter('database', { url: 'mysql://root:hunter2@db/x' }),
    );
    expect(error.code).toBe('config_invalid');
    expect(error.fields.map((field) => field.path)).toEqual(['url']);
    expect(error.message).toMatch(/^unsupported database URL scheme "mysql:"/);
    expect(error.message).toContain('sqlite:relative/path.db');
    expect(error.message).toContain('postgres://…');
    expect(error.message).not.toContain('hunter2');

    // A Redis URL is not a database, nor a database URL a Redis.
    const events = thrownError(() => new EventRouter('database', { url: 'redis://cache:6379' }));
    expect(events.fields[0]?.path).toBe('url');
    expect(events.message).toMatch(/^unsupported database URL scheme "redis:"/);
    const redis = thrownError(() => new MemoryRouter('redis', { url: 'postgres://db/x' }));
    expect(redis.fields[0]?.path).toBe('url');
    expect(redis.message).toContain('redis://[:password@]host[:port][/db]');
  });

  it('names the kind field for an unknown kind', () => {
    const error = thrownError(() => locateBackend('event', 'kafka'));
    expect(error.code).toBe('config_invalid');
    expect(error.fields[0]?.path).toBe('kind');
    expect(error.message).toContain('in_memory, database, redis_stream');
  });
});

const redis = await probeRedis();
const postgresUrl = postgresTestUrl();
const postgresReason = await postgresUnavailableReason(postgresUrl);

describe('a router namespace', () => {
  it.skipIf(!redis.available)('puts every Redis key under "<namespace>:"', async () => {
    const namespace = `nightshift-test-${randomUUID()}`;
    const admin = new Redis(REDIS_URL);
    const memory = new MemoryRouter('redis', { url: REDIS_URL, namespace });
    const events = new EventRouter('redis_stream', { url: REDIS_URL, namespace, maxEvents: 5 });
    try {
      await (await memory.connect()).agents.insert(agentRecord('alpha'));
      const log = await events.connect();
      for (let index = 0; index < 8; index += 1) await log.append(agentMessage('alpha', 'hi'));
      expect(await admin.exists(`${namespace}:agent:alpha`)).toBe(1);
      expect(await admin.xlen(`${namespace}:events`)).toBe(5);
    } finally {
      await memory.close();
      await events.close();
      await deleteKeys(admin, `${namespace}:`);
      await admin.quit();
    }
  });

  it.skipIf(postgresReason !== undefined)('is the Postgres schema', async () => {
    const namespace = uniqueName('nightshift_test');
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const memory = new MemoryRouter('database', { url: postgresUrl, namespace });
    try {
      await (await memory.connect()).agents.insert(agentRecord('alpha'));
      const { rows } = await admin.query(`SELECT agent_id FROM "${namespace}".agents`);
      expect(rows).toEqual([{ agent_id: 'alpha' }]);
    } finally {
      await memory.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
      await admin.end();
    }
  });
});
