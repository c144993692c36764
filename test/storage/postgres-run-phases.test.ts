import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/index.js';
import { createPostgresStore } from '../../src/storage/postgres/index.js';
import {
  agentRecord,
  completedRunStats,
  ENDED_RUN,
  minute,
  runRecord,
} from './contracts/fixtures.js';
import {
  postgresTestUrl,
  postgresUnavailableReason,
  recordStatements,
  uniqueName,
  type StatementRecorder,
} from './postgres-server.js';

const url = postgresTestUrl();
// postgres.test.ts reports a missing server (and fails CI for it); these only need one.
const describePostgres =
  (await postgresUnavailableReason(url)) === undefined ? describe : describe.skip;

/** Connections of the test itself, to drop its schemas. */
const admin = new pg.Pool({ connectionString: url, max: 1 });
admin.on('error', () => undefined);

const MINUTE = 60_000;
const KEY = 'overlap:alpha';

let recorder: StatementRecorder;
const statementsOf = <T>(work: () => Promise<T>) => recorder.statementsOf(work);

describePostgres('postgres run phases: one statement a phase', () => {
  let schema: string;
  let store: Store;
  let other: Store;

  beforeAll(() => {
    recorder = recordStatements();
  });
  afterAll(async () => {
    recorder.restore();
    await admin.end();
  });

  beforeEach(async () => {
    schema = uniqueName('nightshift_test');
    store = createPostgresStore({ url, namespace: schema });
    // Another process on the same tables: it knows none of the versions this store wrote.
    other = createPostgresStore({ url, namespace: schema });
    // Also migrates the schema, so the statements counted are the phases' own.
    await store.agents.insert(agentRecord('alpha'));
  });
  afterEach(async () => {
    await Promise.all([store.close(), other.close()]);
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  });

  /** Alpha's run of `scheduledAt`, claimed running under `worker-1`'s lease, in one statement. */
  async function claimed(scheduledAt: string) {
    const run = runRecord('alpha', scheduledAt, {
      status: 'running',
      started_at: scheduledAt,
      lease_owner: 'worker-1',
      lease_expires_at: new Date(Date.now() + MINUTE).toISOString(),
    });
    const { result, statements } = await statementsOf(() =>
      store.phases.claimLeased(run, { key: KEY, holder: `worker-1/${run.run_id}`, ttlMs: MINUTE }),
    );
    expect(statements).toHaveLength(1);
    if (result.outcome !== 'claimed') throw new Error(`not claimed: ${result.outcome}`);
    return { run, lease: result.lease };
  }

  /** Ends the run as the service does: its stats to the agent, its lease given up. */
  function ended(
    runId: string,
    scheduledAt: string,
    lease: { key: string; holder: string; token: number },
  ) {
    return statementsOf(() =>
      store.phases.end(
        runId,
        ENDED_RUN,
        { lease_owner: 'worker-1' },
        { stats: { agent_id: 'alpha', delta: completedRunStats(scheduledAt) }, release: lease },
      ),
    );
  }

  it('claims a run with its lease, and ends it with stats and release, in one statement each', async () => {
    const first = await claimed(minute(1));
    expect(await other.runs.get(first.run.run_id)).toEqual(first.run);
    expect(await other.leases.get(KEY)).toEqual(first.lease);

    const end = await ended(first.run.run_id, minute(1), first.lease);
    expect(end.statements).toHaveLength(1);
    expect(end.result.run).toMatchObject({
      status: 'completed',
      output: 'done',
      lease_owner: null,
    });
    expect(end.result.agent?.stats).toMatchObject({ run_count: 1, total_tokens: 7 });
    expect(end.result.released).toBe(true);
    // As another process reads them: the three rows were written.
    expect(await other.runs.get(first.run.run_id)).toEqual(end.result.run);
    expect(await other.agents.get('alpha')).toEqual(end.result.agent);
    expect(await other.leases.get(KEY)).toBeUndefined();

    // What the first phases wrote is known: the next run's phases are one statement each too.
    const second = await claimed(minute(2));
    expect(second.lease.token).toBeGreaterThan(first.lease.token);
    const again = await ended(second.run.run_id, minute(2), second.lease);
    expect(again.statements).toHaveLength(1);
    expect(again.result.agent?.stats).toMatchObject({ run_count: 2, total_tokens: 14 });
    expect(again.result.released).toBe(true);
    expect(await other.agents.get('alpha')).toEqual(again.result.agent);
  });

  it('tells a run that exists, and a lease another holds, in one statement, writing nothing', async () => {
    const { run, lease } = await claimed(minute(1));
    const exists = await statementsOf(() =>
      store.phases.claimLeased(run, { key: 'overlap:other', holder: 'worker-2/x', ttlMs: MINUTE }),
    );
    expect(exists).toEqual({ result: { outcome: 'exists' }, statements: [expect.any(String)] });
    expect(await other.leases.get('overlap:other')).toBeUndefined();

    const next = runRecord('alpha', minute(2));
    const held = await statementsOf(() =>
      store.phases.claimLeased(next, { key: KEY, holder: 'worker-2/y', ttlMs: MINUTE }),
    );
    expect(held).toEqual({ result: { outcome: 'lease_held' }, statements: [expect.any(String)] });
    expect(await other.runs.get(next.run_id)).toBeUndefined();
    expect(await other.leases.get(KEY)).toEqual(lease);
  });

  it('ends a run right when another store changed the agent in between', async () => {
    const { run, lease } = await claimed(minute(1));
    await other.agents.updateStats('alpha', { skipped: 2 });
    await other.agents.update('alpha', { state: 'paused', pause_reason: 'by hand' });

    const end = await ended(run.run_id, minute(1), lease);
    // The run and the lease on their guesses; the agent's was stale: read and written again.
    expect(end.statements).toHaveLength(3);
    expect(end.result.run).toMatchObject({ status: 'completed', lease_owner: null });
    expect(end.result.agent).toMatchObject({ state: 'paused', pause_reason: 'by hand' });
    expect(end.result.agent?.stats).toMatchObject({ run_count: 1, skip_count: 2, total_tokens: 7 });
    expect(end.result.released).toBe(true);
    expect(await other.runs.get(run.run_id)).toEqual(end.result.run);
    expect(await other.agents.get('alpha')).toEqual(end.result.agent);
    expect(await other.leases.get(KEY)).toBeUndefined();

    // The agent as read then is known now: the next run's end is one statement again.
    const second = await claimed(minute(2));
    const again = await ended(second.run.run_id, minute(2), second.lease);
    expect(again.statements).toHaveLength(1);
    expect(again.result.agent?.stats).toMatchObject({ run_count: 2, skip_count: 2 });
    expect(await other.agents.get('alpha')).toEqual(again.result.agent);
  });
});
