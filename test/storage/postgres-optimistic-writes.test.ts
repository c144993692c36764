import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Lease, RunStep, Store } from '../../src/storage/index.js';
import { createPostgresStore } from '../../src/storage/postgres/index.js';
import { agentRecord, minute, runRecord } from './contracts/fixtures.js';
import { postgresTestUrl, postgresUnavailableReason, uniqueName } from './postgres-server.js';

const url = postgresTestUrl();
// postgres.test.ts reports a missing server (and fails CI for it); these only need one.
const describePostgres =
  (await postgresUnavailableReason(url)) === undefined ? describe : describe.skip;

/** Connections of the test itself, to watch the stores' connections and drop its schemas. */
const admin = new pg.Pool({ connectionString: url, max: 2 });
admin.on('error', () => undefined);

/** Connections per store (the default). */
const POOL_SIZE = 10;

/** Step fields that a patch may set, one per racing writer. */
const STEP_PATCHES: readonly Partial<RunStep>[] = [
  { state: 'completed' },
  { ended_at: minute(1) },
  { finish_reason: 'stop' },
  { tool_call_id: 'call-1' },
  { args_digest: 'digest' },
  { outcome: 'success' },
  { error: 'none' },
  { usage: { requests: 1, input_tokens: 1, output_tokens: 2, total_tokens: 3 } },
];

function isLease(lease: Lease | undefined): lease is Lease {
  return lease !== undefined;
}

