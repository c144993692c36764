import type { Lease, LeaseStore } from '../../storage/contracts/index.js';
import { ownerKnownDead } from '../../shared/process-liveness.js';
import { abortableSleep } from '../abortable-sleep.js';
import { renewalIntervalMs } from './run-heartbeat.js';

/** The lease key that keeps one agent's runs from overlapping, cluster-wide. */
function overlapLeaseKey(agentId: string): string {
  return `overlap:${agentId}`;
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
    const { leases, instanceId, leaseTtlMs } = this.#context;
    const key = overlapLeaseKey(agentId);
    // The holder names this process as well as the run: two processes firing the same tick must
    // not both "hold" the lease (the loser would release it while the winner's run goes on).
    const holder = `${instanceId}/${runId}`;
    const lease = await leases.acquire(key, holder, leaseTtlMs);
    if (lease) return lease;
    const held = await leases.get(key);
    if (!held || !ownerKnownDead(held.holder)) return undefined;
    await leases.release(key, held.holder, held.token);
    return leases.acquire(key, holder, leaseTtlMs);
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
  ): { release(): Promise<void> } {
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
      release: () => {
        clearInterval(timer);
        return this.release(held);
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
