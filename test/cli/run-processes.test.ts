import { afterEach, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/service/index.js';
import { createSqliteStore, type RunRecord, type Store } from '../../src/storage/index.js';
import {
  createWorkspace,
  killLeftoverProcesses,
  nightshiftFile,
  scriptedAgent,
  startCli,
  waitFor,
  type Workspace,
} from './cli-process.js';
import { runInProcess } from './in-process.js';

/** Four agents, two in each share of 2 (checked below): both managers have work. */
const AGENTS = ['alpha', 'beta', 'gamma', 'delta'];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('nightshift run --processes', () => {
  const workspaces: Workspace[] = [];
  const stores: Store[] = [];

  afterEach(async () => {
    killLeftoverProcesses();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const space of workspaces.splice(0)) space.remove();
  });

  it('runs the agents in 2 managers, each tick once, each agent by one; SIGINT stops them all and exits 0', async () => {
    expect(new Set(AGENTS.map((id) => partitionOf(id, 2)))).toEqual(new Set([0, 1]));
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile(
      'nightshift.yaml',
      nightshiftFile(
        space,
        AGENTS.map((id) => scriptedAgent(id)),
      ),
    );
    const cli = startCli(['run', file, '--processes', '2']);
    // Three processes compile and start on a shared machine: generous timeouts.
    const running = await cli.waitForLine(/^nightshift: 2 managers running \(pids /, 60_000);
    const pids = /pids (\d+), (\d+)\)/.exec(running)!.slice(1).map(Number);
    expect(cli.stdout.some((line) => /^\[0\] manager 0 of 2 running /.test(line))).toBe(true);
    expect(cli.stdout.some((line) => /^\[1\] manager 1 of 2 running /.test(line))).toBe(true);

    const store = createSqliteStore({ path: space.databasePath });
    stores.push(store);
    const completed = async (id: string) =>
      (await store.runs.list(id, { limit: 100 })).filter((run) => run.status === 'completed');
    await waitFor(
      async () => {
        for (const id of AGENTS) if ((await completed(id)).length < 2) return undefined;
        return true;
      },
      'two completed runs of every agent',
      30_000,
    );
    // The run lines of today, tagged with the manager whose share holds the agent.
    for (const id of AGENTS) {
      const tag = `[${partitionOf(id, 2)}] `;
      await cli.waitForLine(new RegExp(`^\\[\\d\\] \\S+ ${id} completed in \\d+ ms`), 10_000);
      expect(
        cli.stdout
          .filter((line) => line.includes(` ${id} completed in `))
          .every((line) => line.startsWith(tag)),
      ).toBe(true);
    }

    // Only the parent is signalled: it passes the signal on and waits for both.
    cli.child.kill('SIGINT');
    expect(await cli.exited(40_000)).toBe(0);
    expect(cli.stdout).toContain('[0] stopped');
    expect(cli.stdout).toContain('[1] stopped');
    expect(cli.stdout.at(-1)).toBe('nightshift: stopped');
    for (const pid of pids) expect(isAlive(pid)).toBe(false);

    const runs: RunRecord[] = [];
    for (const id of AGENTS) runs.push(...(await store.runs.list(id, { limit: 1000 })));
    expect(await store.runs.listUnfinished()).toEqual([]);
    // Each tick ran once: one run per agent and scheduled instant.
    const ticks = runs.map((run) => `${run.agent_id} ${run.scheduled_at}`);
    expect(new Set(ticks).size).toBe(ticks.length);
    // Each agent's runs were all by one manager, and both managers ran agents.
    const workerOf = new Map<string, Set<string | undefined>>();
    for (const run of runs) {
      const workers = workerOf.get(run.agent_id) ?? new Set();
      for (const attempt of run.attempts) workers.add(attempt.worker_id);
      workerOf.set(run.agent_id, workers);
    }
    for (const id of AGENTS) expect(workerOf.get(id)?.size).toBe(1);
    const byPartition = new Map<number, string>();
    for (const id of AGENTS) {
      const worker = [...workerOf.get(id)!][0]!;
      const partition = partitionOf(id, 2);
      expect(byPartition.get(partition) ?? worker).toBe(worker);
      byPartition.set(partition, worker);
    }
    expect(new Set(byPartition.values()).size).toBe(2);
  }, 150_000);

  it("stops on a terminal's Ctrl-C under 'npx tsx': every process gets it once, all stop gracefully", async () => {
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile(
      'nightshift.yaml',
      nightshiftFile(
        space,
        AGENTS.map((id) => scriptedAgent(id)),
      ),
    );
    const cli = startCli(['run', file, '--processes', '2'], {}, { launcher: 'npx tsx' });
    const running = await cli.waitForLine(/^nightshift: 2 managers running \(pids /, 60_000);
    const pids = /pids (\d+), (\d+)\)/.exec(running)!.slice(1).map(Number);
    await cli.waitForLine(/^\[1\] \S+ \S+ completed in \d+ ms/, 20_000);
    await cli.waitForLine(/^\[0\] \S+ \S+ completed in \d+ ms/, 20_000);

    cli.signalGroup('SIGINT');
    // How the wrapper itself ends is npm's affair (see signals.test.ts): the CLI stopped cleanly.
    expect([0, 'SIGINT']).toContain(await cli.exited(40_000));
    expect(cli.stdout.filter((line) => /^SIGINT: shutting down/.test(line))).toHaveLength(1);
    expect(cli.stdout.filter((line) => /^\[\d\] SIGINT: shutting down$/.test(line))).toHaveLength(
      2,
    );
    expect(cli.stdout).toContain('[0] stopped');
    expect(cli.stdout).toContain('[1] stopped');
    expect(cli.stdout.at(-1)).toBe('nightshift: stopped');
    expect(cli.stderr.join('\n')).not.toContain('exiting without waiting');
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  }, 150_000);

  it('reports a manager that dies and goes on with the others; it restarts none', async () => {
    const [mine, theirs] = [0, 1].map((index) =>
      AGENTS.find((id) => partitionOf(id, 2) === index)!,
    );
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile(
      'nightshift.yaml',
      nightshiftFile(space, [scriptedAgent(mine!), scriptedAgent(theirs!)]),
    );
    const cli = startCli(['run', file, '--processes', '2']);
    const running = await cli.waitForLine(/^nightshift: 2 managers running \(pids /, 60_000);
    const pids = /pids (\d+), (\d+)\)/.exec(running)!.slice(1).map(Number);
    const store = createSqliteStore({ path: space.databasePath });
    stores.push(store);
    const completed = async (id: string) =>
      (await store.runs.list(id, { limit: 100 })).filter((run) => run.status === 'completed')
        .length;
    await waitFor(
      async () => ((await completed(mine!)) > 0 && (await completed(theirs!)) > 0) || undefined,
      'a completed run of each agent',
      30_000,
    );

    process.kill(pids[1]!, 'SIGKILL');
    await waitFor(
      () => cli.stderr.find((line) => line.startsWith('warning: manager 1 ended (SIGKILL)')),
      'the parent reporting the dead manager',
      15_000,
    );
    const before = await completed(mine!);
    await waitFor(
      async () => (await completed(mine!)) > before || undefined,
      'manager 0 going on',
      15_000,
    );
    expect(isAlive(pids[0]!)).toBe(true);

    cli.child.kill('SIGINT');
    expect(await cli.exited(40_000)).toBe(0);
    expect(cli.stdout).toContain('[0] stopped');
    expect(isAlive(pids[0]!)).toBe(false);
  }, 150_000);

  it.each(['0', '1.5', '65', 'two', '-1'])(
    'refuses --processes %s, naming the option',
    async (value) => {
      const space = createWorkspace();
      workspaces.push(space);
      const file = space.writeFile('nightshift.yaml', nightshiftFile(space, [scriptedAgent('a')]));
      const result = await runInProcess(['run', file, '--processes', value]);
      expect(result.code).not.toBe(0);
      expect(result.stderr.join('\n')).toContain('--processes');
    },
  );

  it('refuses --processes 2 on an in-memory store, naming the backend', async () => {
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile('nightshift.yaml', {
      memory: { backend: 'in_memory' },
      events: { backend: 'in_memory' },
      agents: [scriptedAgent('a')],
    });
    const result = await runInProcess(['run', file, '--processes', '2']);
    expect(result.code).not.toBe(0);
    const text = result.stderr.join('\n');
    expect(text).toContain('memory.backend');
    expect(text).toContain('--processes 2');
  });
});
