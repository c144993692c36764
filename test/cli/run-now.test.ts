import { afterEach, describe, expect, it } from 'vitest';
import {
  createWorkspace,
  killLeftoverProcesses,
  nightshiftFile,
  scriptedAgent,
  startCli,
  type CliProcess,
  type Workspace,
} from './cli-process.js';
import { runInProcess } from './in-process.js';

/** The URL a started `serve` prints. */
async function servedUrl(server: CliProcess): Promise<string> {
  const line = await server.waitForLine(/^http: \S+ /, 15_000);
  return /^http: (\S+) /.exec(line)?.[1] ?? '';
}

describe('run now against nightshift serve on the local scheduler', () => {
  const workspaces: Workspace[] = [];

  afterEach(() => {
    killLeftoverProcesses();
    for (const space of workspaces.splice(0)) space.remove();
  });

  it('applies through serve to the process that runs agents, and says which process that is when asked to run one', async () => {
    const space = createWorkspace();
    workspaces.push(space);
    // An agent of its own keeps it running: with none, nothing holds its event loop open.
    const file = space.writeFile(
      'fleet.yaml',
      nightshiftFile(space, [scriptedAgent('keeper', { interval: 3600 })]),
    );
    // The process that runs agents; a short lease makes its safety-net sync frequent.
    const runner = startCli(['run', file, '--no-server', '--lease-ttl', '4']);
    await runner.waitForLine(/^nightshift \S+: running /, 15_000);
    const server = startCli(['serve', file, '--port', '0']);
    const url = await servedUrl(server);

    const agents = space.writeFile(
      'agents.yaml',
      nightshiftFile(space, [
        scriptedAgent('beat', { interval: 3600, run_immediately: true }),
        scriptedAgent('idle', { interval: 3600 }),
      ]),
    );
    const applied = await runInProcess(['agents', 'apply', agents, '--url', url]);
    expect(applied.stderr).toEqual([]);
    expect(applied.stdout).toEqual([
      'beat: created; started',
      'idle: created; started',
      'keeper: in the store, not in the file; active',
      `applied ${agents} to ${url}: 2 created, 0 updated, 0 unchanged`,
    ]);
    // The agent applied through serve runs in the other process.
    await runner.waitForLine(/ beat completed in \d+ ms/, 15_000);

    const refused = await runInProcess(['agents', 'run', 'beat', '--url', url]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toEqual([]);
    expect(refused.stderr).toEqual([
      `error: ${url} serves the store and runs no agents (nightshift serve on the local scheduler), so it cannot run beat now; agents run in a nightshift run process: beat last ran in pid ${runner.child.pid} on this machine, which is running. Ask that process instead (nightshift agents run beat --url <its API>; nightshift run serves one with a server block or --port), or schedule with BullMQ (scheduler: { kind: bullmq }) so that any server queues runs for the workers`,
    ]);
    const never = await runInProcess(['agents', 'run', 'idle', '--url', url, '--wait']);
    expect(never.code).toBe(1);
    expect(never.stderr[0]).toContain(
      'agents run in a nightshift run process: no run of idle is recorded yet to say which one.',
    );

    runner.child.kill('SIGTERM');
    expect(await runner.exited(15_000)).toBe(0);
    const gone = await runInProcess(['agents', 'run', 'beat', '--url', url]);
    expect(gone.stderr[0]).toContain(
      `beat last ran in pid ${runner.child.pid} on this machine, which has exited (start one with nightshift run <file>).`,
    );
    for (const output of [refused, never, gone]) {
      expect(output.stderr.join('\n')).not.toContain('startManager');
    }
    server.child.kill('SIGTERM');
    expect(await server.exited(15_000)).toBe(0);
  }, 60_000);
});
