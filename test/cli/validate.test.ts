import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace, nightshiftFile, scriptedAgent, type Workspace } from './cli-process.js';
import { runInProcess } from './in-process.js';

const INSTANT = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;

describe('nightshift validate', () => {
  const workspaces: Workspace[] = [];

  function workspace(): Workspace {
    const created = createWorkspace();
    workspaces.push(created);
    return created;
  }

  afterEach(() => {
    for (const space of workspaces.splice(0)) space.remove();
  });

  it('summarises a valid file: each agent, its schedule and its next three fire times', async () => {
    const space = workspace();
    const file = space.writeFile(
      'nightshift.json',
      nightshiftFile(space, [
        scriptedAgent('system_monitor', { interval: 300, max_runs: 10 }),
        scriptedAgent('morning_digest', {
          interval: undefined,
          cron: '0 9 * * *',
          timezone: 'Europe/Paris',
        }),
      ]),
    );
    const { code, stdout, stderr } = await runInProcess(['validate', file]);
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    expect(stdout[0]).toBe(`${file} is valid: 2 agents`);
    expect(stdout).toContain(`memory: sqlite:${space.databasePath}`);
    expect(stdout).toContain(
      'system_monitor: every 5 min, at most 10 runs; model scripted/scripted, tools system_stats',
    );
    expect(stdout).toContain(
      'morning_digest: cron "0 9 * * *" (Europe/Paris); model scripted/scripted, tools system_stats',
    );
    const nextRuns = stdout.filter((line) => line.startsWith('  next runs: '));
    expect(nextRuns).toHaveLength(2);
    for (const line of nextRuns) {
      expect(line).toMatch(new RegExp(`^  next runs: ${INSTANT}, ${INSTANT}, ${INSTANT}$`));
    }
    // 09:00 in Paris is 07:00 or 08:00 UTC, whatever the season.
    expect(nextRuns[1]).toMatch(/T0[78]:00:00Z, .*T0[78]:00:00Z, .*T0[78]:00:00Z$/);
  });

  it('prints every bad field by path, one per line, and exits 1', async () => {
    const space = workspace();
    const file = space.writeFile('nightshift.yaml', {
      memory: { backend: 'database', url: 'mysql://nightshift@localhost/nightshift' },
      agents: [
        scriptedAgent('system_monitor', { interval: 0 }),
        scriptedAgent('system_monitor', { task_config: {} }),
      ],
    });
    const { code, stdout, stderr } = await runInProcess(['validate', file]);
    expect(code).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr[0]).toBe(`error: invalid Nightshift file ${file}`);
    expect(stderr.slice(1)).toEqual([
      'agents[0].interval: must be at least 0.001 seconds',
      'agents[1].task_config.query: required',
      'agents[1].agent_id: duplicate "system_monitor" (also agents[0])',
      expect.stringMatching(/^memory\.url: unsupported database URL scheme "mysql:"/),
    ]);
  });

  it('never prints a value that came from the environment', async () => {
    const space = workspace();
    const secretDirectory = `${space.directory}/private-4f9a2c`;
    const file = space.writeFile('nightshift.yaml', {
      memory: { url: 'sqlite:${SECRET_DIRECTORY}/memory.db' },
      events: { url: 'sqlite:${SECRET_DIRECTORY}/events.db' },
      agents: [scriptedAgent('system_monitor', { system_instruction: 'Token ${API_TOKEN}.' })],
    });
    const env = { SECRET_DIRECTORY: secretDirectory, API_TOKEN: 'tok-9b8c7d6e5f' };
    const valid = await runInProcess(['validate', file], env);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain('memory: sqlite:[redacted]/memory.db');
    const invalidFile = space.writeFile('invalid.yaml', {
      agents: [scriptedAgent('${API_TOKEN}', { interval: -1 })],
    });
    const invalid = await runInProcess(['validate', invalidFile], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('agents[0].interval: must be at least 0.001 seconds');
    for (const output of [...valid.stdout, ...valid.stderr, ...invalid.stdout, ...invalid.stderr]) {
      expect(output).not.toContain('private-4f9a2c');
      expect(output).not.toContain('tok-9b8c7d6e5f');
    }
  });

  it('names an unset variable and where it is used', async () => {
    const space = workspace();
    const file = space.writeFile('nightshift.yaml', {
      agents: [
        scriptedAgent('system_monitor', {
          model_config: { provider: 'openai_compatible', base_url: '${LLM_BASE_URL}' },
        }),
      ],
    });
    const { code, stderr } = await runInProcess(['validate', file], { LLM_BASE_URL: '' });
    expect(code).toBe(1);
    expect(stderr).toContain('agents[0].model_config.base_url: must be a URL');
    const unset = await runInProcess(['validate', file]);
    expect(unset.stderr).toContain(
      'agents[0].model_config.base_url: environment variable LLM_BASE_URL is not set',
    );
  });

  it('checks the server, scheduler and tool settings blocks, naming each bad field', async () => {
    const space = workspace();
    const file = space.writeFile('nightshift.yaml', {
      ...nightshiftFile(space, [
        scriptedAgent('reporter', { tools: ['system_stats', 'file_write', 'notify'] }),
      ]),
      server: { host: '0.0.0.0', port: 70_000 },
      scheduler: { kind: 'cron' },
      webhooks: { ops: 'ftp://hooks.example.com/${HOOK_TOKEN}' },
      connections: { main: 'mysql://db.internal/app', 'bad name': 'sqlite:./app.db' },
      archive_directory: './archives',
    });
    const { code, stdout, stderr } = await runInProcess(['validate', file], {
      HOOK_TOKEN: 'hook-secret-77',
    });
    expect(code).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr[0]).toBe(`error: invalid Nightshift file ${file}`);
    expect(stderr.slice(1)).toEqual([
      'server.port: must be at most 65535',
      expect.stringMatching(/^scheduler\.kind: .*"local"\|"bullmq"|^scheduler\.kind: /),
      'connections.bad name: must be a name of letters, digits, _ and -',
      expect.stringMatching(
        /^agents\[0\]\.tools\[1\]: unknown tool "file_write" .*; file_write needs a top-level files: \{ directory \} block$/,
      ),
    ]);
    expect(stderr.join('\n')).not.toContain('hook-secret-77');

    // With the shapes right, what the tools and the server would refuse at start-up.
    const shaped = space.writeFile('shaped.yaml', {
      ...nightshiftFile(space, [scriptedAgent('reporter', { tools: ['notify', 'sql_query'] })]),
      server: { host: '0.0.0.0' },
      webhooks: { ops: 'ftp://hooks.example.com/${HOOK_TOKEN}' },
      connections: { main: 'mysql://db.internal/app' },
    });
    const refused = await runInProcess(['validate', shaped], { HOOK_TOKEN: 'hook-secret-77' });
    expect(refused.code).toBe(1);
    expect(refused.stderr.slice(1)).toEqual([
      'webhooks.ops: webhook "ops" is not an http(s) URL',
      'connections.main: connection "main" must be a postgres:// URL or a sqlite: URL naming a file',
      'server.token: required to listen on 0.0.0.0, which other machines can reach (or set NIGHTSHIFT_TOKEN)',
    ]);
    expect(refused.stderr.join('\n')).not.toContain('hook-secret-77');
    const tokened = await runInProcess(['validate', shaped], {
      HOOK_TOKEN: 'hook-secret-77',
      NIGHTSHIFT_TOKEN: 'a-long-token',
    });
    expect(tokened.stderr.slice(1)).not.toContainEqual(expect.stringMatching(/^server\.token/));
  });

  it('shows what a valid file serves and which tools its settings enable', async () => {
    const space = workspace();
    const file = space.writeFile('nightshift.yaml', {
      ...nightshiftFile(space, [
        scriptedAgent('reporter', { tools: ['file_write', 'notify', 'sql_archive'] }),
      ]),
      server: { port: '${PORT:-7431}', token: '${API_TOKEN}' },
      scheduler: { kind: 'bullmq', url: 'redis://localhost:6379', concurrency: 4 },
      files: { directory: 'reports' },
      webhooks: { ops: 'https://hooks.example.com/services/${HOOK_TOKEN}' },
      connections: { main: 'sqlite:./app.db' },
      archive_directory: 'archives',
    });
    const env = { API_TOKEN: 'api-token-5f3e', HOOK_TOKEN: 'hook-secret-77' };
    const { code, stdout, stderr } = await runInProcess(['validate', file], env);
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    expect(stdout).toEqual(
      expect.arrayContaining([
        'http: http://127.0.0.1:7431 (token required)',
        'scheduler: bullmq, concurrency 4',
        `file_write: writes in ${resolve('reports')}`,
        'notify: webhooks ops',
        'sql_query, sql_archive: connections main',
        `sql_archive: JSONL archives in ${resolve('archives')}`,
      ]),
    );
    expect(stdout.join('\n')).not.toMatch(/api-token-5f3e|hook-secret-77/);
  });

  it('says which file it cannot read, without a stack trace', async () => {
    const space = workspace();
    const missing = `${space.directory}/absent.yaml`;
    const { code, stderr } = await runInProcess(['validate', missing]);
    expect(code).toBe(1);
    expect(stderr).toEqual([`error: ${missing}: cannot read the file: no such file`]);
  });
});
