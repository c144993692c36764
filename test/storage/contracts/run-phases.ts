import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/storage/index.js';
import {
  agentRecord,
  completedRunStats,
  ENDED_RUN,
  minute,
  runRecord,
  type StoreFactory,
  type StoreFixture,
} from './fixtures.js';

const MINUTE = 60_000;
const KEY = 'overlap:alpha';

/** The RunPhases contract (a run's claim with its lease, its end with stats and release), on one backend. */
export function describeRunPhases(name: string, factory: StoreFactory): void {
  describe(`RunPhases contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
      await store.agents.insert(agentRecord('alpha'));
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    /** The run of alpha's first tick, claimed running under `worker-1`'s lease. */
    function running(owner = 'worker-1') {
      return runRecord('alpha', minute(1), {
        status: 'running',
        started_at: minute(1),
        lease_owner: owner,
        lease_expires_at: new Date(Date.now() + MINUTE).toISOString(),
      });
    }

    /** Claims the run under the lease, expecting both taken. */
    async function claimed(owner = 'worker-1') {
      const run = running(owner);
      const result = await store.phases.claimLeased(run, {
        key: KEY,
        holder: `${owner}/${run.run_id}`,
        ttlMs: MINUTE,
      });
      if (result.outcome !== 'claimed') throw new Error(`not claimed: ${result.outcome}`);
      return { run, lease: result.lease };
    }

    describe('claimLeased', () => {
      it('inserts the run and takes the lease with it', async () => {
        const before = Date.now();
        const { run, lease } = await claimed();
        expect(lease).toMatchObject({ key: KEY, holder: `worker-1/${run.run_id}` });
        expect(lease.token).toBeGreaterThan(0);
        expect(lease.expires_at).toBeGreaterThanOrEqual(before + MINUTE);
        expect(await store.leases.get(KEY)).toEqual(lease);
        expect(await store.runs.get(run.run_id)).toEqual(run);
      });

      it('writes nothing when the run id exists: the lease stays free', async () => {
        const run = running();
        await store.runs.claim({ ...run, status: 'skipped' });
        const result = await store.phases.claimLeased(run, {
          key: KEY,
          holder: 'worker-2/x',
          ttlMs: MINUTE,
        });
        expect(result).toEqual({ outcome: 'exists' });
        expect(await store.leases.get(KEY)).toBeUndefined();
        expect((await store.runs.get(run.run_id))?.status).toBe('skipped');
      });

      it('writes nothing when another holder has the lease', async () => {
        const held = await store.leases.acquire(KEY, 'worker-2/other', MINUTE);
        const run = running();
        const result = await store.phases.claimLeased(run, {
          key: KEY,
          holder: 'worker-1/x',
          ttlMs: MINUTE,
        });
        expect(result).toEqual({ outcome: 'lease_held' });
        expect(await store.runs.get(run.run_id)).toBeUndefined();
        expect(await store.leases.get(KEY)).toEqual(held);
      });

      it('takes a lease that expired or was given up, under a newer token', async () => {
        const expired = await store.leases.acquire(KEY, 'worker-2/old', 20);
        await expect
          .poll(async () => store.leases.get(KEY), { timeout: 3_000, interval: 5 })
          .toBeUndefined();
        const { lease } = await claimed();
        expect(lease.token).toBeGreaterThan(expired!.token);
        const given = await store.leases.acquire('overlap:bravo', 'worker-2/old', MINUTE);
        await store.leases.release('overlap:bravo', given!.holder, given!.token);
        await store.agents.insert(agentRecord('bravo'));
        const result = await store.phases.claimLeased(runRecord('bravo', minute(1)), {
          key: 'overlap:bravo',
          holder: 'worker-1/b',
          ttlMs: MINUTE,
        });
        expect(result.outcome === 'claimed' && result.lease.token).toBeGreaterThan(given!.token);
      });

      it('extends a lease the same holder has, keeping its token', async () => {
        const run = running();
        const holder = `worker-1/${run.run_id}`;
        const held = await store.leases.acquire(KEY, holder, 1_000);
        const result = await store.phases.claimLeased(run, { key: KEY, holder, ttlMs: MINUTE });
        expect(result.outcome).toBe('claimed');
        if (result.outcome !== 'claimed') return;
        expect(result.lease.token).toBe(held!.token);
        expect(result.lease.expires_at).toBeGreaterThan(held!.expires_at);
      });

      it('claims a tick once among racing claims, and the lease is the winner’s', async () => {
        const stores = [store, fixture.sibling?.() ?? store, fixture.sibling?.() ?? store];
        const run = running();
        const results = await Promise.all(
          stores.map((each, index) =>
            each.phases.claimLeased(
              { ...run, lease_owner: `worker-${index}` },
              { key: KEY, holder: `worker-${index}/${run.run_id}`, ttlMs: MINUTE },
            ),
          ),
        );
        const winners = results.flatMap((result, index) =>
          result.outcome === 'claimed' ? [{ index, lease: result.lease }] : [],
        );
        expect(winners).toHaveLength(1);
        const [winner] = winners;
        expect((await store.runs.get(run.run_id))?.lease_owner).toBe(`worker-${winner!.index}`);
        expect(await store.leases.get(KEY)).toEqual(winner!.lease);
      });
    });

    describe('end', () => {
      it('writes the run, then the agent’s stats, then gives the lease up', async () => {
        const { run, lease } = await claimed();
        const written = await store.phases.end(
          run.run_id,
          ENDED_RUN,
          { lease_owner: 'worker-1' },
          { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: lease },
        );
        expect(written.run).toMatchObject({
          status: 'completed',
          output: 'done',
          lease_owner: null,
        });
        expect(written.released).toBe(true);
        expect(written.agent?.stats).toMatchObject({
          run_count: 1,
          total_tokens: 7,
          total_duration_ms: 1_000,
          last_run_status: 'completed',
          last_scheduled_at: minute(1),
        });
        expect(await store.runs.get(run.run_id)).toEqual(written.run);
        expect(await store.agents.get('alpha')).toEqual(written.agent);
        expect(await store.leases.get(KEY)).toBeUndefined();
        // The next claim takes the lease under a newer token.
        const next = await store.phases.claimLeased(runRecord('alpha', minute(2)), {
          key: KEY,
          holder: 'worker-1/next',
          ttlMs: MINUTE,
        });
        expect(next.outcome === 'claimed' && next.lease.token).toBeGreaterThan(lease.token);
      });

      it('writes nothing at all when the run fails the condition', async () => {
        const { run, lease } = await claimed();
        const written = await store.phases.end(
          run.run_id,
          ENDED_RUN,
          { lease_owner: 'worker-9' },
          { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: lease },
        );
        expect(written).toEqual({ run: undefined, agent: undefined, released: false });
        expect((await store.runs.get(run.run_id))?.status).toBe('running');
        expect((await store.agents.get('alpha'))?.stats.run_count).toBe(0);
        expect(await store.leases.get(KEY)).toEqual(lease);
        const absent = await store.phases.end('nobody@x', ENDED_RUN, {}, { release: lease });
        expect(absent).toEqual({ run: undefined, agent: undefined, released: false });
        expect(await store.leases.get(KEY)).toEqual(lease);
      });

      it('writes the run and its stats but leaves a lease taken by another since', async () => {
        const run = running();
        const result = await store.phases.claimLeased(run, {
          key: KEY,
          holder: 'worker-1/r',
          ttlMs: 20,
        });
        if (result.outcome !== 'claimed') throw new Error(result.outcome);
        const other = fixture.sibling?.() ?? store;
        let taken: Awaited<ReturnType<Store['leases']['acquire']>>;
        await expect
          .poll(async () => (taken ??= await other.leases.acquire(KEY, 'worker-2/s', MINUTE)), {
            timeout: 3_000,
            interval: 5,
          })
          .toBeDefined();
        const written = await store.phases.end(
          run.run_id,
          ENDED_RUN,
          { lease_owner: 'worker-1' },
          { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: result.lease },
        );
        expect(written.run?.status).toBe('completed');
        expect(written.agent?.stats.run_count).toBe(1);
        expect(written.released).toBe(false);
        expect(await store.leases.get(KEY)).toEqual(taken);
      });

      it('adds to counters another store changed since this one read them', async () => {
        const { run, lease } = await claimed();
        // This store read the agent (as a tick does); another process then changes it.
        await store.agents.get('alpha');
        const other = fixture.sibling?.() ?? store;
        await other.agents.updateStats('alpha', { skipped: 2 });
        await other.agents.update('alpha', { state: 'paused', pause_reason: 'by hand' });
        const written = await store.phases.end(
          run.run_id,
          ENDED_RUN,
          { lease_owner: 'worker-1' },
          { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: lease },
        );
        expect(written.agent).toMatchObject({ state: 'paused', pause_reason: 'by hand' });
        expect(written.agent?.stats).toMatchObject({ run_count: 1, skip_count: 2 });
        expect(await store.agents.get('alpha')).toEqual(written.agent);
        expect(written.released).toBe(true);
      });

      it('ends a run another store changed since this one wrote it, from what is stored', async () => {
        const { run, lease } = await claimed();
        const other = fixture.sibling?.() ?? store;
        await other.runs.update(run.run_id, { usage: { ...run.usage, total_tokens: 40 } });
        const written = await store.phases.end(
          run.run_id,
          ENDED_RUN,
          { lease_owner: 'worker-1' },
          { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: lease },
        );
        expect(written.run).toMatchObject({ status: 'completed', usage: { total_tokens: 40 } });
        expect(await store.runs.get(run.run_id)).toEqual(written.run);
        // Taken by another store meanwhile: the end finds it gone and writes nothing.
        const second = running();
        const again = await store.phases.claimLeased(
          { ...second, run_id: 'alpha@2' },
          { key: 'overlap:two', holder: 'worker-1/2', ttlMs: MINUTE },
        );
        if (again.outcome !== 'claimed') throw new Error(again.outcome);
        await other.runs.update('alpha@2', { lease_owner: 'worker-2' });
        const lost = await store.phases.end(
          'alpha@2',
          ENDED_RUN,
          { lease_owner: 'worker-1' },
          { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: again.lease },
        );
        expect(lost).toEqual({ run: undefined, agent: undefined, released: false });
        expect((await store.runs.get('alpha@2'))?.status).toBe('running');
        expect((await store.agents.get('alpha'))?.stats.run_count).toBe(1);
      });

      it('writes the run alone without effects, and the agent may be gone', async () => {
        const { run } = await claimed();
        const alone = await store.phases.end(
          run.run_id,
          ENDED_RUN,
          { lease_owner: 'worker-1' },
          {},
        );
        expect(alone).toMatchObject({
          run: { status: 'completed' },
          agent: undefined,
          released: false,
        });
        expect((await store.agents.get('alpha'))?.stats.run_count).toBe(0);
        await store.agents.insert(agentRecord('bravo'));
        const bravo = runRecord('bravo', minute(1), { status: 'running', lease_owner: 'w' });
        await store.runs.claim(bravo);
        await store.agents.delete('bravo');
        const gone = await store.phases.end(
          bravo.run_id,
          ENDED_RUN,
          { lease_owner: 'w' },
          { stats: { agent_id: 'bravo', delta: completedRunStats() } },
        );
        expect(gone.run?.status).toBe('completed');
        expect(gone.agent).toBeUndefined();
      });
    });
  });
}
