import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadNightshiftFile } from '../../src/config/load-config-file.js';
import { mockModel } from '../agent/mock-model.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  collectEvents,
  makeService,
  onCleanup,
  scriptedAgent,
  temporaryDatabase,
  testProvider,
} from './service-fixtures.js';

const everything = resolve(import.meta.dirname, '../../node_modules/.bin/mcp-server-everything');
/** Named unlike a secret (no KEY, TOKEN, SECRET…), so only resolving the reference can hide it. */
const VARIABLE = 'GITHUB_PAT';
const SECRET = 'ghp_stays_out_of_the_store_8d2f61';

/** Every row of a table of the SQLite file, read with a connection of its own. */
function rows(databaseUrl: string, table: string): unknown[] {
  const database = new Database(databaseUrl.replace(/^sqlite:/, ''), { readonly: true });
  try {
    return database.prepare(`SELECT * FROM ${table}`).all();
  } finally {
    database.close();
  }
}

/** A Nightshift file with one agent whose stdio MCP server gets `SOME_VAR: ${GITHUB_PAT}`. */
function writeFile(): string {
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-mcp-secret-'));
  onCleanup(() => rmSync(directory, { recursive: true, force: true }));
  const path = join(directory, 'nightshift.yaml');
  writeFileSync(
    path,
    [
      'agents:',
      '  - agent_id: github_reader',
      '    interval: 3600',
      '    model_config: { provider: test, model: test-model }',
      '    task_config: { query: "Which token does the server have?", max_retries: 0 }',
      '    mcp_tools:',
      '      - name: everything',
      `        command: ${JSON.stringify(everything)}`,
      '        args: [stdio]',
      '        timeout: 20',
      `        env: { SOME_VAR: "\${${VARIABLE}}" }`,
    ].join('\n'),
  );
  return path;
}

describe('MCP credentials given as ${NAME} references (promise 8)', () => {
  it('stores the reference, gives the server the value, and keeps the value out of records', async () => {
    const url = temporaryDatabase();
    const env = { [VARIABLE]: SECRET, PATH: process.env.PATH };
    const file = loadNightshiftFile(writeFile(), { env, providers: ['test'] });
    let modelSawSecret = false;
    const model = mockModel((call, options) => {
      if (call === 0) return { tools: [{ name: 'get-env' }] };
      // The model gets the tool result as the server returned it.
      modelSawSecret = JSON.stringify(options.prompt).includes(`"SOME_VAR\\": \\"${SECRET}`);
      return { text: `The server has ${SECRET}.` };
    });
    // Not given the file's `secrets`: the value must be learnt when the reference is resolved.
    const service = makeService({ url, env, providers: testProvider(model) });
    const events = collectEvents(service);
    await service.startManager();
    const agent = file.agents[0];
    if (!agent) throw new Error('the file has no agent');
    await service.create(agent);

    const run = await service.runNow('github_reader', { wait: true });
    expect(run.status).toBe('completed');
    expect(modelSawSecret).toBe(true);
    expect(run.output).toBe('The server has [redacted].');
    await waitFor(() => events.some((event) => event.type === 'background_task_completed'), {
      what: 'the completion event',
    });

    const stored = JSON.stringify(rows(url, 'agents'));
    expect(stored).toContain(`\${${VARIABLE}}`);
    expect(stored).not.toContain(SECRET);
    const records = JSON.stringify([
      rows(url, 'runs'),
      rows(url, 'run_steps'),
      rows(url, 'events'),
      // The conversation kept for the next run holds the tool result too.
      rows(url, 'messages'),
      events,
    ]);
    expect(records).toContain('\\"SOME_VAR\\": \\"[redacted]\\"');
    expect(records).not.toContain(SECRET);
  }, 30_000);

  it('fails the run, naming the server and the variable, when the variable is unset', async () => {
    const service = makeService({ env: { PATH: process.env.PATH } });
    await service.startManager();
    await service.create(
      scriptedAgent('unset_reader', {
        task_config: { query: 'Read.', max_retries: 2 },
        mcp_tools: [
          {
            name: 'github',
            command: everything,
            args: ['stdio'],
            env: { GITHUB_TOKEN: `\${${VARIABLE}}` },
          },
        ],
      }),
    );
    const run = await service.runNow('unset_reader', { wait: true });
    expect(run.status).toBe('failed');
    expect(run.error).toEqual({
      code: 'config_invalid',
      message: `MCP server "github": mcp_tools[0].env.GITHUB_TOKEN: environment variable ${VARIABLE} is not set`,
    });
    // A configuration problem is not retried.
    expect(run.attempts).toHaveLength(1);
  }, 30_000);
});
