import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import { EventRouter, MemoryRouter } from '../../src/storage/index.js';
import { createWorkspace, scriptedAgent, waitFor, type Workspace } from './cli-process.js';
import { runInProcess } from './in-process.js';

const INSTANT = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;

describe('agents by tag, and pause notes, from the CLI', () => {
  let space: Workspace;
  let service: BackgroundAgentService;
  let server: RunningServer;

  /** The CLI in this process, against the server. */
  const cli = (argv: string[]) => runInProcess([...argv, '--url', server.url]);

  beforeAll(async () => {
    space = createWorkspace();
    service = new BackgroundAgentService(
      new MemoryRouter('database', { url: space.databaseUrl }),
      new EventRouter('database', { url: space.databaseUrl }),
      { env: {} },
    );
    await service.startManager();
    const define = (agentId: string, tags: string[]) =>
      service.createFromUntyped(scriptedAgent(agentId, { interval: 3600, tags }));
    await define('loader', ['nightly']);
    await define('reporter', ['nightly', 'reports']);
    await define('watcher', []);
    server = await startServer(service, { port: 0, token: '' });
  });

  beforeEach(async () => {
    for (const agentId of ['loader', 'reporter', 'watcher']) {
      const { state } = await service.getAgentStatus(agentId);
      if (state === 'paused') await service.resumeAgent(agentId);
      else if (state !== 'active') await service.startAgent(agentId);
    }
  });

  afterAll(async () => {
    await server.close();
    await service.shutdown();
    space.remove();
  });

  it('pauses one agent with why, who and until when (a duration), and shows them', async () => {
    const before = Date.now();
    const paused = await cli([
      'agents',
      'pause',
      'loader',
      '--reason',
      'warehouse migration',
      '--by',
      'ana',
      '--until',
      '2h',
    ]);
    expect(paused.stderr).toEqual([]);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toEqual([
      expect.stringMatching(
        new RegExp(`^loader: paused \\(warehouse migration, by ana, until ${INSTANT}\\)$`),
      ),
    ]);
    const until = Date.parse((await service.getAgentStatus('loader')).paused_until ?? '');
    expect(until - before).toBeGreaterThanOrEqual(2 * 3_600_000 - 1000);
    expect(until - Date.now()).toBeLessThanOrEqual(2 * 3_600_000);

    const status = await cli(['agents', 'status', 'loader']);
    expect(status.stdout).toEqual(
      expect.arrayContaining([
        'paused because     warehouse migration',
        'paused by          ana',
        expect.stringMatching(new RegExp(`^resumes +${INSTANT} \\(by itself\\)$`)),
        'tags               nightly',
      ]),
    );
    const json = JSON.parse((await cli(['agents', 'status', 'loader', '--json'])).stdout.join(''));
    expect(json).toMatchObject({ paused_by: 'ana', tags: ['nightly'] });
  });

  it('takes --until as an ISO instant; refuses a past one, a bad one, and no agent or tag', async () => {
    const at = new Date(Date.now() + 86_400_000).toISOString();
    const paused = await cli(['agents', 'pause', 'loader', '--until', at]);
    expect(paused.code).toBe(0);
    expect((await service.getAgentStatus('loader')).paused_until).toBe(at);
    await service.resumeAgent('loader');

    const past = await cli(['agents', 'pause', 'loader', '--until', '2020-01-01T00:00:00Z']);
    expect(past.code).toBe(1);
    expect(past.stderr.join('\n')).toMatch(/until: must be in the future/);
    const bad = await cli(['agents', 'pause', 'loader', '--until', 'tomorrow']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.join('\n')).toContain('--until');
    const neither = await cli(['agents', 'pause']);
    expect(neither.code).toBe(1);
    expect(neither.stderr.join('\n')).toContain('needs an <agent_id>, or --tag');
    const both = await cli(['agents', 'pause', 'loader', '--tag', 'nightly']);
    expect(both.stderr.join('\n')).toContain('not both');
    expect((await service.getAgentStatus('loader')).state).toBe('active');
  });

  it('lists, pauses and resumes every agent with a tag, a line each and a summary', async () => {
    const listed = await cli(['agents', 'list', '--tag', 'nightly']);
    expect(listed.stdout.slice(1).map((row) => row.split(/\s+/)[0])).toEqual([
      'loader',
      'reporter',
    ]);
    expect((await cli(['agents', 'list', '--tag', 'nobody'])).stdout[0]).toMatch(
      /^no agent with the tag nobody in /,
    );

    await service.pauseAgent('reporter');
    const paused = await cli(['agents', 'pause', '--tag', 'nightly', '--by', 'ana']);
    expect(paused.stderr).toEqual([]);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toEqual([
      'loader: paused',
      // Paused already: its own pause and note stay.
      'reporter: paused already',
      'tag nightly: 1 paused, 1 unchanged',
    ]);
    expect((await service.getAgentStatus('loader')).paused_by).toBe('ana');
    expect((await service.getAgentStatus('reporter')).paused_by).toBeNull();
    expect((await service.getAgentStatus('watcher')).state).toBe('active');

    const again = await cli(['agents', 'pause', '--tag', 'nightly']);
    expect(again.stdout).toEqual([
      'loader: paused already',
      'reporter: paused already',
      'tag nightly: 0 paused, 2 unchanged',
    ]);

    const resumed = await cli(['agents', 'resume', '--tag', 'reports']);
    expect(resumed).toMatchObject({
      code: 0,
      stdout: ['reporter: resumed', 'tag reports: 1 resumed'],
    });
    const json = await cli(['agents', 'resume', '--tag', 'nightly', '--json']);
    expect(JSON.parse(json.stdout.join('\n'))).toMatchObject({
      tag: 'nightly',
      action: 'resume',
      agents: [
        { agent_id: 'loader', result: 'done' },
        { agent_id: 'reporter', result: 'unchanged' },
      ],
    });
    expect((await cli(['agents', 'resume', '--tag', 'nobody'])).stdout).toEqual([
      'no agent has the tag nobody',
    ]);
  });

  it('exits 1 when an agent of the tag was refused, saying why', async () => {
    await service.stopAgent('reporter');
    const paused = await cli(['agents', 'pause', '--tag', 'nightly']);
    expect(paused.code).toBe(1);
    expect(paused.stdout).toEqual([
      'loader: paused',
      'reporter: refused (invalid_state: agent "reporter" is stopped; only an active agent can be paused)',
      'tag nightly: 1 paused, 1 refused',
    ]);
    const badTag = await cli(['agents', 'resume', '--tag', 'two words']);
    expect(badTag.code).toBe(1);
    expect(badTag.stderr.join('\n')).toContain('tag:');
  });

  it('runs every agent with a tag through the server', async () => {
    const ran = await cli(['agents', 'run', '--tag', 'nightly', '--query', 'Once more.']);
    expect(ran.stderr).toEqual([]);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toEqual([
      expect.stringMatching(/^loader\.manual-\S+: /),
      expect.stringMatching(/^reporter\.manual-\S+: /),
      'tag nightly: 2 run',
    ]);
    for (const line of ran.stdout.slice(0, 2)) {
      const runId = line.split(':')[0] ?? '';
      await waitFor(
        async () => (await service.getRun(runId)).status === 'completed' || undefined,
        `${runId} to complete`,
      );
      expect((await service.getRun(runId)).query).toBe('Once more.');
    }
    const waited = await cli(['agents', 'run', '--tag', 'nightly', '--wait']);
    expect(waited.code).toBe(1);
    expect(waited.stderr.join('\n')).toContain('--wait goes with one agent');
    // Without a server there is no process to run them.
    const direct = await runInProcess(['agents', 'run', '--tag', 'nightly']);
    expect(direct.code).toBe(1);
    expect(direct.stderr.join('\n')).toContain(
      'agents run --tag asks a running Nightshift to run the agents: pass --url',
    );
  });

  it('pauses and resumes by tag on a store read directly', async () => {
    const direct = (argv: string[]) => runInProcess([...argv, '--memory', space.databaseUrl]);
    const paused = await direct(['agents', 'pause', '--tag', 'reports', '--reason', 'audit']);
    expect(paused).toMatchObject({
      code: 0,
      stdout: ['reporter: paused', 'tag reports: 1 paused'],
    });
    await waitFor(
      async () => (await service.getAgentStatus('reporter')).state === 'paused' || undefined,
      'reporter to be paused',
    );
    expect((await service.getAgentStatus('reporter')).pause_reason).toBe('audit');
    const resumed = await direct(['agents', 'resume', '--tag', 'reports']);
    expect(resumed.stdout).toEqual(['reporter: resumed', 'tag reports: 1 resumed']);
  });
});
