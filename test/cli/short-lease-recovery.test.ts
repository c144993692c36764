import Database from 'better-sqlite3';
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
  type Workspace,
} from './cli-process.js';

/**
 * The agent of the offline example as far as recovery cares: its first run starts at once
 * (`run_immediately`), so a process restarted before that run was recorded fires the same tick,
 * the same run id, as the run it recovers. An hour's interval: no other tick during a test.
 */
function recoverableAgent(script: unknown[]): Record<string, unknown> {
  return scriptedAgent('slow', {
    model_config: { provider: 'scripted', script },
    tools: [],
    interval: 3600,
    run_immediately: true,
    task_config: { query: 'Take your time.', max_retries: 1, retry_delay: 0 },
  });
}

/** The run and its agent's overlap lease, as one read of the SQLite file sees them. */
interface Snapshot {
  status: string;
  leaseOwner: string | null;
  holder: string | null;
  token: number | undefined;
}

describe('nightshift run recovering a killed process with a short lease', () => {
  const workspaces: Workspace[] = [];
  const stores: Store[] = [];
  const databases: Database.Database[] = [];

  afterEach(async () => {
    killLeftoverProcesses();
    for (const database of databases.splice(0)) database.close();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const space of workspaces.splice(0)) space.remove();
  });

  /**
   * Starts `nightshift run` with `--lease-ttl <ttl>` on a file whose agent's first run takes a
   * minute, waits for that run to be in flight and kills the process (`kill -9`).
   */
  async function killMidRun(ttl: number): Promise<{
    space: Workspace;
    file: string;
    store: Store;
    killed: RunRecord;
  }> {
    const space = createWorkspace();
    workspaces.push(space);
    const file = space.writeFile(
      'nightshift.yaml',
      nightshiftFile(space, [recoverableAgent([{ answer: 'finally', delay: 60 }])]),
    );
    const doomed = startCli(['run', file, '--lease-ttl', String(ttl), '--shutdown-timeout', '0']);
    await doomed.waitForLine(/ slow run started \(attempt 1\)$/, 20_000);
    const store = createSqliteStore({ path: space.databasePath });
    stores.push(store);
    const running = await waitFor(
      async () => (await store.runs.list('slow', { status: 'running' }))[0],
      'the run in flight in the store',
      15_000,
    );
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited()).toBe('SIGKILL');
    const killed = await store.runs.get(running.run_id);
    expect(killed?.status).toBe('running');
    return { space, file, store, killed: killed! };
  }

  /** Restarts `nightshift run` on the file, the retry now answering after `delay` seconds. */
  function restart(space: Workspace, file: string, ttl: number, delay: number): CliProcess {
    space.writeFile(
      'nightshift.yaml',
      nightshiftFile(space, [recoverableAgent([{ answer: 'done on retry', delay }])]),
    );
    return startCli(['run', file, '--lease-ttl', String(ttl), '--shutdown-timeout', '0']);
  }

  function openReadOnly(space: Workspace): Database.Database {
    const database = new Database(space.databasePath, { readonly: true });
    databases.push(database);
    return database;
  }

  async function ended(store: Store, runId: string, timeoutMs: number): Promise<RunRecord> {
    return waitFor(
      async () => {
        const record = await store.runs.get(runId);
        return record && record.status !== 'running' ? record : undefined;
      },
      `run ${runId} to end`,
      timeoutMs,
    );
  }

  // 2 and 5 seconds: the lease and its renewal (a third of it) both shorter than the retry.
  it.each([2, 5])(
    'retries the run once the dead process’s leases ran out (--lease-ttl %i): the retry holds the overlap lease, under one token, until it completes',
    async (ttl) => {
      const { space, file, store, killed } = await killMidRun(ttl);
      const database = openReadOnly(space);
      const readLease = database.prepare<[string], { holder: string | null; token: number }>(
        'SELECT holder, token FROM leases WHERE key = ?',
      );
      const deadOverlap = database
        .prepare<[string], { expires_at: number }>('SELECT expires_at FROM leases WHERE key = ?')
        .get('overlap:slow');
      // Restart once both of the dead process's leases have run out, as in the report.
      const runOut = Math.max(Date.parse(killed.lease_expires_at!), deadOverlap?.expires_at ?? 0);
      await waitFor(
        () => (Date.now() > runOut ? true : undefined),
        'the dead process’s leases to run out',
        ttl * 1000 + 10_000,
      );
      const revived = restart(space, file, ttl, ttl);

      // From the moment the retry has started (it took the overlap lease first) until the run
      // ends, the lease must name that retry, and no other acquisition may come between (a new
      // token would say so): another run of the agent could have started in such a gap.
      const readRun = database.prepare<[string], { status: string; lease_owner: string | null }>(
        'SELECT status, lease_owner FROM runs WHERE run_id = ?',
      );
      const snapshot = database.transaction((): Snapshot => {
        const run = readRun.get(killed.run_id);
        const lease = readLease.get('overlap:slow');
        return {
          status: run?.status ?? 'missing',
          leaseOwner: run?.lease_owner ?? null,
          holder: lease?.holder ?? null,
          token: lease?.token,
        };
      });
      const retryStarted = () =>
        revived.stdout.some((line) => / slow run started \(attempt 2\)$/.test(line));
      const samples: Snapshot[] = [];
      await waitFor(
        () => {
          if (!retryStarted()) return undefined;
          const now = snapshot();
          if (now.status !== 'running') return true;
          samples.push(now);
          return undefined;
        },
        'the retry to start and end',
        ttl * 1000 + 30_000,
      );
      const first = samples[0];
      expect(first, 'no look at the lease while the retry ran').toBeDefined();
      expect(first?.holder).toBe(`${first?.leaseOwner}/${killed.run_id}`);
      expect(
        samples.filter((sample) => sample.holder !== first?.holder || sample.token !== first.token),
      ).toEqual([]);

      const retried = await ended(store, killed.run_id, 5_000);
      expect(retried.status).toBe('completed');
      expect(retried.output).toBe('done on retry');
      expect(retried.attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
        [1, 'interrupted'],
        [2, 'completed'],
      ]);
      await revived.waitForLine(/ slow run started \(attempt 2\)$/);
      await revived.waitForLine(/ slow completed in \d+ ms/);
      expect(revived.stdout.join('\n')).not.toMatch(/overlap lease/);

      revived.child.kill('SIGTERM');
      expect(await revived.exited(15_000)).toBe(0);
      expect(await store.runs.listUnfinished()).toEqual([]);
    },
  );

  it('keeps a recovered run’s lease while it waits for the overlap lease another run holds: it is not recovered again, and goes on once the lease is free', async () => {
    const ttl = 2;
    const { space, file, store, killed } = await killMidRun(ttl);
    // Another run of the agent (another process's, say) takes the overlap lease once the dead
    // process's has run out, and holds it for longer than several lease TTLs.
    const other = await waitFor(
      () => store.leases.acquire('overlap:slow', 'another-process/another-run', 120_000),
      'the overlap lease for another run',
      ttl * 1000 + 10_000,
    );
    const revived = restart(space, file, ttl, 0);

    const taken = await waitFor(
      async () => {
        const record = await store.runs.get(killed.run_id);
        return record?.lease_owner && record.lease_owner !== killed.lease_owner
          ? { record, at: Date.now() }
          : undefined;
      },
      'the restarted process to take the run over',
      ttl * 1000 + 20_000,
    );
    // Renewed while it waits, well past the instant its lease would have run out: recovery
    // (here, every half TTL) has looked at it meanwhile and left it alone.
    await waitFor(
      async () => {
        const record = await store.runs.get(killed.run_id);
        if (record?.status !== 'running' || record.lease_owner !== taken.record.lease_owner)
          throw new Error(`the waiting run was taken from its process: ${JSON.stringify(record)}`);
        return Date.parse(record.lease_expires_at!) > taken.at + 3 * ttl * 1000 ? true : undefined;
      },
      'the waiting run’s lease to be renewed for three TTLs',
      ttl * 5_000 + 20_000,
    );
    const waiting = await store.runs.get(killed.run_id);
    expect(waiting?.attempts.map((attempt) => attempt.status)).toEqual(['interrupted']);

    expect(await store.leases.release(other.key, other.holder, other.token)).toBe(true);
    const retried = await ended(store, killed.run_id, ttl * 1000 + 20_000);
    expect(retried.status).toBe('completed');
    expect(retried.output).toBe('done on retry');
    expect(retried.attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
      [1, 'interrupted'],
      [2, 'completed'],
    ]);

    revived.child.kill('SIGTERM');
    expect(await revived.exited(15_000)).toBe(0);
    expect(await store.runs.listUnfinished()).toEqual([]);
  });
});
