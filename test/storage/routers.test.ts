import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EventRouter,
  MemoryRouter,
  type EventBackendKind,
  type MemoryBackendKind,
} from '../../src/storage/index.js';
import { agentMessage, agentRecord } from './contracts/fixtures.js';
import { temporaryDirectory } from './temporary-directory.js';
import { thrownError } from '../helpers/thrown-error.js';

describe('MemoryRouter and EventRouter', () => {
  const directories: ReturnType<typeof temporaryDirectory>[] = [];
  const routers: (MemoryRouter | EventRouter)[] = [];

  function databaseUrl(): { url: string; path: string } {
    const directory = temporaryDirectory();
    directories.push(directory);
    const path = join(directory.path, 'nightshift.db');
    return { url: `sqlite://${path}`, path };
  }

  function track<Router extends MemoryRouter | EventRouter>(router: Router): Router {
    routers.push(router);
    return router;
  }

  afterEach(async () => {
    await Promise.all(routers.splice(0).map((router) => router.close()));
    for (const directory of directories.splice(0)) directory.remove();
    vi.unstubAllEnvs();
  });

  it('keeps memory in this process for in_memory, and connects once', async () => {
    const router = track(new MemoryRouter('in_memory'));
    expect(router.kind).toBe('in_memory');
    expect(router.description).toBe('in_memory');
    const [store, again] = await Promise.all([router.connect(), router.connect()]);
    expect(again).toBe(store);
    await store.agents.insert(agentRecord('alpha'));
    expect(await (await router.connect()).agents.get('alpha')).toBeDefined();
  });

  it('opens a fresh backend after close', async () => {
    const router = track(new MemoryRouter('in_memory'));
    const store = await router.connect();
    await router.close();
    expect(await router.connect()).not.toBe(store);
  });

  it('opens the SQLite file named by the URL for database', async () => {
    const { url, path } = databaseUrl();
    const memory = track(new MemoryRouter('database', { url }));
    const events = track(new EventRouter('database', { url }));
    expect(memory.kind).toBe('database');
    expect(memory.description).toBe(`sqlite:${path}`);
    expect(events.description).toBe(`sqlite:${path}`);
    expect(existsSync(path)).toBe(false);

    const store = await memory.connect();
    const log = await events.connect();
    expect(await events.connect()).toBe(log);
    expect(store.description).toBe(`sqlite:${path}`);
    await store.agents.insert(agentRecord('alpha'));
    await log.append(agentMessage('alpha', 'hello'));
    expect(existsSync(path)).toBe(true);

    await memory.close();
    await events.close();
    const reopened = track(new MemoryRouter('database', { url: path }));
    expect(await (await reopened.connect()).agents.get('alpha')).toEqual(agentRecord('alpha'));
    const reopenedLog = await track(
      new EventRouter('database', { url: `sqlite:${path}` }),
    ).connect();
    expect((await reopenedLog.read()).map((event) => event.payload)).toEqual([
      { message: 'hello' },
    ]);
  });

  it('reads DATABASE_URL when no URL is given, and prefers the URL option', () => {
    const fromEnv = databaseUrl();
    const given = databaseUrl();
    const env = { DATABASE_URL: fromEnv.url };
    expect(new MemoryRouter('database', { env }).description).toBe(`sqlite:${fromEnv.path}`);
    expect(new EventRouter('database', { env }).description).toBe(`sqlite:${fromEnv.path}`);
    expect(new MemoryRouter('database', { env, url: given.url }).description).toBe(
      `sqlite:${given.path}`,
    );
    vi.stubEnv('DATABASE_URL', fromEnv.url);
    expect(new MemoryRouter('database').description).toBe(`sqlite:${fromEnv.path}`);
  });

  it('defaults to ./.nightshift/nightshift.db without DATABASE_URL', () => {
    const expected = `sqlite:${resolve('.nightshift/nightshift.db')}`;
    expect(new MemoryRouter('database', { env: {} }).description).toBe(expected);
    expect(new EventRouter('database', { env: { DATABASE_URL: '' } }).description).toBe(expected);
  });

  it('routes a Postgres URL to the Postgres backend, describing it without the password', () => {
    const url = 'postgres://nightshift:s3cret@db.internal:5432/agents';
    for (const router of [
      new MemoryRouter('database', { url }),
      new EventRouter('database', { url }),
    ]) {
      expect(router.description).toContain('nightshift:[redacted]@db.internal');
      expect(router.description).not.toContain('s3cret');
    }
  });

  it('routes redis and redis_stream to Redis (REDIS_URL by default), masking the password', () => {
    const memory = new MemoryRouter('redis', { url: 'redis://:hunter2hunter2@cache:6379' });
    expect(memory.description).toBe('redis://:[redacted]@cache:6379');
    const events = new EventRouter('redis_stream', { env: { REDIS_URL: 'redis://cache:6380' } });
    expect(events.description).toBe('redis://cache:6380');
    expect(thrownError(() => new MemoryRouter('redis', { url: 'http://cache' })).code).toBe(
      'config_invalid',
    );
  });

  it('names an unknown kind and the allowed ones', () => {
    const memory = thrownError(() => new MemoryRouter('mongo' as MemoryBackendKind));
    expect(memory.code).toBe('config_invalid');
    expect(memory.message).toBe(
      'unknown memory backend "mongo" (expected one of: in_memory, database, redis)',
    );
    const events = thrownError(() => new EventRouter('kafka' as EventBackendKind));
    expect(events.message).toBe(
      'unknown event backend "kafka" (expected one of: in_memory, database, redis_stream)',
    );
  });

  it('keeps events in this process for in_memory', async () => {
    const router = track(new EventRouter('in_memory'));
    expect(router.kind).toBe('in_memory');
    expect(router.description).toBe('in_memory');
    const log = await router.connect();
    expect(await router.connect()).toBe(log);
    expect((await log.append(agentMessage('alpha', 'hello'))).id).toBe('1');
  });
});
