import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentDefinition } from '../../src/config/agent-definition.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import {
  EventRouter,
  MemoryRouter,
  createSqliteStore,
  type Store,
} from '../../src/storage/index.js';
import {
  createWorkspace,
  killLeftoverProcesses,
  nightshiftFile,
  REPOSITORY,
  scriptedAgent,
  startCli,
  type Workspace,
} from './cli-process.js';
import { runInProcess } from './in-process.js';

/** A value that must never be printed: its variable's name says it is a secret. */
const SECRET = 'tok-5d1e9a7c3b2f';

/** util-linux `script`: runs a command on a pseudo-terminal of its own, as a user's shell would. */
const SCRIPT = '/usr/bin/script';

/**
 * Runs the CLI on a real terminal (a pseudo-terminal `script` opens), typing `typed` into it;
 * resolves with its exit code and what the terminal showed.
 */
async function onTerminal(
  args: readonly string[],
  typed: string,
  env: Record<string, string>,
): Promise<{ code: number | null; shown: string }> {
  const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
  const command = [
    process.execPath,
    '--import',
    import.meta.resolve('tsx'),
    join(REPOSITORY, 'src/cli/main.ts'),
    ...args,
  ]
    .map(quote)
    .join(' ');
  const child = spawn(SCRIPT, ['-qec', command, '/dev/null'], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let shown = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (shown += chunk));
  child.stdin.end(typed);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, shown };
}

/** Every line a command printed, to look for what must not be there. */
const printed = (output: { stdout: string[]; stderr: string[] }) =>
  [...output.stdout, ...output.stderr].join('\n');

