import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNightshiftFile } from '../../src/index.js';
import { startServer } from '../../src/server/index.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../helpers/fake-openai-server.js';
import { makeService, temporaryDatabase } from './service-fixtures.js';

let model: FakeOpenAIServer | undefined;
const directories: string[] = [];
afterEach(async () => {
  await model?.close();
  model = undefined;
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

/** The stored definitions and run records of a SQLite file, as one string. */
function definitionsAndRuns(url: string): string {
  const database = new Database(url.slice('sqlite:'.length), { readonly: true });
  try {
    return JSON.stringify([
      database.prepare('SELECT * FROM agents').all(),
      database.prepare('SELECT * FROM runs').all(),
    ]);
  } finally {
    database.close();
  }
}

describe('values from the environment are read at use, never stored or served', () => {
  it('keeps ${NAME} as written in the stored definition and the run, and resolves it for the model', async () => {
    model = await startFakeOpenAIServer({ defaultReply: { text: 'all fine' } });
    const instruction = 'instruction-value-5f1e';
    const query = 'query-value-8a2b';
    const signature = 'sig-value-3c9d';
    const env = {
      OPENAI_API_KEY: 'sk-test-at-use-0123456789',
      PERSONA: instruction,
      DAILY_QUERY: query,
      URL_SIGNATURE: signature,
      MODEL_URL: model.baseURL,
    };
    const directory = mkdtempSync(join(tmpdir(), 'nightshift-references-'));
    directories.push(directory);
    const path = join(directory, 'nightshift.yaml');
    writeFileSync(
      path,
      [
        'agents:',
        '  - agent_id: reader',
        '    system_instruction: "You are ${PERSONA}."',
        '    model_config:',
        '      provider: openai',
        '      model: gpt-4o-mini',
        '      base_url: "${MODEL_URL}"',
        '    interval: 3600',
        '    task_config: { query: "Do ${DAILY_QUERY}" }',
        '    mcp_tools:',
        '      - { name: files, command: npx, args: ["--token=${URL_SIGNATURE}"] }',
      ].join('\n'),
    );
    const file = loadNightshiftFile(path, { env });
    const [definition] = file.agents;
    if (!definition) throw new Error('the file has no agent');
    expect(JSON.stringify(file.agents)).not.toMatch(/instruction-value|query-value|sig-value/);
    // What the file would run is checked here; the MCP server is not part of this run.
    const url = temporaryDatabase();
    const service = makeService({ url, env });
    await service.startManager();
    await service.create({ ...definition, mcp_tools: [] });
    const run = await service.runNow('reader', { wait: true });
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    expect(run.query).toBe('Do ${DAILY_QUERY}');

    const request = model.requests[0];
    expect(JSON.stringify(request?.body)).toContain(`You are ${instruction}.`);
    expect(JSON.stringify(request?.body)).toContain(`Do ${query}`);

    const server = await startServer(service, { port: 0 });
    try {
      const served = await (await fetch(`${server.url}/api/agents/reader/definition`)).text();
      expect(served).toContain('${PERSONA}');
      expect(served).not.toMatch(/instruction-value|query-value|sig-value/);
    } finally {
      await server.close();
    }
    await service.shutdown({ timeout: 1000 });
    // The conversation (messages, user_message events) keeps what was really said to the model.
    const stored = definitionsAndRuns(url);
    expect(stored).toContain('${PERSONA}');
    expect(stored).not.toMatch(/instruction-value|query-value|sig-value/);
  });

  it('fails a run whose referenced variable is unset, naming the field and the variable', async () => {
    const service = makeService({ env: {} });
    await service.startManager();
    await service.create({
      agent_id: 'missing',
      interval: 3600,
      system_instruction: 'Hello ${NOT_SET_ANYWHERE}',
      model_config: { provider: 'scripted', script: [{ answer: 'x' }] },
      task_config: { query: 'q' },
    });
    const run = await service.runNow('missing', { wait: true });
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('config_invalid');
    expect(run.error?.message).toContain(
      'system_instruction: environment variable NOT_SET_ANYWHERE is not set',
    );
  });

  it('never resolves a query given for one run', async () => {
    const service = makeService({ env: { HIDDEN_VALUE: 'hidden-7e4d' } });
    await service.startManager();
    await service.create({
      agent_id: 'echo',
      interval: 3600,
      model_config: { provider: 'scripted', script: [{ answer: 'asked' }] },
      task_config: { query: 'q' },
    });
    const run = await service.runNow('echo', { wait: true, query: 'say ${HIDDEN_VALUE}' });
    const events = JSON.stringify(await service.readEvents({ agent_id: 'echo' }));
    expect(run.query).toBe('say ${HIDDEN_VALUE}');
    expect(events).not.toContain('hidden-7e4d');
  });
});
