import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/index.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../helpers/fake-openai-server.js';
import { makeService, scriptedAgent, temporaryDatabase } from './service-fixtures.js';

let model: FakeOpenAIServer | undefined;
afterEach(async () => {
  await model?.close();
  model = undefined;
});

/** Every row of every table of a SQLite file, as one string: what is really stored. */
function everythingStored(url: string): string {
  const database = new Database(url.slice('sqlite:'.length), { readonly: true });
  try {
    const tables = database
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all() as { name: string }[];
    return JSON.stringify(
      tables.map(({ name }) => database.prepare(`SELECT * FROM "${name}"`).all()),
    );
  } finally {
    database.close();
  }
}

describe('everything stored or served passes the guard (promise 8)', () => {
  it('keeps an API key echoed by a provider error out of the stats, the store and the API', async () => {
    const key = 'sk-test-echoed-0123456789abcdef';
    model = await startFakeOpenAIServer({
      defaultReply: (request) => ({
        error: {
          status: 401,
          message: `invalid key in header: ${String(request.headers.authorization)}`,
        },
      }),
    });
    const url = temporaryDatabase();
    const service = makeService({ url, env: { OPENAI_API_KEY: key } });
    await service.startManager();
    await service.create({
      agent_id: 'echo',
      interval: 3600,
      model_config: { provider: 'openai', model: 'gpt-4o-mini', base_url: model.baseURL },
      task_config: { query: 'q' },
    });
    const run = await service.runNow('echo', { wait: true });
    expect(run.status).toBe('failed');
    expect(model.requests.length).toBeGreaterThan(0);
    const status = await service.getAgentStatus('echo');
    expect(status.last_error?.message).toContain('[redacted]');
    expect(JSON.stringify(status)).not.toContain(key);

    const server = await startServer(service, { port: 0 });
    try {
      const served = await (await fetch(`${server.url}/api/agents`)).text();
      expect(served).toContain('[redacted]');
      expect(served).not.toContain(key);
    } finally {
      await server.close();
    }
    await service.shutdown({ timeout: 1000 });
    expect(everythingStored(url)).not.toContain(key);
  });

  it('redacts a declared secret whatever its length', async () => {
    const service = makeService({ secrets: ['x7Q'] });
    await service.startManager();
    await service.create(
      scriptedAgent('short', {
        model_config: { provider: 'scripted', script: [{ answer: 'the pin is x7Q' }] },
      }),
    );
    const run = await service.runNow('short', { wait: true });
    expect(run.output).toBe('the pin is [redacted]');
    const events = JSON.stringify(await service.readEvents({ limit: 1000 }));
    expect(events).not.toContain('x7Q');
  });

  it('caps each stored value, saying that it was cut and how long it was', async () => {
    const url = temporaryDatabase();
    const service = makeService({ url, maxStoredValueChars: 1_000 });
    await service.startManager();
    const answer = 'a'.repeat(5_000_000);
    await service.create(
      scriptedAgent('verbose', {
        model_config: { provider: 'scripted', script: [{ answer }] },
      }),
    );
    const run = await service.runNow('verbose', { wait: true });
    expect(run.status).toBe('completed');
    expect(run.output?.length).toBeLessThan(2_000);
    expect(run.output).toMatch(/5000000 characters, the first 9\d\d kept/);
    expect(run.output?.length).toBeLessThanOrEqual(1_000);
    await service.shutdown({ timeout: 1000 });
    const stored = everythingStored(url);
    expect(stored).not.toContain('a'.repeat(1_001));
    expect(stored).toContain('the rest was not stored');
    // The answer is stored three times (the run, its completed event, the conversation), each cut.
    expect(stored.length).toBeLessThan(100_000);
  });
});
