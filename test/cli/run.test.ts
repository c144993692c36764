import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundAgentService } from '../../src/service/index.js';
import {
  createSqliteStore,
  EventRouter,
  MemoryRouter,
  type Store,
} from '../../src/storage/index.js';
import {
  createWorkspace,
  killLeftoverProcesses,
  nightshiftFile,
  scriptedAgent,
  startCli,
  waitFor,
  type Workspace,
} from './cli-process.js';
import { startInProcess } from './in-process.js';

const INSTANT = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;

describe('nightshift run', () => {
  const workspaces: Workspace[] = [];
  const stores: Store[] = [];

  function workspace(): Workspace {
    const created = createWorkspace();
    workspaces.push(created);
    return created;
  }

  /** The store the CLI writes, read from this process (opened once the CLI has created it). */
  function openStore(space: Workspace): Store {
    const store = createSqliteStore({ path: space.databasePath });
    stores.push(store);
    return store;
  }

  afterEach(async () => {
    killLeftoverProcesses();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const space of workspaces.splice(0)) space.remove();
  });

  it('prints a line per run start and end, records the runs, serves the API, and exits 0 on SIGTERM', async () => {
    const space = workspace();
    const file = space.writeFile(
      'nightshift.yaml',
      nightshiftFile(space, [scriptedAgent('system_monitor', { interval: 0.5 })]),
    );
    // Port 0: a free port, and the line says which.
    const cli = startCli(['run', file, '--port', '0'], { NIGHTSHIFT_TOKEN: '' });
    const http = await cli.waitForLine(/^http: /);
    const url = /^http: (http:\/\/127\.0\.0\.1:\d+) \(no token: loopback only\)$/.exec(http)?.[1];
    expect(url, http).toBeDefined();
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const listed = (await (await fetch(`${url}/api/agents`)).json()) as {
      agents: { agent_id: string; state: string }[];
    };
    expect(listed.agents.map((agent) => [agent.agent_id, agent.state])).toEqual([
      ['system_monitor', 'active'],
    ]);
    await cli.waitForLine(new RegExp(`^${INSTANT} system_monitor run started \\(attempt 1\\)$`));
    await cli.waitForLine(
      new RegExp(`^${INSTANT} system_monitor completed in \\d+ ms, \\d+ tokens$`),
    );
    const store = openStore(space);
    const completed = await waitFor(async () => {
      const runs = await store.runs.list('system_monitor', { status: 'completed' });
      return runs.length >= 2 ? runs : undefined;
    }, 'two completed runs in the store');
    expect(completed[0]?.output).toMatch(/^memory \d+(\.\d+)?% used$/);

    cli.child.kill('SIGTERM');
    expect(await cli.exited()).toBe(0);
    expect(cli.stdout).toContain('nightshift: stopped');
    // The server closed with the process.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(cli.stderr.join('\n')).not.toMatch(/\n\s+at /);
    expect(await store.runs.listUnfinished()).toEqual([]);
    const agent = await store.agents.get('system_monitor');
    expect(agent?.state).toBe('active');
    expect(agent?.stats.run_count).toBeGreaterThanOrEqual(2);
  });

  it('keeps running a file with no agent to run until it is told to stop', async () => {
    const space = workspace();
    const file = space.writeFile('nightshift.yaml', nightshiftFile(space, []));
    const cli = startCli(['run', file, '--no-server']);
    await cli.waitForLine(/^nightshift \S+: running /);
    // Still there once its store is open and its first sync has had time to come and go.
    const store = openStore(space);
    await waitFor(async () => (await store.agents.list()).length === 0, 'the store to open');
    expect(cli.child.exitCode).toBeNull();
    cli.child.kill('SIGTERM');
    expect(await cli.exited()).toBe(0);
    expect(cli.stdout).toContain('nightshift: stopped');
  });

  it('keeps counters, history and a pause made in between across a restart', async () => {
    const space = workspace();
    const file = space.writeFile(
      'nightshift.yaml',
      nightshiftFile(space, [
        scriptedAgent('monitor', { interval: 0.5 }),
        scriptedAgent('reporter', { interval: 0.5 }),
      ]),
    );
    // In this process: what is tested is the store across restarts, not how a process ends.
    const first = startInProcess(['run', file]);
    await first.waitForLine(/ reporter completed in /);
    const store = openStore(space);
    await waitFor(async () => {
      const monitor = await store.agents.get('monitor');
      return monitor && monitor.stats.run_count >= 2 ? monitor : undefined;
    }, 'two runs of monitor');
    first.stop();
    expect(await first.exited).toBe(0);
    const monitorBefore = await store.agents.get('monitor');
    const historyBefore = (await store.runs.list('monitor')).map((run) => run.run_id);
    const runCountBefore = monitorBefore?.stats.run_count ?? 0;

    // Paused through the API from another process, while no `run` is up.
    const pauser = new BackgroundAgentService(
      new MemoryRouter('database', { url: space.databaseUrl }),
      new EventRouter('database', { url: space.databaseUrl }),
    );
    await pauser.pauseAgent('reporter', { reason: 'paused for maintenance' });
    await pauser.shutdown();
    const reporterRunsBefore = (await store.agents.get('reporter'))?.stats.run_count;

    const second = startInProcess(['run', file]);
    await second.waitForLine(/^ {2}reporter: .*; paused \(paused for maintenance\), left paused$/);
    const summary = await second.waitForLine(/^ {2}monitor: /);
    expect(summary).toContain(`active, next run`);
    expect(summary).toContain(`${runCountBefore} runs so far`);
    const monitorAfter = await waitFor(async () => {
      const monitor = await store.agents.get('monitor');
      return monitor && monitor.stats.run_count >= runCountBefore + 2 ? monitor : undefined;
    }, 'two more runs of monitor after the restart');
    second.stop();
    expect(await second.exited).toBe(0);

    // The same agent record: counters went on from where they were, history was kept.
    expect(monitorAfter.created_at).toBe(monitorBefore?.created_at);
    const historyAfter = (await store.runs.list('monitor')).map((run) => run.run_id);
    expect(historyAfter).toEqual(expect.arrayContaining(historyBefore));
    expect(historyAfter.length).toBeGreaterThan(historyBefore.length);
    const reporter = await store.agents.get('reporter');
    expect(reporter?.state).toBe('paused');
    expect(reporter?.pause_reason).toBe('paused for maintenance');
    expect(reporter?.stats.run_count).toBe(reporterRunsBefore);
    expect(second.stdout.some((line) => / reporter run started/.test(line))).toBe(false);
    expect(await store.runs.listUnfinished()).toEqual([]);
  });
});
