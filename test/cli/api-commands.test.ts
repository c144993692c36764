import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import { EventRouter, MemoryRouter, type NightshiftEvent } from '../../src/storage/index.js';
import { createWorkspace, scriptedAgent, waitFor, type Workspace } from './cli-process.js';
import { runInProcess, startInProcess } from './in-process.js';

const INSTANT = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;
const TOKEN = 'api-token-3c9d51e7';

/** A port nothing listens on: one that was free a moment ago. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Parses the lines of `--json` events output. */
function parseEvents(lines: readonly string[]): NightshiftEvent[] {
  return lines.map((line) => JSON.parse(line) as NightshiftEvent);
}

describe('the CLI over the HTTP API', () => {
  let space: Workspace;
  let service: BackgroundAgentService;
  let server: RunningServer;
  let guarded: RunningServer;
  let url: string;

  /** The CLI in this process, against the open server. */
  const cli = (argv: string[], env: Record<string, string> = {}) =>
    runInProcess([...argv, '--url', url], env);

  beforeAll(async () => {
    space = createWorkspace();
    service = new BackgroundAgentService(
      new MemoryRouter('database', { url: space.databaseUrl }),
      new EventRouter('database', { url: space.databaseUrl }),
      { env: {} },
    );
    await service.startManager();
    await service.createFromUntyped(scriptedAgent('monitor', { interval: 3600 }));
    await service.createFromUntyped(
      scriptedAgent('flaky', {
        interval: 3600,
        model_config: { provider: 'scripted', script: [{ fail: 'upstream said no' }] },
        tools: [],
      }),
    );
    await service.startAgent('monitor');
    await service.startAgent('flaky');
    server = await startServer(service, { port: 0, token: '' });
    guarded = await startServer(service, { port: 0, token: TOKEN });
    url = server.url;
  });

  afterAll(async () => {
    await server.close();
    await guarded.close();
    await service.shutdown();
    space.remove();
  });

  it('lists agents and shows one agent, with --url or NIGHTSHIFT_URL', async () => {
    const list = await cli(['agents']);
    expect(list.stderr).toEqual([]);
    expect(list.code).toBe(0);
    expect(list.stdout[0]?.split(/\s{2,}/)[0]).toBe('AGENT');
    expect(list.stdout.slice(1).map((row) => row.split(/\s+/).slice(0, 2))).toEqual([
      ['flaky', 'active'],
      ['monitor', 'active'],
    ]);
    const fromEnvironment = await runInProcess(['agents', 'list', '--json'], {
      NIGHTSHIFT_URL: url,
    });
    const agents = JSON.parse(fromEnvironment.stdout.join('\n')) as { agent_id: string }[];
    expect(agents.map((agent) => agent.agent_id)).toEqual(['flaky', 'monitor']);

    const status = await cli(['agents', 'status', 'monitor']);
    expect(status.code).toBe(0);
    expect(status.stdout).toEqual(
      expect.arrayContaining([
        'agent              monitor',
        'state              active',
        'schedule           every 1 h',
        expect.stringMatching(new RegExp(`^next run +${INSTANT}$`)),
      ]),
    );
  });

  it('pauses, resumes and stops an agent; the change is in the store', async () => {
    const paused = await cli(['agents', 'pause', 'monitor', '--reason', 'maintenance']);
    expect(paused).toMatchObject({ code: 0, stdout: ['monitor: paused (maintenance)'] });
    const status = await cli(['agents', 'status', 'monitor']);
    expect(status.stdout).toContain('state              paused (maintenance)');
    expect((await service.getAgentStatus('monitor')).state).toBe('paused');

    const resumed = await cli(['agents', 'resume', 'monitor']);
    expect(resumed).toMatchObject({ code: 0, stdout: ['monitor: active'] });

    const stopped = await cli(['agents', 'stop', 'flaky', '--json']);
    expect(JSON.parse(stopped.stdout.join('\n'))).toMatchObject({
      agent_id: 'flaky',
      state: 'stopped',
    });
    const refused = await cli(['agents', 'pause', 'flaky']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toEqual([
      'error: agent "flaky" is stopped; only an active agent can be paused',
    ]);
  });

  it('runs an agent now, waits for its answer, and exits 1 when the run fails', async () => {
    const ran = await cli(['agents', 'run', 'monitor', '--wait']);
    expect(ran.stderr).toEqual([]);
    expect(ran.code).toBe(0);
    expect(ran.stdout[0]).toMatch(/^monitor\.manual-\S+: completed in \d+ ms, \d+ tokens$/);
    expect(ran.stdout.slice(1)).toEqual([
      'output:',
      expect.stringMatching(/^ {2}memory \d+(\.\d+)?% used$/),
    ]);
    const runId = ran.stdout[0]?.split(':')[0] ?? '';
    expect((await service.getRun(runId)).status).toBe('completed');

    const asked = await cli(['agents', 'run', 'monitor', '--wait', '--query', 'Only memory.']);
    expect(asked.code).toBe(0);
    const [latest] = await service.listRuns('monitor', { limit: 1 });
    expect(latest?.trigger).toBe('manual');

    const failed = await cli(['agents', 'run', 'flaky', '--wait']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toEqual([
      expect.stringMatching(
        /^flaky\.manual-\S+: failed \(model_error: upstream said no\) after \d+ ms$/,
      ),
    ]);

    const runs = await cli(['runs', 'monitor']);
    expect(runs.code).toBe(0);
    expect(runs.stdout.slice(1)).toEqual([
      expect.stringMatching(/^monitor\.manual-\S+ +manual +\S+Z +completed +\d+ ms +\d+$/),
      expect.stringMatching(new RegExp(`^${runId.replace(/\./g, '\\.')} +manual `)),
    ]);
  });

  it('prints what the server refused, and what cannot be asked of it', async () => {
    const closed = await closedPort();
    const [status, runs, both, storeRun, unreachable, badUrl] = await Promise.all([
      cli(['agents', 'status', 'ghost']),
      cli(['runs', 'ghost']),
      cli(['agents', '--memory', space.databaseUrl]),
      runInProcess(['agents', 'run', 'monitor']),
      runInProcess(['agents', '--url', `http://127.0.0.1:${closed}`]),
      runInProcess(['agents', '--url', 'ftp://example.com']),
    ]);
    expect(status.code).toBe(1);
    expect(status.stderr).toEqual([expect.stringMatching(/^error: .*"ghost"/)]);
    expect(runs.stderr).toEqual([
      `error: no agent named "ghost" in ${url} (agents: flaky, monitor)`,
    ]);
    expect(both.stderr).toEqual(['error: use either --url or --memory / --file, not both']);
    expect(storeRun.stderr).toEqual([
      'error: agents run asks a running Nightshift to run the agent: pass --url of its HTTP API (or set NIGHTSHIFT_URL)',
    ]);
    expect(unreachable.stderr).toEqual([
      `error: cannot reach the Nightshift server at http://127.0.0.1:${closed} (ECONNREFUSED)`,
    ]);
    expect(badUrl.stderr).toEqual(['error: --url: must be an http:// or https:// URL']);
  });

  it('sends the token a server requires, and says so when it is missing or wrong', async () => {
    const guardedUrl = guarded.url;
    const missing = await runInProcess(['agents', '--url', guardedUrl]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toEqual([
      `error: the server at ${guardedUrl} requires a token: pass --token or set NIGHTSHIFT_TOKEN`,
    ]);
    const wrong = await runInProcess(['agents', '--url', guardedUrl, '--token', 'not-the-token']);
    expect(wrong.stderr).toEqual([
      `error: the server at ${guardedUrl} did not accept the token (the bearer token is not valid); check --token or NIGHTSHIFT_TOKEN`,
    ]);
    const withFlag = await runInProcess(['agents', '--url', guardedUrl, '--token', TOKEN]);
    expect(withFlag.code).toBe(0);
    const withEnvironment = await runInProcess(['agents', 'status', 'monitor', '--json'], {
      NIGHTSHIFT_URL: guardedUrl,
      NIGHTSHIFT_TOKEN: TOKEN,
    });
    expect(withEnvironment.code).toBe(0);
    const events = await runInProcess(['events', 'monitor', '--url', guardedUrl]);
    expect(events.stderr[0]).toContain('requires a token');
    for (const output of [missing, wrong, withFlag, withEnvironment, events]) {
      expect([...output.stdout, ...output.stderr].join('\n')).not.toContain(TOKEN);
    }
  });

  it('prints the stored events and exits, from the start or after --since', async () => {
    const stored = await service.readEvents({ agent_id: 'monitor' });
    expect(stored.length).toBeGreaterThan(10);
    const history = await cli(['events', 'monitor', '--json']);
    expect(history.code).toBe(0);
    expect(parseEvents(history.stdout).map((event) => event.id)).toEqual(
      stored.map((event) => event.id),
    );

    const after = stored[4]?.id ?? '';
    const rest = await cli(['events', 'monitor', '--since', after]);
    expect(rest.stdout.map((line) => line.split('  ')[0])).toEqual(
      stored.slice(5).map((event) => event.id),
    );
    expect(rest.stdout).toContainEqual(
      expect.stringMatching(
        new RegExp(`^\\d+  ${INSTANT} monitor run started \\(attempt 1, manual\\)$`),
      ),
    );
    expect(rest.stdout).toContainEqual(
      expect.stringMatching(
        new RegExp(`^\\d+  ${INSTANT} monitor tool_call_result system_stats → \\{`),
      ),
    );
  });

  it('follows live events and resumes after the server restarts, losing and repeating none', async () => {
    const follower = startInProcess(['events', 'monitor', '--follow', '--json', '--url', url]);
    const storedBefore = await service.readEvents({ agent_id: 'monitor' });
    await waitFor(
      () => (follower.stdout.length >= storedBefore.length ? true : undefined),
      'the history',
    );

    // A live event, while connected.
    const live = await service.runNow('monitor', { wait: true });
    await waitFor(
      () =>
        parseEvents(follower.stdout).some(
          (event) => event.run_id === live.run_id && event.type === 'background_task_completed',
        ) || undefined,
      'the live run to be printed',
    );

    // The connection drops: the server goes away, events happen meanwhile, it comes back.
    const port = server.port;
    await server.close();
    const missed = await service.runNow('monitor', { wait: true });
    server = await startServer(service, { port, token: '' });
    await waitFor(
      () =>
        parseEvents(follower.stdout).some(
          (event) => event.run_id === missed.run_id && event.type === 'background_task_completed',
        ) || undefined,
      'the run that happened while the server was down',
    );
    follower.stop('SIGINT');
    expect(await follower.exited).toBe(0);
    expect(follower.stderr).toContainEqual(expect.stringMatching(/^warning: event stream lost/));
    const printed = parseEvents(follower.stdout).map((event) => event.id);
    const stored = (await service.readEvents({ agent_id: 'monitor' })).map((event) => event.id);
    expect(printed).toEqual(stored);
  });
});
