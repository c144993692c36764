import type { AgentStore } from './contracts/agent-store.js';
import type { LeaseStore } from './contracts/lease-store.js';
import type { RunPhases } from './contracts/run-phases.js';
import type { RunStore } from './contracts/run-store.js';

/** The stores a run's phases write to. */
export interface PhaseStores {
  runs: RunStore;
  agents: AgentStore;
  leases: LeaseStore;
}

/**
 * {@link RunPhases} as the single calls one after another: the meaning of every backend's
 * phases, and the whole of it where a call costs no round trip (memory, SQLite), or where a
 * backend's one-round-trip path cannot be taken (it does not know the current values).
 */
export function sequentialRunPhases(stores: PhaseStores): RunPhases {
  const { runs, leases } = stores;
  return {
    async claimLeased(run, request) {
      if (await runs.get(run.run_id)) return { outcome: 'exists' };
      const lease = await leases.acquire(request.key, request.holder, request.ttlMs);
      if (!lease) return { outcome: 'lease_held' };
      if (await runs.claim(run)) return { outcome: 'claimed', lease };
      // Claimed by another meanwhile: the lease goes back.
      await leases.release(lease.key, lease.holder, lease.token);
      return { outcome: 'exists' };
    },

    async end(runId, patch, condition, effects) {
      const run = await runs.update(runId, patch, condition);
      if (!run) return { run, agent: undefined, released: false };
      return { run, ...(await endEffects(stores, effects)) };
    },
  };
}

/** The stats and the release that follow a run's terminal write, as single calls. */
export async function endEffects(
  stores: Pick<PhaseStores, 'agents' | 'leases'>,
  effects: Parameters<RunPhases['end']>[3],
): Promise<{ agent: Awaited<ReturnType<AgentStore['updateStats']>>; released: boolean }> {
  const { stats, release } = effects;
  const agent = stats ? await stores.agents.updateStats(stats.agent_id, stats.delta) : undefined;
  const released = release
    ? await stores.leases.release(release.key, release.holder, release.token)
    : false;
  return { agent, released };
}
