import type { Lease, LeaseRequest, LeaseStore } from '../../storage/contracts/index.js';
import { ownerKnownDead } from '../../shared/process-liveness.js';
import { abortableSleep } from '../abortable-sleep.js';
import { renewalIntervalMs } from './run-heartbeat.js';

/** The lease key that keeps one agent's runs from overlapping, cluster-wide. */
function overlapLeaseKey(agentId: string): string {
  return `overlap:${agentId}`;
}

/** An overlap lease kept renewed for a running run (`OverlapLeases.hold`). */
export interface HeldLease {
  /** Stops renewing it and gives it as it is now, for the run's terminal write to give up. */
  handOver(): Lease;
  /** Gives it up, unless `releasedWithEnd`: the run's terminal write gave it up already. */
  release(releasedWithEnd?: boolean): Promise<void>;
}

/** What the overlap leases need: the store's leases and this process's name and lease length. */
export interface OverlapLeaseContext {
  leases: LeaseStore;
  instanceId: string;
  leaseTtlMs: number;
  /** Reports a failure in the background (a release that could not reach the store). */
  onError(error: unknown, context: string): void;
}

/**
 * The expiring lease in the store under which one run of an agent executes at a time (overlap
 * policies `skip` and `queue_one`), across every process sharing the store.
 */
export class OverlapLeases {
  readonly #context: OverlapLeaseContext;

  constructor(context: OverlapLeaseContext) {
    this.#context = context;
  }

  /** Who holds an agent's lease now, if anyone. */
  async holder(agentId: string): Promise<string | undefined> {
    return (await this.#context.leases.get(overlapLeaseKey(agentId)))?.holder;
  }

  /**
   * Takes an agent's lease for one run; undefined when another holds it. A lease whose holder is
   * known dead (a process of this machine that is gone) is released first, fenced by its token.
   */
  async acquire(agentId: string, runId: string): Promise<Lease | undefined> {
    const { key, holder, ttlMs } = this.request(agentId, runId);
    const { leases } = this.#context;
    const lease = await leases.acquire(key, holder, ttlMs);
    if (lease || !(await this.freeIfOwnerDead(agentId))) return lease;
    return leases.acquire(key, holder, ttlMs);
  }

  /** The lease one run of an agent takes (for a claim that takes it with the run). */
  request(agentId: string, runId: string): LeaseRequest {
    const { instanceId, leaseTtlMs } = this.#context;
    // The holder names this process as well as the run: two processes firing the same tick must
    // not both "hold" the lease (the loser would release it while the winner's run goes on).
    return { key: overlapLeaseKey(agentId), holder: `${instanceId}/${runId}`, ttlMs: leaseTtlMs };
  }

  /**
   * Releases an agent's lease whose holder is known dead (a process of this machine that is
   * gone), fenced by its token; true when it did, so the caller may try for it again.
   */
  async freeIfOwnerDead(agentId: string): Promise<boolean> {
    const { leases } = this.#context;
    const key = overlapLeaseKey(agentId);
    const held = await leases.get(key);
    if (!held || !ownerKnownDead(held.holder)) return false;
    await leases.release(key, held.holder, held.token);
    return true;
  }

  /**
   * Renews a run's lease; one that expired with nobody else taking it (the store was out past
   * its TTL) is taken again, so an outage does not end the run. Undefined when another run
   * holds it now; rejects while the store cannot be reached.
   */
  async keep(agentId: string, runId: string, lease: Lease | undefined): Promise<Lease | undefined> {
    if (!lease) return undefined;
    const { leases, leaseTtlMs } = this.#context;
    if (await leases.renew(lease.key, lease.holder, lease.token, leaseTtlMs)) return lease;
    return this.acquire(agentId, runId);
  }

  /** Waits for an agent's lease; undefined once `signal` aborts or `stopped()` says so. */
  async waitFor(
    agentId: string,
    runId: string,
    signal: AbortSignal,
    stopped: () => boolean,
  ): Promise<Lease | undefined> {
    for (;;) {
      if (signal.aborted || stopped()) return undefined;
      const lease = await this.acquire(agentId, runId);
      if (lease) return lease;
      await abortableSleep(Math.max(20, Math.floor(this.#context.leaseTtlMs / 10)), signal);
    }
  }

  /**
   * Keeps a running run's lease renewed until `release()`, which gives it up. `onLost` is told
   * who holds it when another run of the agent took it (promise 3: that run must stop).
   */
  hold(
    agentId: string,
    runId: string,
    lease: Lease,
    onLost: (holder: string | undefined) => void,
  ): HeldLease {
    let held = lease;
    const timer = setInterval(() => {
      void this.keep(agentId, runId, held)
        .then((kept) => {
          if (kept) held = kept;
          else
            void this.holder(agentId)
              .catch(() => undefined)
              .then(onLost);
        })
        .catch((error: unknown) =>
          this.#context.onError(error, `renewing the overlap lease of ${agentId}`),
        );
    }, renewalIntervalMs(this.#context.leaseTtlMs));
    timer.unref();
    return {
      handOver: () => {
        clearInterval(timer);
        return held;
      },
      release: (releasedWithEnd = false) => {
        clearInterval(timer);
        return releasedWithEnd ? Promise.resolve() : this.release(held);
      },
    };
  }

  /** Gives a lease up; a failure is reported, and the lease expires on its own. */
  async release(lease: Lease): Promise<void> {
    await this.#context.leases
      .release(lease.key, lease.holder, lease.token)
      .catch((error: unknown) => this.#context.onError(error, `releasing ${lease.key}`));
  }
}