describe('nightshift agents apply, create and delete', () => {
  const workspaces: Workspace[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  function workspace(): Workspace {
    const created = createWorkspace();
    workspaces.push(created);
    return created;
  }

  /** The workspace's store, opened by the test to look at what the commands left there. */
  function storeOf(space: Workspace): Store {
    const store = createSqliteStore({ path: space.databasePath });
    cleanups.push(() => store.close());
    return store;
  }

  afterEach(async () => {
    killLeftoverProcesses();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    for (const space of workspaces.splice(0)) space.remove();
  });

  it('applies a file to its own store: created, updated with the paths that changed, unchanged; paused stays paused', async () => {
    const space = workspace();
    const env = { REPORT_TOKEN: SECRET };
    const agents = (monitorInterval: number, digestQuery: string) => [
      scriptedAgent('monitor', { interval: monitorInterval }),
      scriptedAgent('digest', {
        interval: 3600,
        task_config: { query: digestQuery, max_retries: 1 },
      }),
    ];
    const file = space.writeFile(
      'fleet.yaml',
      nightshiftFile(space, agents(600, 'Report to ${REPORT_TOKEN}.')),
    );
    const target = `sqlite:${space.databasePath}`;

    const dry = await runInProcess(['agents', 'apply', file, '--dry-run'], env);
    expect(dry).toMatchObject({ code: 0, stderr: [] });
    expect(dry.stdout).toEqual([
      'monitor: would be created; would be started',
      'digest: would be created; would be started',
      `dry run of ${file} against ${target}: 2 to create, 0 to update, 0 unchanged; nothing was changed`,
    ]);

    const first = await runInProcess(['agents', 'apply', file], env);
    expect(first.stderr).toEqual([]);
    expect(first.stdout).toEqual([
      'monitor: created; started',
      'digest: created; started',
      `applied ${file} to ${target}: 2 created, 0 updated, 0 unchanged`,
    ]);
    const store = storeOf(space);
    const stored = await store.agents.get('digest');
    expect(stored?.state).toBe('active');
    // The reference is stored as written, and its value is never printed.
    expect(stored?.definition.task_config.query).toBe('Report to ${REPORT_TOKEN}.');

    const again = await runInProcess(['agents', 'apply', file], env);
    expect(again.stdout).toEqual([
      'monitor: unchanged; active',
      'digest: unchanged; active',
      `applied ${file} to ${target}: 0 created, 0 updated, 2 unchanged`,
    ]);
    expect((await store.agents.get('digest'))?.version).toBe(stored?.version);

    const paused = await runInProcess(
      ['agents', 'pause', 'digest', '--reason', 'maintenance', '--file', file],
      env,
    );
    expect(paused.code).toBe(0);
    space.writeFile(
      'fleet.yaml',
      nightshiftFile(space, agents(1200, 'Report on ${REPORT_TOKEN}.')),
    );
    const extra = await runInProcess(
      [
        'agents',
        'create',
        JSON.stringify(scriptedAgent('extra', { interval: 60 })),
        '--file',
        file,
      ],
      env,
    );
    expect(extra.stdout).toEqual([
      expect.stringMatching(/^extra: created; started, next run \S+Z$/),
    ]);

    const changed = await runInProcess(['agents', 'apply', file], env);
    expect(changed.stderr).toEqual([]);
    expect(changed.stdout).toEqual([
      'monitor: updated: interval; active',
      'digest: updated: task_config.query; paused (maintenance)',
      'extra: in the store, not in the file; active',
      `applied ${file} to ${target}: 0 created, 2 updated, 0 unchanged`,
    ]);
    expect((await store.agents.get('monitor'))?.definition.interval).toBe(1200);
    expect(await store.agents.get('digest')).toMatchObject({
      state: 'paused',
      definition: { task_config: { query: 'Report on ${REPORT_TOKEN}.', max_retries: 1 } },
    });

    const json = await runInProcess(['agents', 'apply', file, '--json'], env);
    expect(JSON.parse(json.stdout.join('\n'))).toEqual({
      file,
      target,
      dry_run: false,
      agents: [
        expect.objectContaining({ agent_id: 'monitor', definition: 'unchanged', changed: [] }),
        expect.objectContaining({ agent_id: 'digest', definition: 'unchanged', state: 'paused' }),
      ],
      others: [{ agent_id: 'extra', state: 'active' }],
    });

    const deleted = await runInProcess(['agents', 'delete', 'extra', '--yes', '--file', file], env);
    expect(deleted).toMatchObject({
      code: 0,
      stdout: ['extra: deleted, with 0 runs and its conversation'],
    });
    expect(await store.agents.get('extra')).toBeUndefined();
    for (const output of [dry, first, again, paused, extra, changed, json, deleted]) {
      expect(printed(output)).not.toContain(SECRET);
    }
  });

  it('refuses a store that lives in one process, and a definition the store cannot take', async () => {
    const space = workspace();
    const inMemory = space.writeFile('in-memory.yaml', {
      memory: { backend: 'in_memory' },
      events: { backend: 'in_memory' },
      agents: [scriptedAgent('monitor')],
    });
    const refused = await runInProcess(['agents', 'apply', inMemory]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toEqual([
      `error: invalid Nightshift file ${inMemory}`,
      'memory.backend: in_memory lives inside one process; agents apply needs a store processes share (or --url of a running Nightshift)',
    ]);

    // The file's own tool settings are the store's: file_write without `files` is refused.
    const file = space.writeFile(
      'fleet.yaml',
      nightshiftFile(space, [scriptedAgent('writer', { tools: ['file_write'] })]),
    );
    const unknownTool = await runInProcess(['agents', 'apply', file]);
    expect(unknownTool.code).toBe(1);
    expect(unknownTool.stderr[0]).toBe(`error: invalid Nightshift file ${file}`);
    expect(unknownTool.stderr[1]).toMatch(/^agents\[0\]\.tools\[0\]: unknown tool "file_write"/);

    const invalid = await runInProcess(['agents', 'create', '{"agent_id": "x", "interval": 0}']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toEqual([
      'error: invalid agent definition in the JSON given',
      'model_config: required',
      'interval: must be at least 0.001 seconds',
      'task_config: required',
    ]);
    const nightshift = await runInProcess(['agents', 'create', file]);
    expect(nightshift.stderr).toEqual([
      `error: ${file} is a Nightshift file: nightshift agents apply ${file} creates and updates its agents`,
    ]);
  });

  describe('through a server', () => {
    let service: BackgroundAgentService;
    let server: RunningServer;

    /** A server (no manager: it runs nothing) whose environment has the OpenAI key; this shell has none. */
    async function startKeyedServer(space: Workspace): Promise<string> {
      service = new BackgroundAgentService(
        new MemoryRouter('database', { url: space.databaseUrl }),
        new EventRouter('database', { url: space.databaseUrl }),
        { env: { OPENAI_API_KEY: 'sk-server-side-key-0000' } },
      );
      server = await startServer(service, { port: 0, token: 'server-token-8c1f' });
      cleanups.push(() => service.shutdown());
      cleanups.push(() => server.close());
      return server.url;
    }

    it('creates and updates on the server, which judges keys and tools; hidden values are not compared', async () => {
      const space = workspace();
      const url = await startKeyedServer(space);
      const cli = (argv: string[]) =>
        runInProcess([...argv, '--url', url, '--token', 'server-token-8c1f'], {});
      const openai = {
        agent_id: 'summarizer',
        model_config: { provider: 'openai', model: 'gpt-4o-mini' },
        interval: 3600,
        task_config: { query: 'Summarize.' },
        mcp_tools: [
          {
            name: 'files',
            command: 'node',
            args: ['files-server.js'],
            env: { FILES_ROOT: '/srv/files' },
          },
        ],
      };
      const file = space.writeFile('fleet.yaml', nightshiftFile(space, [openai]));

      // This shell has no OPENAI_API_KEY: the server, which runs the agent, has.
      const created = await cli(['agents', 'apply', file]);
      expect(created.stderr).toEqual([]);
      expect(created.stdout).toEqual([
        'summarizer: created; started; not compared, as the server hides their values: mcp_tools',
        `applied ${file} to ${url}: 1 created, 0 updated, 0 unchanged`,
      ]);
      const stored: AgentDefinition = await service.getAgentDefinition('summarizer');
      expect(stored.mcp_tools[0]?.env).toEqual({ FILES_ROOT: '/srv/files' });

      const same = await cli(['agents', 'apply', file]);
      expect(same.stdout[0]).toBe(
        'summarizer: unchanged; active; not compared, as the server hides their values: mcp_tools',
      );

      space.writeFile(
        'fleet.yaml',
        nightshiftFile(space, [
          { ...openai, task_config: { query: 'Summarize briefly.', session_policy: 'per_run' } },
        ]),
      );
      const updated = await cli(['agents', 'apply', file]);
      expect(updated.stdout[0]).toBe(
        'summarizer: updated: task_config.query, task_config.session_policy; active; not compared, as the server hides their values: mcp_tools',
      );
      expect((await service.getAgentDefinition('summarizer')).task_config).toMatchObject({
        query: 'Summarize briefly.',
        session_policy: 'per_run',
      });

      // The same file on its own store: this shell is the one that would need the key.
      const local = await runInProcess(['agents', 'apply', file], {});
      expect(local.code).toBe(1);
      expect(local.stderr).toContainEqual(
        expect.stringMatching(
          /^agents\[0\]\.model_config\.api_key_env: environment variable OPENAI_API_KEY is not set/,
        ),
      );
    });

    it('says which agent the server refused, after applying the ones before it', async () => {
      const space = workspace();
      const url = await startKeyedServer(space);
      const file = space.writeFile(
        'fleet.yaml',
        nightshiftFile(space, [
          scriptedAgent('first'),
          scriptedAgent('second', { task_config: { query: 'Home is ${HOME}.' } }),
        ]),
      );
      const output = await runInProcess(
        ['agents', 'apply', file, '--url', url, '--token', 'server-token-8c1f'],
        { HOME: '/home/someone' },
      );
      expect(output.code).toBe(1);
      expect(output.stdout).toEqual(['first: created; started']);
      expect(output.stderr).toEqual([
        'error: agent "second" (agents[1]) was refused',
        "agents[1].task_config.query: may reference only allowed environment variables (OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_GENERATIVE_AI_API_KEY), not HOME; the server's operator allows more with server.allowed_env",
      ]);
      expect((await service.listAgents()).map((agent) => agent.agent_id)).toEqual(['first']);

      const exists = await runInProcess(
        [
          'agents',
          'create',
          JSON.stringify([scriptedAgent('third'), scriptedAgent('first')]),
          '--url',
          url,
          '--token',
          'server-token-8c1f',
        ],
        {},
      );
      expect(exists.stderr).toEqual([
        `error: "first" already exists in ${url}; nightshift agents apply updates an agent`,
      ]);
      expect((await service.listAgents()).map((agent) => agent.agent_id)).toEqual(['first']);
    });

    it('asks before deleting: a process without a terminal needs --yes', async () => {
      const space = workspace();
      const url = await startKeyedServer(space);
      await service.createFromUntyped(scriptedAgent('doomed'));
      const args = ['agents', 'delete', 'doomed', '--url', url];
      const env = { NIGHTSHIFT_TOKEN: 'server-token-8c1f' };
      // A real process whose standard input is no terminal, as in a script.
      const unconfirmed = startCli(args, env);
      expect(await unconfirmed.exited()).toBe(1);
      expect(unconfirmed.stderr).toEqual([
        'error: agents delete removes doomed (created, 0 runs), its runs and its conversation, for good: pass --yes to confirm (there is no terminal to ask on)',
      ]);
      expect((await service.getAgentStatus('doomed')).state).toBe('created');

      const confirmed = startCli([...args, '--yes'], env);
      expect(await confirmed.exited()).toBe(0);
      expect(confirmed.stdout).toEqual(['doomed: deleted, with 0 runs and its conversation']);
      await expect(service.getAgentStatus('doomed')).rejects.toMatchObject({
        code: 'agent_not_found',
      });
      if (existsSync(SCRIPT)) {
        await service.createFromUntyped(scriptedAgent('asked'));
        const asked = ['agents', 'delete', 'asked', '--url', url];
        // On a terminal it asks; anything but yes keeps the agent.
        const kept = await onTerminal(asked, 'n\n', env);
        expect(kept.code).toBe(1);
        expect(kept.shown).toContain(
          'delete asked (created, 0 runs), its runs and its conversation, for good? [y/N]',
        );
        expect(kept.shown).toContain('error: asked was not deleted');
        expect((await service.getAgentStatus('asked')).state).toBe('created');
        const answered = await onTerminal(asked, 'y\n', env);
        expect(answered.code).toBe(0);
        expect(answered.shown).toContain('asked: deleted, with 0 runs and its conversation');
        expect((await service.listAgents()).map((agent) => agent.agent_id)).not.toContain('asked');
      }

      const missing = await runInProcess([...args, '--yes'], env);
      expect(missing.stderr).toEqual(['error: no agent named "doomed"']);
    });
  });
});
