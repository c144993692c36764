import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadNightshiftFile,
  loadServiceSections,
  loadStorageSections,
} from '../../src/config/load-config-file.js';
import { DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT } from '../../src/config/nightshift-file.js';
import { NightshiftError } from '../../src/errors.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../../src/server/index.js';

const agent = {
  agent_id: 'system_monitor',
  model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
  interval: 300,
  task_config: { query: 'Check local CPU and Memory usage.' },
};

const TOOLS = ['system_stats'];

describe('Nightshift files', () => {
  const directories: string[] = [];

  function write(name: string, text: string): string {
    const directory = mkdtempSync(join(tmpdir(), 'nightshift-config-'));
    directories.push(directory);
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  }

  function refusal(path: string, env: Record<string, string> = {}): NightshiftError {
    try {
      loadNightshiftFile(path, { env, tools: TOOLS });
    } catch (error) {
      if (NightshiftError.isInstance(error)) return error;
      throw error;
    }
    throw new Error('expected the file to be refused');
  }

  afterEach(() => {
    for (const directory of directories.splice(0))
      rmSync(directory, { recursive: true, force: true });
  });

  it('loads YAML: storage sections, and agents with their defaults filled in', () => {
    const path = write(
      'nightshift.yaml',
      [
        'memory: { backend: database, url: "sqlite:./state/nightshift.db" }',
        'events: { backend: in_memory }',
        'agents:',
        '  - agent_id: system_monitor',
        '    model_config: { provider: scripted, script: [{ tool: system_stats }, { answer: done }] }',
        '    interval: 300',
        '    task_config: { query: Check local CPU and Memory usage., max_retries: 2 }',
        '    tools: [system_stats]',
      ].join('\n'),
    );
    const file = loadNightshiftFile(path, { env: {}, tools: TOOLS });
    expect(file.path).toBe(path);
    expect(file.memory).toEqual({ backend: 'database', url: 'sqlite:./state/nightshift.db' });
    expect(file.events).toEqual({ backend: 'in_memory' });
    expect(file.agents).toHaveLength(1);
    expect(file.agents[0]).toMatchObject({
      agent_id: 'system_monitor',
      interval: 300,
      overlap_policy: 'skip',
      task_config: { max_retries: 2, timeout: 300 },
      tools: ['system_stats'],
    });
    expect(file.agentInputs[0]).not.toHaveProperty('overlap_policy');
    expect(file.secrets).toEqual([]);
  });

  it('loads JSON the same way, with database storage by default', () => {
    const path = write('nightshift.json', JSON.stringify({ agents: [agent] }));
    const file = loadNightshiftFile(path, { env: {} });
    expect(file.memory).toEqual({ backend: 'database' });
    expect(file.events).toEqual({ backend: 'database' });
    expect(file.server).toBeUndefined();
    expect(file.scheduler).toEqual({ kind: 'local' });
    expect(file.toolSettings).toEqual({});
    expect(file.agents.map((definition) => definition.agent_id)).toEqual(['system_monitor']);
  });

  it('loads the server, scheduler and tool settings blocks, with their defaults', () => {
    const path = write(
      'nightshift.yaml',
      [
        'server: { port: "${PORT:-8080}", token: "${API_TOKEN}" }',
        'scheduler: { kind: bullmq, url: "redis://localhost:6379", concurrency: 4 }',
        'files: { directory: reports }',
        'webhooks: { ops: "https://hooks.example.com/services/T0/B0/x1" }',
        'connections: { main: "postgres://archiver:pw-8d2f@db.internal/app", local: "sqlite:./app.db" }',
        'archive_directory: /var/archives',
        'agents:',
        '  - agent_id: writer',
        '    model_config: { provider: scripted, script: [{ answer: ok }] }',
        '    interval: 60',
        '    task_config: { query: Write. }',
        '    tools: [system_stats, file_write, notify, sql_query, sql_archive]',
      ].join('\n'),
    );
    const file = loadNightshiftFile(path, {
      env: { API_TOKEN: 'token-from-env' },
      tools: TOOLS,
      cwd: '/srv/nightshift',
    });
    expect(file.server).toEqual({ host: '127.0.0.1', port: 8080, token: 'token-from-env' });
    expect(file.scheduler).toEqual({
      kind: 'bullmq',
      url: 'redis://localhost:6379',
      concurrency: 4,
    });
    expect(file.toolSettings).toEqual({
      files: { directory: '/srv/nightshift/reports' },
      webhooks: { ops: 'https://hooks.example.com/services/T0/B0/x1' },
      connections: {
        main: 'postgres://archiver:pw-8d2f@db.internal/app',
        local: 'sqlite:./app.db',
      },
      archive_directory: '/var/archives',
    });
    expect(file.agents[0]?.tools).toEqual([
      'system_stats',
      'file_write',
      'notify',
      'sql_query',
      'sql_archive',
    ]);
    // Never printed: what came from the environment, and URLs that carry tokens or passwords.
    expect(file.secrets).toEqual(
      expect.arrayContaining([
        'token-from-env',
        'https://hooks.example.com/services/T0/B0/x1',
        'postgres://archiver:pw-8d2f@db.internal/app',
      ]),
    );
    const defaults = loadNightshiftFile(write('served.yaml', 'server: {}\nagents: []\n'), {
      env: {},
    });
    expect(defaults.server).toEqual({ host: DEFAULT_HOST, port: DEFAULT_PORT });
    expect([DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT]).toEqual([DEFAULT_HOST, DEFAULT_PORT]);
    const literal = loadNightshiftFile(
      write('literal.yaml', 'server: { token: "literal-token-9" }\nagents: []\n'),
      { env: {} },
    );
    expect(literal.secrets).toEqual(['literal-token-9']);
  });

  it('names every bad field of the new blocks by path', () => {
    const path = write(
      'nightshift.yaml',
      [
        'server: { host: "", port: 80.5, tls: true }',
        'scheduler: { kind: cron, concurrency: 0 }',
        'files: { dir: ./out }',
        'webhooks: { "ops team": "https://hooks.example.com/x", empty: "" }',
        'connections: [main]',
        'archive_directory: 7',
        'agents:',
        '  - agent_id: writer',
        '    model_config: { provider: scripted, script: [{ answer: ok }] }',
        '    interval: 60',
        '    task_config: { query: Write. }',
        '    tools: [sql_archive]',
      ].join('\n'),
    );
    expect(
      Object.fromEntries(refusal(path).fields.map((field) => [field.path, field.message])),
    ).toEqual({
      'server.host': 'must not be empty',
      'server.port': 'must be a whole number',
      'server.tls': 'unknown field',
      'scheduler.kind': expect.stringContaining('"local"|"bullmq"'),
      'scheduler.concurrency': 'must be at least 1',
      'files.dir': 'unknown field',
      'files.directory': 'required',
      'webhooks.ops team': 'must be a name of letters, digits, _ and -',
      'webhooks.empty': 'must not be empty',
      // Reported once: the agent's sql_archive is not also called unknown.
      connections: 'must be a mapping of names to URLs',
      archive_directory: 'must be a string',
    });
  });

  it('loads every section but the agents for a process that runs none', () => {
    const path = write(
      'nightshift.yaml',
      [
        'memory: { url: "sqlite:./n.db" }',
        'server: { host: 0.0.0.0, port: 0 }',
        'files: { directory: ./out }',
        'agents:',
        '  - agent_id: ${UNSET}',
      ].join('\n'),
    );
    const sections = loadServiceSections(path, { env: {}, cwd: '/srv' });
    expect(sections.server).toEqual({ host: '0.0.0.0', port: 0 });
    expect(sections.toolSettings).toEqual({ files: { directory: '/srv/out' } });
    expect(sections).not.toHaveProperty('agents');
    const withoutAgents = loadServiceSections(write('bare.yaml', 'server: {}\n'), { env: {} });
    expect(withoutAgents.server?.port).toBe(7420);
  });

  it('reads ${NAME} and ${NAME:-default} from the environment, and remembers what came from it', () => {
    const path = write(
      'nightshift.yaml',
      [
        'memory: { url: "postgres://nightshift:${DB_PASSWORD}@db.internal/nightshift" }',
        'events: { url: "${EVENTS_URL:-sqlite:./events.db}" }',
        'agents:',
        '  - agent_id: ${AGENT_ID}',
        '    system_instruction: "Costs are in $$, write $${NOT_A_VARIABLE} as is; mode ${MODE:-careful}"',
        '    model_config:',
        '      provider: openai_compatible',
        '      model: ${MODEL:-llama3}',
        '      base_url: ${BASE_URL}',
        '    interval: 60',
        '    task_config: { query: "${QUERY:-Check the disk.}" }',
      ].join('\n'),
    );
    const file = loadNightshiftFile(path, {
      env: {
        DB_PASSWORD: 's3cret-pass',
        AGENT_ID: 'disk_watch',
        BASE_URL: 'http://localhost:11434/v1',
        MODE: '',
      },
    });
    expect(file.memory.url).toBe('postgres://nightshift:s3cret-pass@db.internal/nightshift');
    expect(file.events.url).toBe('sqlite:./events.db');
    const [definition] = file.agents;
    // Text, the model and its address keep their references, read at use; the id is read now.
    expect(definition?.agent_id).toBe('disk_watch');
    expect(definition?.system_instruction).toBe(
      'Costs are in $$, write $${NOT_A_VARIABLE} as is; mode ${MODE:-careful}',
    );
    expect(definition?.model_config).toMatchObject({
      model: '${MODEL:-llama3}',
      base_url: '${BASE_URL}',
    });
    expect(definition?.task_config.query).toBe('${QUERY:-Check the disk.}');
    expect([...file.secrets].sort()).toEqual(['s3cret-pass']);
  });

  it('names the variable and the path of an unset reference, and nothing else about that value', () => {
    const path = write(
      'nightshift.yaml',
      [
        'agents:',
        '  - agent_id: local',
        '    model_config: { provider: openai_compatible, base_url: "${FOO}" }',
        '    interval: 60',
        '    task_config: { query: "Hello ${WHO} and ${ALSO}" }',
        '    tools: ["${TOOL:-system_stats}"]',
      ].join('\n'),
    );
    const error = refusal(path);
    expect(error.code).toBe('config_invalid');
    expect(error.fields).toEqual([
      {
        path: 'agents[0].model_config.base_url',
        message: 'environment variable FOO is not set',
      },
      { path: 'agents[0].task_config.query', message: 'environment variable WHO is not set' },
      { path: 'agents[0].task_config.query', message: 'environment variable ALSO is not set' },
    ]);
    expect(error.message).toContain('agents[0].model_config.base_url: environment variable FOO');
  });

  it('reports every bad field of the file at once, each by its path', () => {
    const path = write(
      'nightshift.yaml',
      [
        'memory: { backend: mongodb }',
        'extra: true',
        'agents:',
        '  - agent_id: first',
        '    model_config: { provider: scripted, script: [{ answer: ok }] }',
        '    interval: 0',
        '    task_config: { query: "" }',
        '  - agent_id: second',
        '    model_config: { provider: scripted, script: [{ answer: ok }] }',
        '    cron: "0 9 * * *"',
        '    task_config: { query: go }',
        '    tools: [system_stats, rm_rf]',
        '    colour: blue',
        '  - just a string',
      ].join('\n'),
    );
    const error = refusal(path);
    expect(Object.fromEntries(error.fields.map((field) => [field.path, field.message]))).toEqual({
      'memory.backend': expect.stringContaining('in_memory'),
      extra: 'unknown field',
      'agents[0].interval': 'must be at least 0.001 seconds',
      'agents[0].task_config.query': 'must not be empty',
      'agents[1].colour': 'unknown field',
      'agents[1].tools[1]': 'unknown tool "rm_rf" (registered: system_stats)',
      'agents[2]': 'must be an object',
    });
    expect(error.details).toMatchObject({ file: path });
  });

  it('refuses duplicate agent ids, naming the later one', () => {
    const path = write(
      'nightshift.json',
      JSON.stringify({
        agents: [agent, { ...agent, agent_id: 'other' }, { ...agent, interval: 60 }],
      }),
    );
    expect(refusal(path).fields).toEqual([
      { path: 'agents[2].agent_id', message: 'duplicate "system_monitor" (also agents[0])' },
    ]);
  });

  it('names the file and the line of a YAML syntax error', () => {
    const path = write(
      'nightshift.yaml',
      ['agents:', '  - agent_id: broken', '    interval: [60', '    task_config: {}'].join('\n'),
    );
    const error = refusal(path);
    expect(error.code).toBe('config_invalid');
    expect(error.message).toMatch(new RegExp(`^${path}: syntax error: line \\d+, column \\d+: `));
    expect(error.details).toMatchObject({ file: path, line: expect.any(Number) });
  });

  it('names the file, and the line and column where it can, of a JSON syntax error', () => {
    const path = write('nightshift.json', '{\n  "agents": [\n    { "agent_id" "x" }\n  ]\n}');
    const error = refusal(path);
    expect(error.message).toMatch(new RegExp(`^${path}: syntax error: line 3, column 18: `));
    expect(error.details).toMatchObject({ file: path, line: 3, column: 18 });
    const truncated = refusal(write('cut.json', '{\n  "agents": [\n'));
    expect(truncated.message).toContain(
      'syntax error: line 3, column 1: Unexpected end of JSON input',
    );
    const trailing = refusal(write('comma.json', '{ "agents": [1,] }'));
    expect(trailing.message).toMatch(/comma\.json: syntax error: /);
  });

  it('names the file it cannot read, and refuses types it does not know', () => {
    const missing = join(tmpdir(), 'nightshift-no-such-dir', 'nightshift.yaml');
    expect(refusal(missing).message).toBe(`${missing}: cannot read the file: no such file`);
    const toml = write('nightshift.toml', 'agents = []');
    expect(refusal(toml).message).toContain('unsupported file type ".toml"');
    expect(refusal(write('empty.yaml', '# nothing yet\n')).message).toContain('the file is empty');
    expect(refusal(write('list.yaml', '- a\n- b\n')).message).toContain('must hold a mapping');
  });

  it('requires the agents list', () => {
    const error = refusal(write('nightshift.yaml', 'memory: { backend: database }\n'));
    expect(error.fields).toEqual([{ path: 'agents', message: 'required' }]);
  });

  it('loads only the storage sections when asked, whatever the agents say', () => {
    const path = write(
      'nightshift.yaml',
      'memory: { url: "sqlite:${DIR}/n.db" }\nagents:\n  - agent_id: ${UNSET}\n',
    );
    const sections = loadStorageSections(path, { env: { DIR: '/var/lib/nightshift' } });
    expect(sections.memory).toEqual({
      backend: 'database',
      url: 'sqlite:/var/lib/nightshift/n.db',
    });
    expect(sections.events).toEqual({ backend: 'database' });
    expect(sections.secrets).toEqual(['/var/lib/nightshift']);
  });
});
