import { afterEach, describe, expect, it } from 'vitest';
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

/** Short leases, so a killed process's run is recovered within a second or two. */
const SHORT_LEASE = ['--lease-ttl', '1', '--shutdown-timeout', '0'];

/** An agent whose first model call takes 30 s: a run that is surely in flight when the process dies. */
function slowAgent(maxRetries: number): Record<string, unknown> {
  return scriptedAgent('slow', {
    model_config: { provider: 'scripted', script: [{ answer: 'finally', delay: 30 }] },
    tools: [],
    task_config: { query: 'Take your time.', max_retries: maxRetries, retry_delay: 0 },
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

  /** Starts `run`, waits for a run in flight, and kills the process with SIGKILL. */
  async function killMidRun(
    space: Workspace,
    file: string,
  ): Promise<{ store: Store; run: RunRecord }> {
    const doomed = startCli(['run', file, ...SHORT_LEASE]);
    await doomed.waitForLine(/ slow run started \(attempt 1\)$/);
    const store = createSqliteStore({ path: space.databasePath });
    stores.push(store);
    const run = await waitFor(
      async () => (await store.runs.list('slow', { status: 'running' }))[0],
      'a running run in the store',
    );
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited()).toBe('SIGKILL');
    expect((await store.runs.get(run.run_id))?.status).toBe('running');
    return { store, run };
  }

  it('ends the dead process run interrupted when it has no retries left', async () => {
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile('nightshift.yaml', nightshiftFile(space, [slowAgent(0)]));
    const { store, run } = await killMidRun(space, file);

    const revived = startCli(['run', file, ...SHORT_LEASE]);
    const ended = await waitFor(async () => {
      const record = await store.runs.get(run.run_id);
      return record && record.status !== 'running' ? record : undefined;
    }, 'the orphaned run to end');
    expect(ended.status).toBe('interrupted');
    expect(ended.error?.code).toBe('interrupted');
    expect(ended.attempts.map((attempt) => attempt.status)).toEqual(['interrupted']);
    expect(ended.ended_at).not.toBeNull();
    await revived.waitForLine(/ slow interrupted \(the process running it stopped/);

    revived.child.kill('SIGTERM');
    expect(await revived.exited()).toBe(0);
    expect(await store.runs.listUnfinished()).toEqual([]);
    const agent = await store.agents.get('slow');
    expect(agent?.stats.error_count).toBeGreaterThanOrEqual(1);
  });

  it('retries the dead process run when it has a retry left', async () => {
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile('nightshift.yaml', nightshiftFile(space, [slowAgent(1)]));
    const { store, run } = await killMidRun(space, file);

    // The restarted process runs the file as it is now: the retry no longer waits 30 s.
    space.writeFile(
      'nightshift.yaml',
      nightshiftFile(space, [
        {
          ...slowAgent(1),
          model_config: { provider: 'scripted', script: [{ answer: 'done on retry' }] },
        },
      ]),
    );
    const revived = startCli(['run', file, ...SHORT_LEASE]);
    const ended = await waitFor(async () => {
      const record = await store.runs.get(run.run_id);
      return record && record.status !== 'running' ? record : undefined;
    }, 'the orphaned run to end');
    expect(ended.status).toBe('completed');
    expect(ended.output).toBe('done on retry');
    expect(ended.attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
      [1, 'interrupted'],
      [2, 'completed'],
    ]);
    await revived.waitForLine(/ slow run started \(attempt 2\)$/);

    revived.child.kill('SIGTERM');
    expect(await revived.exited()).toBe(0);
    expect(await store.runs.listUnfinished()).toEqual([]);
  });
});
