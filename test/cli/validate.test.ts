import { afterEach, describe, expect, it } from 'vitest';
import {
  createWorkspace,
  nightshiftFile,
  runToEnd,
  scriptedAgent,
  type Workspace,
} from './cli-process.js';
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
    const { code, stdout, stderr } = await runToEnd(['validate', file]);
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
    const { code, stdout, stderr } = await runToEnd(['validate', file]);
    expect(code).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr[0]).toBe(`error: invalid Nightshift file ${file}`);
    expect(stderr.slice(1)).toEqual([
      'agents[0].interval: must be greater than 0',
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
    expect(valid.stdout).toContain('memory: sqlite:***/memory.db');
    const invalidFile = space.writeFile('invalid.yaml', {
      agents: [scriptedAgent('${API_TOKEN}', { interval: -1 })],
    });
    const invalid = await runInProcess(['validate', invalidFile], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('agents[0].interval: must be greater than 0');
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

  it('validates the offline example of the repository', async () => {
    const { code, stdout } = await runToEnd(['validate', 'examples/offline-monitor.yaml']);
    expect(code).toBe(0);
    expect(stdout[0]).toBe('examples/offline-monitor.yaml is valid: 1 agent');
    expect(stdout).toContain(
      'offline_monitor: every 5 s, first run at start; model scripted/scripted, tools system_stats',
    );
  });

  it('says which file it cannot read, without a stack trace', async () => {
    const space = workspace();
    const missing = `${space.directory}/absent.yaml`;
    const { code, stderr } = await runInProcess(['validate', missing]);
    expect(code).toBe(1);
    expect(stderr).toEqual([`error: ${missing}: cannot read the file: no such file`]);
  });
});
