import type { RunPhases } from '../contracts/run-phases.js';
import { sequentialRunPhases } from '../run-phases.js';
import type { RedisAgentStore } from './agent-store.js';
import type { RedisConnection } from './connection.js';
import type { RedisLeaseStore } from './lease-store.js';
import type { PreparedWrite } from './prepared-write.js';
import type { RedisRunStore } from './run-store.js';

/** The Redis stores a run's phases write to, each with the writes it prepares for them. */
export interface RedisPhaseStores {
  runs: RedisRunStore;
  agents: RedisAgentStore;
  leases: RedisLeaseStore;
}

/**
 * {@link RunPhases} in Redis, each phase one script call in the usual case. A claim is always
 * one: the script judges the run's existence and the lease itself. An end is one when this
 * process knows the run as stored (it wrote it last): the run's compare-and-set, and only if it
 * applied, the agent's and the lease's (those this process knows), each on its own. A part
 * whose guess was wrong, or that was not known, then goes as the store's single call, reading
 * first; without the run known, the end is the single calls one after another.
 */
export function createRedisRunPhases(
  connection: RedisConnection,
  stores: RedisPhaseStores,
): RunPhases {
  const { runs, agents, leases } = stores;
  const sequential = sequentialRunPhases({
    runs: runs.store,
    agents: agents.store,
    leases: leases.store,
  });

  return {
    async claimLeased(run, request) {
      const insert = runs.writes.claim(run);
      const acquisition = leases.writes.acquisition(request.key, request.holder, request.ttlMs);
      const reply = await connection.run(() =>
        connection.scripts.claimLeased(insert.write, acquisition.request),
      );
      if (reply.outcome !== 'claimed') return { outcome: reply.outcome };
      insert.applied();
      return { outcome: 'claimed', lease: acquisition.acquired(reply.slot) };
    },

    async end(runId, patch, condition, effects) {
      const ending = runs.writes.guessedUpdate(runId, patch, condition);
      // Not known, or the guess fails the condition: judged on a read, by the single calls.
      if (!ending) return sequential.end(runId, patch, condition, effects);
      const { stats, release } = effects;
      const counting = stats && agents.writes.guessedStats(stats.agent_id, stats.delta);
      const releasing =
        release && leases.writes.guessedRelease(release.key, release.holder, release.token);
      const sent = [counting, releasing].filter((write) => write !== undefined);
      const [ended, ...applied] = await connection.run(() =>
        connection.scripts.compareAndSetChain(
          ending.write,
          sent.map((prepared) => prepared.write),
        ),
      );
      // Another process changed the run since this one wrote it: from what is stored.
      if (!ended) return sequential.end(runId, patch, condition, effects);
      const run = ending.applied();
      const written = new Set(sent.filter((_write, at) => applied[at]).map(({ write }) => write));
      /** What a sent write answers once it applied, else (not sent, or beaten) the single call. */
      const settle = <T>(prepared: PreparedWrite<T> | undefined, single: () => Promise<T>) =>
        prepared && written.has(prepared.write) ? prepared.applied() : single();
      const [agent, released] = await Promise.all([
        stats && settle(counting, () => agents.store.updateStats(stats.agent_id, stats.delta)),
        release
          ? settle(releasing, () =>
              leases.store.release(release.key, release.holder, release.token),
            )
          : false,
      ]);
      return { run, agent, released };
    },
  };
}