describePostgres('postgres read-modify-writes (compare-and-set), racing across processes', () => {
  let schema: string;
  /** Names this test's connections, to find them in pg_stat_activity. */
  let applicationName: string;
  const opened: Store[] = [];

  /** A store with a pool of its own, as another process would have. */
  function openStore(): Store {
    const store = createPostgresStore({
      url,
      schema,
      pool: { shared: false, applicationName, max: POOL_SIZE },
    });
    opened.push(store);
    return store;
  }

  /**
   * Two stores on separate pools, each with its connections open (so racing calls do race
   * rather than queue for a new connection), and a writer that alternates between them.
   */
  async function twoProcesses(): Promise<{
    stores: [Store, Store];
    storeFor: (index: number) => Store;
  }> {
    const stores: [Store, Store] = [openStore(), openStore()];
    for (const store of stores) {
      await Promise.all(Array.from({ length: POOL_SIZE }, () => store.agents.list()));
    }
    return { stores, storeFor: (index) => stores[index % 2]! };
  }

  beforeEach(() => {
    schema = uniqueName('nightshift_test');
    applicationName = uniqueName('nightshift_test');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  });
  afterAll(async () => {
    await admin.end();
  });

  it('loses no counter change of 50 stats updates at once', async () => {
    const { stores, storeFor } = await twoProcesses();
    await stores[0].agents.insert(agentRecord('alpha'));
    const run = { ended_at: minute(1), status: 'completed' as const, error: null };
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        storeFor(index).agents.updateStats('alpha', {
          run: { ...run, total_tokens: 10, duration_ms: index },
        }),
      ),
    );
    const { stats } = (await stores[1].agents.get('alpha'))!;
    expect(stats.run_count).toBe(50);
    expect(stats.total_tokens).toBe(500);
    expect(stats.total_duration_ms).toBe((49 * 50) / 2);
  });

  it('counts every one of 30 agent patches at once in its version', async () => {
    const { stores, storeFor } = await twoProcesses();
    await stores[0].agents.insert(agentRecord('alpha'));
    const versions = await Promise.all(
      Array.from({ length: 30 }, async (_, index) => {
        const state = index % 2 === 0 ? 'active' : 'paused';
        return (await storeFor(index).agents.update('alpha', { state }))?.version;
      }),
    );
    // Each patch applied to the version before it: every version from 2 to 31, once.
    expect(versions.sort((a, b) => a! - b!)).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    expect((await stores[1].agents.get('alpha'))?.version).toBe(31);
  });

  it('lets exactly one of 20 conditional run updates at once take the run over', async () => {
    const { stores, storeFor } = await twoProcesses();
    const run = runRecord('alpha', minute(0), { status: 'running', lease_owner: 'a' });
    await stores[0].runs.claim(run);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        storeFor(index).runs.update(
          run.run_id,
          { lease_owner: `worker-${index}`, output: `taken by worker-${index}` },
          { lease_owner: 'a' },
        ),
      ),
    );
    const winners = results.filter((result) => result !== undefined);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    expect(await stores[1].runs.get(run.run_id)).toEqual(winner);
    expect(winner.output).toBe(`taken by ${winner.lease_owner}`);
  });

  it('keeps every field of 8 run and step patches at once', async () => {
    const { stores, storeFor } = await twoProcesses();
    const run = runRecord('alpha', minute(0));
    await stores[0].runs.claim(run);
    const step: RunStep = {
      run_id: run.run_id,
      step_id: '1.0',
      attempt: 1,
      index: 0,
      kind: 'tool_call',
      state: 'started',
      started_at: minute(0),
      ended_at: null,
      tool_name: 'shell',
    };
    await stores[0].runs.appendStep(step);
    await Promise.all([
      ...STEP_PATCHES.map((patch, index) =>
        storeFor(index).runs.updateStep(run.run_id, step.step_id, patch),
      ),
      storeFor(0).runs.update(run.run_id, { status: 'running' }),
      storeFor(1).runs.update(run.run_id, { started_at: minute(1) }),
      storeFor(0).runs.update(run.run_id, { output: 'done' }),
      storeFor(1).runs.update(run.run_id, { skip_reason: 'none' }),
    ]);
    expect(await stores[1].runs.listSteps(run.run_id)).toEqual([
      Object.assign({}, step, ...STEP_PATCHES) as RunStep,
    ]);
    expect(await stores[1].runs.get(run.run_id)).toMatchObject({
      status: 'running',
      started_at: minute(1),
      output: 'done',
      skip_reason: 'none',
    });
  });

  it('grants a lease to exactly one of many holders at once, with tokens that only grow', async () => {
    const { stores, storeFor } = await twoProcesses();
    const key = 'agent:alpha';
    const tokens: number[] = [];
    for (let cycle = 0; cycle < 5; cycle += 1) {
      // The first cycle races to create the key's row; the later ones to take it over.
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          storeFor(index).leases.acquire(key, `worker-${cycle}-${index}`, 60_000),
        ),
      );
      const granted = results.filter(isLease);
      expect(granted).toHaveLength(1);
      const lease = granted[0]!;
      expect(await stores[1].leases.get(key)).toEqual(lease);
      tokens.push(lease.token);

      // The holder renewing while rivals try to acquire: it keeps the lease, they get nothing.
      const [renewals, rivals] = await Promise.all([
        Promise.all(
          Array.from({ length: 5 }, (_, index) =>
            storeFor(index).leases.renew(key, lease.holder, lease.token, 60_000),
          ),
        ),
        Promise.all(
          Array.from({ length: 5 }, (_, index) =>
            storeFor(index).leases.acquire(key, `rival-${cycle}-${index}`, 60_000),
          ),
        ),
      ]);
      expect(renewals).toEqual([true, true, true, true, true]);
      expect(rivals.filter(isLease)).toEqual([]);

      // Released once: a second release, and a stale token, are refused.
      const releases = await Promise.all([
        stores[0].leases.release(key, lease.holder, lease.token),
        stores[1].leases.release(key, lease.holder, lease.token),
      ]);
      expect(releases.filter(Boolean)).toHaveLength(1);
      expect(await stores[0].leases.get(key)).toBeUndefined();
    }
    for (let index = 1; index < tokens.length; index += 1) {
      expect(tokens[index]).toBeGreaterThan(tokens[index - 1]!);
    }
  });

  it('builds on what another process wrote since it last wrote a row itself', async () => {
    const { stores } = await twoProcesses();
    const [first, second] = stores;
    await first.agents.insert(agentRecord('alpha'));
    await first.agents.updateStats('alpha', { skipped: 1 });
    await second.agents.updateStats('alpha', { skipped: 1 });
    expect((await first.agents.updateStats('alpha', { skipped: 1 }))?.stats.skip_count).toBe(3);
    await second.agents.update('alpha', { state: 'active' });
    expect(await first.agents.update('alpha', { pause_reason: 'x' })).toMatchObject({
      state: 'active',
      version: 3,
    });

    const run = runRecord('alpha', minute(0), { status: 'running', lease_owner: 'first' });
    await first.runs.claim(run);
    await first.runs.update(run.run_id, { output: 'one' }, { lease_owner: 'first' });
    // Another process takes the run over: the first one's fenced writes no longer apply.
    await second.runs.update(run.run_id, { lease_owner: 'second' }, { lease_owner: 'first' });
    expect(
      await first.runs.update(run.run_id, { output: 'two' }, { lease_owner: 'first' }),
    ).toBeUndefined();
    // … and when it is handed back, they apply again.
    await second.runs.update(run.run_id, { lease_owner: 'first' }, { lease_owner: 'second' });
    expect(
      await first.runs.update(run.run_id, { output: 'three' }, { lease_owner: 'first' }),
    ).toMatchObject({ lease_owner: 'first', output: 'three' });

    const step: RunStep = {
      run_id: run.run_id,
      step_id: '1.0',
      attempt: 1,
      index: 0,
      kind: 'model_call',
      state: 'started',
      started_at: minute(0),
      ended_at: null,
    };
    await first.runs.appendStep(step);
    await second.runs.updateStep(run.run_id, '1.0', { finish_reason: 'stop' });
    await first.runs.updateStep(run.run_id, '1.0', { ended_at: minute(1) });
    expect(await second.runs.listSteps(run.run_id)).toEqual([
      { ...step, finish_reason: 'stop', ended_at: minute(1) },
    ]);

    const lease = await first.leases.acquire('agent:alpha', 'first', 60_000);
    expect(await first.leases.release('agent:alpha', 'first', lease!.token)).toBe(true);
    const taken = await second.leases.acquire('agent:alpha', 'second', 60_000);
    expect(taken!.token).toBeGreaterThan(lease!.token);
    expect(await first.leases.acquire('agent:alpha', 'first', 60_000)).toBeUndefined();
    expect(await first.leases.renew('agent:alpha', 'first', lease!.token, 60_000)).toBe(false);
    expect(await second.leases.release('agent:alpha', 'second', taken!.token)).toBe(true);
    // Seen held by another, then released: free to take.
    const held = await second.leases.acquire('agent:alpha', 'second', 60_000);
    expect(held!.token).toBeGreaterThan(taken!.token);
    expect(await first.leases.get('agent:alpha')).toEqual(held);
    expect(await second.leases.release('agent:alpha', 'second', held!.token)).toBe(true);
    const again = await first.leases.acquire('agent:alpha', 'first', 60_000);
    expect(again!.token).toBeGreaterThan(held!.token);
  });

  it('holds no transaction open between its statements', async () => {
    const { stores, storeFor } = await twoProcesses();
    const agentIds = ['alpha', 'beta', 'gamma', 'delta'];
    for (const agentId of agentIds) {
      await stores[0].agents.insert(agentRecord(agentId));
      await stores[0].runs.claim(runRecord(agentId, minute(0)));
    }
    let done = false;
    const writes = Promise.all(
      Array.from({ length: 100 }, async (_, index) => {
        const store = storeFor(index);
        const agentId = agentIds[index % agentIds.length]!;
        await store.agents.updateStats(agentId, { skipped: 1 });
        await store.runs.update(runRecord(agentId, minute(0)).run_id, { output: `${index}` });
        const lease = await store.leases.acquire(`agent:${agentId}`, `worker-${index}`, 60_000);
        if (lease) await store.leases.release(lease.key, lease.holder, lease.token);
      }),
    ).finally(() => {
      done = true;
    });
    const seen = new Set<string>();
    while (!done) {
      const { rows } = await admin.query<{ state: string }>(
        'SELECT state FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      for (const row of rows) seen.add(row.state);
    }
    await writes;
    expect(seen).toContain('active');
    expect(seen).not.toContain('idle in transaction');
    const agents = await stores[1].agents.list();
    expect(agents.map((agent) => agent.stats.skip_count)).toEqual([25, 25, 25, 25]);
  });
});
