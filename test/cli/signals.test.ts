import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type RunRecord, type Store } from '../../src/storage/index.js';
import {
  createWorkspace,
  killLeftoverProcesses,
  nightshiftFile,
  scriptedAgent,
  startCli,
  waitFor,
  type CliProcess,
  type StartCliOptions,
  type Workspace,
} from './cli-process.js';

/** What a graceful shutdown prints first; what a forced exit prints instead of waiting. */
const SHUTTING_DOWN = /^SIGINT: shutting down \(runs in flight get up to /;
const FORCED = 'SIGINT again: exiting without waiting for runs in flight';

/**
 * An agent whose one run starts at once and answers after `delay` seconds: a run surely in flight
 * when the signal comes. An hour's interval: no other run of it starts during a test.
 */
function slowAgent(delay: number): Record<string, unknown> {
  return scriptedAgent('slow', {
    model_config: { provider: 'scripted', script: [{ answer: 'finished in time', delay }] },
    tools: [],
    interval: 3600,
    run_immediately: true,
    task_config: { query: 'Take a moment.' },
  });
}

describe('nightshift run on SIGINT', () => {
  const workspaces: Workspace[] = [];
  const stores: Store[] = [];

  afterEach(async () => {
    killLeftoverProcesses();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const space of workspaces.splice(0)) space.remove();
  });

  /** Starts `nightshift run` on a file with {@link slowAgent}; resolves once its run is in flight. */
  async function startWithRunInFlight(
    delay: number,
    options: StartCliOptions = {},
  ): Promise<{ cli: CliProcess; store: Store; run: RunRecord }> {
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile('nightshift.yaml', nightshiftFile(space, [slowAgent(delay)]));
    // Wrappers start slowly (npm reads its configuration, tsx compiles): generous timeouts.
    const cli = startCli(['run', file], {}, options);
    await cli.waitForLine(/ slow run started \(attempt 1\)$/, 30_000);
    const store = createSqliteStore({ path: space.databasePath });
    stores.push(store);
    const run = await waitFor(
      async () => (await store.runs.list('slow', { status: 'running' }))[0],
      'the run in flight in the store',
      15_000,
    );
    return { cli, store, run };
  }

  it('takes a SIGINT right after the first as the same Ctrl-C forwarded by a wrapper: the run in flight finishes and the process exits 0', async () => {
    const { cli, store, run } = await startWithRunInFlight(3);
    cli.child.kill('SIGINT');
    // Once the first has been taken (two sent at once could merge into one before delivery), a
    // second one at once, as `npm run` or tsx forwarding the terminal's Ctrl-C sends it.
    await cli.waitForLine(SHUTTING_DOWN, 15_000);
    cli.child.kill('SIGINT');

    expect(await cli.exited(30_000)).toBe(0);
    expect(cli.stderr).not.toContain(FORCED);
    expect(cli.stdout).toContain('nightshift: stopped');
    const ended = await store.runs.get(run.run_id);
    expect(ended?.status).toBe('completed');
    expect(ended?.output).toBe('finished in time');
    expect(await store.runs.listUnfinished()).toEqual([]);
  });

  it('exits at once on a second SIGINT more than a second after the first, leaving the run to recovery', async () => {
    const { cli, store, run } = await startWithRunInFlight(60);
    cli.child.kill('SIGINT');
    await cli.waitForLine(SHUTTING_DOWN, 15_000);
    // The spacing is what is under test (the user pressing Ctrl-C again), not a synchronisation:
    // the first was taken before the line was printed, so the two are at least this far apart.
    await new Promise((resolveLater) => setTimeout(resolveLater, 1_500));
    cli.child.kill('SIGINT');

    expect(await cli.exited(15_000)).toBe(1);
    expect(cli.stderr).toContain(FORCED);
    expect(cli.stdout).not.toContain('nightshift: stopped');
    // Its lease runs out and recovery (the next `nightshift run` on the file) deals with it.
    expect((await store.runs.get(run.run_id))?.status).toBe('running');
  });

  // A terminal's Ctrl-C goes to the whole foreground process group: npm, its shell, tsx and the
  // CLI each get it, and npm and tsx forward theirs to their child. With bash running the script
  // in place (as macOS's /bin/sh does), npm's copy reaches tsx, which relays it to the CLI.
  it.each([
    { launcher: 'npm run', scriptShell: '/bin/bash' },
    { launcher: 'npm run', scriptShell: '/bin/sh' },
    { launcher: 'npx tsx', scriptShell: '/bin/bash' },
  ] as const)(
    'stops gracefully on Ctrl-C under $launcher (scripts run by $scriptShell): the run finishes, nothing is left running',
    async (options) => {
      const { cli, store, run } = await startWithRunInFlight(3, options);
      cli.signalGroup('SIGINT');

      // How the wrapper itself ends is the shell's and npm's affair (dash dies of the SIGINT it
      // got once its child has exited; bash exits with its child's code): the CLI exited 0.
      expect([0, 'SIGINT']).toContain(await cli.exited(30_000));
      expect(cli.stdout.filter((line) => SHUTTING_DOWN.test(line))).toHaveLength(1);
      expect(cli.stderr).not.toContain(FORCED);
      expect(cli.stdout).toContain('nightshift: stopped');
      const ended = await store.runs.get(run.run_id);
      expect(ended?.status).toBe('completed');
      expect(await store.runs.listUnfinished()).toEqual([]);
    },
  );
});
