import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type Store } from '../../src/storage/index.js';
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

/** Short leases, so a killed process's run is recovered within a second or two. */
const SHORT_LEASE = ['--lease-ttl', '1', '--shutdown-timeout', '0'];

/** An agent whose first model call takes 30 s: a run that is surely in flight when the process dies; restarted, not resumed. */
function slowAgent(agentId: string, maxRetries: number): Record<string, unknown> {
  return scriptedAgent(agentId, {
    model_config: { provider: 'scripted', script: [{ answer: 'finally', delay: 30 }] },
    tools: [],
    // `restart`: the behaviour these cases are about (a resume is test/cli/durable-resume.test.ts).
    task_config: {
      query: 'Take your time.',
      max_retries: maxRetries,
      retry_delay: 0,
      on_interrupt: 'restart',
    },
  });
}

describe('nightshift run after a killed process', () => {
  const workspaces: Workspace[] = [];
  const stores: Store[] = [];

  afterEach(async () => {
    killLeftoverProcesses();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const space of workspaces.splice(0)) space.remove();
  });

  // One killed process serves both cases (a run without retries left, one with a retry left):
  // starting and killing a process is the slow part.
  it('ends a dead process run interrupted without retries left, and retries it with one', async () => {
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile(
      'nightshift.yaml',
      nightshiftFile(space, [slowAgent('spent', 0), slowAgent('hopeful', 1)]),
    );
    const doomed = startCli(['run', file, ...SHORT_LEASE]);
    await doomed.waitForLine(/ spent run started \(attempt 1\)$/);
    await doomed.waitForLine(/ hopeful run started \(attempt 1\)$/);
    const store = createSqliteStore({ path: space.databasePath });
    stores.push(store);
    const running = async (agentId: string) =>
      waitFor(
        async () => (await store.runs.list(agentId, { status: 'running' }))[0],
        `a running run of ${agentId} in the store`,
      );
    const spent = await running('spent');
    const hopeful = await running('hopeful');
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited()).toBe('SIGKILL');
    expect((await store.runs.get(spent.run_id))?.status).toBe('running');
    expect((await store.runs.get(hopeful.run_id))?.status).toBe('running');

    // The restarted process runs the file as it is now: the retry no longer waits 30 s.
    space.writeFile(
      'nightshift.yaml',
      nightshiftFile(space, [
        slowAgent('spent', 0),
        {
          ...slowAgent('hopeful', 1),
          model_config: { provider: 'scripted', script: [{ answer: 'done on retry' }] },
        },
      ]),
    );
    // The dead process must be real; the one that recovers its runs need not be.
    const revived = startInProcess(['run', file, ...SHORT_LEASE]);
    const ended = async (runId: string) =>
      waitFor(async () => {
        const record = await store.runs.get(runId);
        return record && record.status !== 'running' ? record : undefined;
      }, `run ${runId} to end`);

    const interrupted = await ended(spent.run_id);
    expect(interrupted.status).toBe('interrupted');
    expect(interrupted.error?.code).toBe('interrupted');
    expect(interrupted.attempts.map((attempt) => attempt.status)).toEqual(['interrupted']);
    expect(interrupted.ended_at).not.toBeNull();
    await revived.waitForLine(/ spent interrupted \(the process running it stopped/);

    const retried = await ended(hopeful.run_id);
    expect(retried.status).toBe('completed');
    expect(retried.output).toBe('done on retry');
    expect(retried.attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
      [1, 'interrupted'],
      [2, 'completed'],
    ]);
    await revived.waitForLine(/ hopeful run started \(attempt 2\)$/);

    revived.stop();
    expect(await revived.exited).toBe(0);
    expect(await store.runs.listUnfinished()).toEqual([]);
    expect((await store.agents.get('spent'))?.stats.error_count).toBeGreaterThanOrEqual(1);
  });

  it.runIf(process.platform === 'linux')(
    'takes over the run of a process killed on this machine at once, not a 30 s lease later',
    async () => {
      const space = createWorkspace();
      workspaces.push(space);
      const agent = (script: unknown[]) =>
        scriptedAgent('sudden', {
          model_config: { provider: 'scripted', script },
          tools: [],
          interval: 3600,
          run_immediately: true,
          task_config: { query: 'Take your time.', max_retries: 0 },
        });
      const file = space.writeFile(
        'nightshift.yaml',
        nightshiftFile(space, [agent([{ answer: 'finally', delay: 60 }])]),
      );
      // The default lease: 30 s.
      const doomed = startCli(['run', file, '--shutdown-timeout', '0']);
      await doomed.waitForLine(/ sudden run started \(attempt 1\)$/, 20_000);
      const store = createSqliteStore({ path: space.databasePath });
      stores.push(store);
      const running = await waitFor(
        async () => (await store.runs.list('sudden', { status: 'running' }))[0],
        'the run in flight in the store',
      );
      doomed.child.kill('SIGKILL');
      expect(await doomed.exited()).toBe('SIGKILL');
      const killedAt = Date.now();

      space.writeFile('nightshift.yaml', nightshiftFile(space, [agent([{ answer: 'resumed' }])]));
      const revived = startCli(['run', file, '--shutdown-timeout', '0']);
      const done = await waitFor(
        async () => {
          const record = await store.runs.get(running.run_id);
          return record?.status === 'completed' ? record : undefined;
        },
        'the killed run to be resumed and completed',
        20_000,
      );
      // Well before the dead process's leases (the run's and the agent's overlap lease) ran out.
      expect(Date.now()).toBeLessThan(Date.parse(running.lease_expires_at!));
      expect(Date.now() - killedAt).toBeLessThan(20_000);
      expect(done.output).toBe('resumed');
      expect(done.attempts.map((attempt) => attempt.status)).toEqual(['interrupted', 'completed']);
      await revived.waitForLine(
        / sudden resumed \(attempt 2 from the start: 0 model calls from the journal\)$/,
      );
      revived.child.kill('SIGTERM');
      expect(await revived.exited(15_000)).toBe(0);
    },
  );
});
