import type { AgentRecord, StatsDelta } from './agent-store.js';
import type { Lease } from './lease-store.js';
import type { RunCondition, RunPatch, RunRecord } from './run-store.js';

/** The lease a run's claim takes with it (the agent's overlap lease). */
export interface LeaseRequest {
  key: string;
  holder: string;
  ttlMs: number;
}

/** What {@link RunPhases.claimLeased} did. */
export type LeasedClaim =
  /** The lease was taken and the run inserted. */
  | { outcome: 'claimed'; lease: Lease }
  /** The run id was claimed already: nothing was written (the lease was not taken). */
  | { outcome: 'exists' }
  /** Another holder has the lease: nothing was written. */
  | { outcome: 'lease_held' };

/** What goes with a run's terminal write, applied only when that write is. */
export interface RunEndEffects {
  /** The agent's counters take the run in. */
  stats?: { agent_id: string; delta: StatsDelta };
  /** The lease the run held is given up (if still held with this token). */
  release?: Pick<Lease, 'key' | 'holder' | 'token'>;
}

/** What {@link RunPhases.end} wrote. */
export interface RunEndWrite {
  /** The run as written; undefined when it is absent or fails the condition (nothing was written then). */
  run: RunRecord | undefined;
  /** The agent after its counters changed; undefined without `stats`, or when the agent is gone. */
  agent: AgentRecord | undefined;
  /** True when the lease was given up; false without `release`, or when it was no longer held. */
  released: boolean;
}

/**
 * The writes of a run's two busiest moments, each as one call: its claim with the overlap lease,
 * and its terminal write with the agent's stats and the lease's release. The outcome is that of
 * the single calls made one after another (`sequentialRunPhases`); a backend whose calls are
 * round trips (Redis, Postgres) makes each phase one round trip in the usual case: when this
 * process knows the current values (it wrote them last), else it falls back to the single calls.
 */
export interface RunPhases {
  /**
   * Inserts the run, taking the lease with it. When the run id exists, nothing is written
   * (`exists`, judged first); else when another holder has the lease (taken and not expired),
   * nothing is written (`lease_held`). A lease the same holder has is extended, its token kept.
   */
  claimLeased(run: RunRecord, lease: LeaseRequest): Promise<LeasedClaim>;
  /**
   * Applies the run's patch under `condition` (as `runs.update`); only when it was
   * written, applies the agent's stats delta (as `updateStats`) and gives the lease up (as
   * `release`). Each of the three is atomic; together they are not one transaction: a process
   * dying in between leaves the run ended with the rest undone, as the single calls would.
   */
  end(
    runId: string,
    patch: RunPatch,
    condition: RunCondition,
    effects: RunEndEffects,
  ): Promise<RunEndWrite>;
}
