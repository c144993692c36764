import {
  isTerminal,
  WAITING_STATUSES,
  type AgentRecord,
  type Lease,
  type RunRecord,
} from '../storage/contracts/index.js';
import { approvalRulesOf } from '../config/approval-rules.js';
import { settledWithin } from './abortable-sleep.js';
import { executeRun, type ExecutorContext } from './run-executor.js';
import { abortReasons } from './runs/abort-reasons.js';
import { OverlapLeases } from './runs/overlap-lease.js';
import { keepRunHeld } from './runs/run-heartbeat.js';
import type { EndedRun, LeasedRunClaim, RunTransitions } from './runs/run-transitions.js';

/** A run executing in this process. */
interface RunHandle {
  run: RunRecord;
  controller: AbortController;
  done: Promise<RunRecord>;
}

/** A run waiting under `queue_one` for the one before it to end. */
interface QueuedRun {
  run: RunRecord;
  controller: AbortController;
  done: Promise<RunRecord>;
  settle: (record: RunRecord) => void;
}

/** A recovered run waiting for its agent's overlap lease before its next attempt. */
interface ResumingRun {
  /** The run as recovery last recorded it: the attempt goes on from this record. */
  run: RunRecord;
  controller: AbortController;
  /** Settles once the run has started, or once the wait ended without starting it. */
  waited: Promise<RunRecord>;
}

/** What the dispatcher reports back to the service. */
export interface DispatcherHooks {
  /**
   * Called after every run of this process reaches its terminal state, with the agent's record
   * as its stats update left it (undefined when that was not recorded).
   */
  onRunEnded(agentId: string, run: RunRecord, agent: AgentRecord | undefined): Promise<void>;
  onError(error: unknown, context: string): void;
}

/**
 * Turns a claimed tick into an executing run under the agent's overlap policy:
 * `skip` (a skipped run is recorded, with its reason), `queue_one`, `cancel_previous`, `allow`.
 * Under `skip` and `queue_one` an expiring lease in the store keeps runs of one agent from
 * overlapping across every process sharing it.
 */
export class RunDispatcher {
  readonly #context: ExecutorContext;
  readonly #hooks: DispatcherHooks;
  readonly #running = new Map<string, Map<string, RunHandle>>();
  /** Overlap leases being given back by runs of this process that have ended, by agent. */
  readonly #releasing = new Map<string, Promise<void>>();
  /** The same runs by run id. */
  readonly #byRunId = new Map<string, RunHandle>();
  readonly #queued = new Map<string, QueuedRun>();
  /** Recovered runs waiting for the overlap lease, by run id. */
  readonly #resuming = new Map<string, ResumingRun>();
  /**
   * Dispatches in progress, by run id: each may hold the overlap lease (as this process and the
   * run) until its claim is decided.
   */
  readonly #dispatching = new Map<string, Promise<unknown>>();
  /** Agents whose queued run is being claimed: the `queue_one` slot is taken already. */
  readonly #queueing = new Set<string>();
  readonly #aftermath = new Set<Promise<void>>();
  readonly #leases: OverlapLeases;
  #closed = false;

  constructor(context: ExecutorContext, hooks: DispatcherHooks) {
    this.#context = context;
    this.#hooks = hooks;
    this.#leases = new OverlapLeases({
      leases: context.store.leases,
      instanceId: context.instanceId,
      leaseTtlMs: context.leaseTtlMs,
      onError: (error, where) => hooks.onError(error, where),
    });
  }

  get #transitions(): RunTransitions {
    return this.#context.transitions;
  }

  /** Runs of an agent executing in this process. */
  runningCount(agentId: string): number {
    return this.#running.get(agentId)?.size ?? 0;
  }

  /** Every run executing in this process. */
  handles(): RunHandle[] {
    return [...this.#running.values()].flatMap((runs) => [...runs.values()]);
  }

  /** The promise of a run executing (or queued) in this process. */
  completion(runId: string): Promise<RunRecord> | undefined {
    return (this.#byRunId.get(runId) ?? this.#queuedRun(runId))?.done;
  }

  #queuedRun(runId: string): QueuedRun | undefined {
    for (const queued of this.#queued.values()) if (queued.run.run_id === runId) return queued;
    return undefined;
  }

  /**
   * Dispatches a new run. Returns its record as it stands once dispatched (running, pending
   * when queued, skipped), or undefined when the run id was already claimed (another process,
   * or an earlier fire of the same tick, has it).
   */
  async dispatch(agent: AgentRecord, run: RunRecord): Promise<RunRecord | undefined> {
    if (this.#closed) return undefined;
    // The overlap lease's holder is this process and the run id, so this process must contend
    // for a run id once: a tick fired again after a restart (`run_immediately`, a catch-up) is
    // the very run recovery resumes here, and its failed claim would release the lease the
    // resumed run holds under the same holder. The store has the run already: nothing to do.
    if (this.#hasRun(run.run_id)) return undefined;
    const dispatching = this.#dispatchUnderPolicy(agent, run);
    this.#dispatching.set(run.run_id, dispatching);
    try {
      return await dispatching;
    } finally {
      this.#dispatching.delete(run.run_id);
    }
  }

  /**
   * True while a run of the agent executes here, or a recovered one waits here for the overlap
   * lease: the older run goes first, so this process's newer ticks of the agent (skipped, or
   * queued behind it) cannot take the lease each time it is free and starve the retry.
   */
  #busyHere(agentId: string): boolean {
    if (this.runningCount(agentId) > 0) return true;
    for (const resuming of this.#resuming.values())
      if (resuming.run.agent_id === agentId) return true;
    return false;
  }

  /** Waits for the runs of the agent executing here whose records say they have ended. */
  async #settleEnded(agentId: string): Promise<void> {
    const handles = [...(this.#running.get(agentId)?.values() ?? [])];
    await Promise.all(
      handles.map(async (handle) => {
        const record = await this.#context.store.runs.get(handle.run.run_id);
        if (record && isTerminal(record.status)) await handle.done.catch(() => undefined);
      }),
    );
    await this.#releasing.get(agentId)?.catch(() => undefined);
  }

  /** True while this process has the run: executing, queued, resumed or being dispatched. */
  #hasRun(runId: string): boolean {
    const here = this.#byRunId.has(runId) || this.#resuming.has(runId);
    return here || this.#dispatching.has(runId) || this.#queuedRun(runId) !== undefined;
  }

  async #dispatchUnderPolicy(agent: AgentRecord, run: RunRecord): Promise<RunRecord | undefined> {
    // A tick while one of the agent's windows is spent is skipped: no model call, nothing spent.
    if (run.trigger === 'schedule') {
      const { budgets, store } = this.#context;
      const spent = await budgets.spent(agent.definition, store.budgets);
      if (spent) {
        const skipped = await this.#transitions.skip(run, spent.reason);
        if (skipped) await budgets.exhausted(agent.agent_id, run.run_id, spent.payload);
        return skipped;
      }
    }
    // A replay runs beside the agent's runs: it is not one of its ticks.
    if (run.trigger === 'replay') return this.#claimAndStart(agent, run);
    const policy = agent.definition.overlap_policy;
    // A run waiting for a budget or a person counts as running under `skip` and `queue_one`: a
    // new tick would only wait too (or spend what the older run waits for).
    if ((policy === 'skip' || policy === 'queue_one') && mayWait(agent)) {
      const [waiting] = await this.#context.store.runs.list(agent.agent_id, {
        status: WAITING_STATUSES,
        limit: 1,
      });
      if (waiting)
        return this.#transitions.skip(
          run,
          `overlap: the previous run (${waiting.run_id}) is ${waiting.status}`,
        );
    }
    // A run of this process whose end is on the record is finishing: it goes first, so the
    // new run is not skipped for overlap with a run already seen to have ended.
    if (this.#busyHere(agent.agent_id)) await this.#settleEnded(agent.agent_id);
    const busyLocally = this.#busyHere(agent.agent_id);

    if (policy === 'allow') return this.#claimAndStart(agent, run);

    if (policy === 'cancel_previous') {
      const previous = [...(this.#running.get(agent.agent_id)?.values() ?? [])];
      if (!(await this.#transitions.claim(run))) return undefined;
      for (const handle of previous)
        handle.controller.abort(abortReasons.cancelled(`cancelled by the newer run ${run.run_id}`));
      await Promise.allSettled(previous.map((handle) => handle.done));
      return this.#start(agent, run, undefined);
    }

    if (!busyLocally) {
      await this.#releasing.get(agent.agent_id)?.catch(() => undefined);
      const claimed = await this.#claimLeased(agent.agent_id, run);
      if (claimed.outcome === 'claimed')
        return this.#start(agent, claimed.run, claimed.lease, new AbortController(), true);
      if (claimed.outcome === 'exists') return undefined;
    }

    if (
      policy === 'queue_one' &&
      !this.#queued.has(agent.agent_id) &&
      !this.#queueing.has(agent.agent_id)
    ) {
      // The slot is taken before the claim is awaited: ticks meanwhile are skipped, not queued too.
      this.#queueing.add(agent.agent_id);
      try {
        if (!(await this.#transitions.claim(run))) return undefined;
        this.#queue(agent, run);
        return run;
      } finally {
        this.#queueing.delete(agent.agent_id);
      }
    }
    // A run of this process is the holder when one is running here: no need to ask the store.
    const localRun = busyLocally
      ? this.#running.get(agent.agent_id)?.values().next().value?.run.run_id
      : undefined;
    const holder = localRun
      ? `${this.#context.instanceId}/${localRun}`
      : await this.#leases.holder(agent.agent_id);
    // Another process holds the lease for this very tick: it is dispatching it, between taking
    // the lease and claiming the run. Claiming it `skipped` here would skip the tick for overlap
    // with itself (and make that process's claim fail, so the tick would never run).
    if (holder?.endsWith(`/${run.run_id}`)) return undefined;
    const reason =
      policy === 'queue_one'
        ? 'overlap: a run is already running and another is queued'
        : `overlap: the previous run${holder ? ` (${holder})` : ''} is still running`;
    return this.#transitions.skip(run, reason);
  }

  /**
   * Continues an existing run record (recovery of an interrupted run that has retries left).
   * Under `skip` and `queue_one` it first waits for the agent's overlap lease, keeping the run's
   * own lease alive meanwhile: the run is this process's while it waits.
   */
  async resume(agent: AgentRecord, run: RunRecord): Promise<RunRecord> {
    const needsLease =
      agent.definition.overlap_policy === 'skip' || agent.definition.overlap_policy === 'queue_one';
    if (!needsLease) return this.#start(agent, run, undefined);
    const waiting = this.#resuming.get(run.run_id);
    if (waiting) {
      // Recovered again while it waits (its lease lapsed in a store outage): the newer record,
      // with the attempt recovery added, is the one to go on from.
      waiting.run = run;
      return run;
    }
    const controller = new AbortController();
    // Without a heartbeat, recovery would take the waiting run over again.
    const renew = keepRunHeld(this.#transitions, run.run_id, this.#context.leaseTtlMs, {
      onLost: () => controller.abort(abortReasons.leaseLost()),
      onError: (error) =>
        this.#hooks.onError(error, `renewing the lease of waiting run ${run.run_id}`),
    });
    // Registered before anything is awaited: a tick of the same run id from now on finds it here.
    const resuming: ResumingRun = { run, controller, waited: Promise.resolve(run) };
    this.#resuming.set(run.run_id, resuming);
    resuming.waited = this.#startWhenLeased(agent, resuming).finally(() => {
      clearInterval(renew);
      this.#resuming.delete(run.run_id);
      // A run queued behind the retry goes next (once the retry, if it started, has ended).
      this.#startQueued(agent.agent_id);
    });
    return resuming.waited;
  }

  /** Waits for the overlap lease of a resumed run, then starts it (unless shut down meanwhile). */
  async #startWhenLeased(agent: AgentRecord, resuming: ResumingRun): Promise<RunRecord> {
    const { run_id: runId } = resuming.run;
    // A dispatch of the same tick that began first ends at its claim, which the record fails.
    await this.#dispatching.get(runId)?.catch(() => undefined);
    const lease = await this.#waitForLease(agent.agent_id, runId, resuming.controller.signal);
    if (!lease) return resuming.run;
    // Shut down (or the run taken away) while the lease was being taken: it is not started.
    if (resuming.controller.signal.aborted || this.#closed) {
      await this.#release(lease);
      return resuming.run;
    }
    return this.#start(agent, resuming.run, lease, resuming.controller);
  }

  /** Cancels an agent's runs in this process (queued and executing); resolves when they have ended. */
  cancelAgentRuns(agentId: string, why: string): Promise<void> {
    return this.#endAgentRuns(agentId, abortReasons.cancelled(why));
  }

  /** Resolves once an agent's runs in this process (queued and executing) have ended on their own. */
  settleAgentRuns(agentId: string): Promise<void> {
    return this.#endAgentRuns(agentId, undefined);
  }

  /** Waits for an agent's runs in this process to end, aborting them first with `reason` if given. */
  async #endAgentRuns(agentId: string, reason: Error | undefined): Promise<void> {
    const queued = this.#queued.get(agentId);
    const runs = [...(queued ? [queued] : []), ...(this.#running.get(agentId)?.values() ?? [])];
    if (reason) for (const run of runs) run.controller.abort(reason);
    await Promise.allSettled(runs.map((run) => run.done));
  }

  /** Stops taking runs; waits up to `timeoutMs` for runs in flight, then interrupts them. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    for (const queued of this.#queued.values()) queued.controller.abort(abortReasons.shutdown());
    // A recovered run still waiting for its lease is left to the store: its lease runs out and
    // recovery (another process, or this one restarted) takes it up again.
    for (const resuming of this.#resuming.values())
      resuming.controller.abort(abortReasons.shutdown());
    const all = () => [
      ...this.handles().map((handle) => handle.done),
      ...[...this.#queued.values()].map((queued) => queued.done),
      ...[...this.#resuming.values()].map((resuming) => resuming.waited),
    ];
    if (!(await settledWithin(Promise.allSettled(all()), timeoutMs)))
      for (const handle of this.handles()) handle.controller.abort(abortReasons.shutdown());
    await Promise.allSettled(all());
    while (this.#aftermath.size > 0) await Promise.allSettled([...this.#aftermath]);
  }

  /**
   * Claims the run as running with the agent's overlap lease, in one store call; a lease whose
   * holder is known dead is freed and tried for once more.
   */
  async #claimLeased(agentId: string, run: RunRecord): Promise<LeasedRunClaim> {
    const request = this.#leases.request(agentId, run.run_id);
    const claimed = await this.#transitions.claimRunningLeased(run, request);
    if (claimed.outcome !== 'lease_held' || !(await this.#leases.freeIfOwnerDead(agentId)))
      return claimed;
    return this.#transitions.claimRunningLeased(run, request);
  }

  /** Claims the run as running (one write, not two) and starts it, under no overlap lease. */
  async #claimAndStart(agent: AgentRecord, run: RunRecord): Promise<RunRecord | undefined> {
    const running = await this.#transitions.claimRunning(run);
    return running && this.#start(agent, running, undefined, new AbortController(), true);
  }

  #start(
    agent: AgentRecord,
    run: RunRecord,
    lease: Lease | undefined,
    controller = new AbortController(),
    claimedRunning = false,
  ): RunRecord {
    const runs = this.#running.get(agent.agent_id) ?? new Map<string, RunHandle>();
    this.#running.set(agent.agent_id, runs);
    const holding = lease
      ? this.#leases.hold(agent.agent_id, run.run_id, lease, (holder) => {
          if (!controller.signal.aborted) controller.abort(abortReasons.overlapLost(holder));
        })
      : undefined;
    const executed = (async (): Promise<EndedRun> => {
      let ended: EndedRun | undefined;
      try {
        ended = await executeRun(this.#context, agent, run, controller.signal, {
          claimedRunning,
          // The terminal write gives the lease up with it.
          ...(holding ? { overlapLease: () => holding.handOver() } : {}),
        });
        return ended;
      } finally {
        runs.delete(run.run_id);
        this.#byRunId.delete(run.run_id);
        if (runs.size === 0) this.#running.delete(agent.agent_id);
        if (holding) {
          // A run dispatched meanwhile waits for this release rather than find the lease of a
          // run that has ended and be skipped for overlap with it.
          const released = holding.release(ended?.leaseReleased).finally(() => {
            if (this.#releasing.get(agent.agent_id) === released)
              this.#releasing.delete(agent.agent_id);
          });
          this.#releasing.set(agent.agent_id, released);
          await released;
        }
      }
    })();
    const done = executed.then((result) => result.run);
    // Its failure is reported through `after`; awaiting `done` is up to callers of completion().
    done.catch(() => undefined);
    const handle: RunHandle = { run, controller, done };
    runs.set(run.run_id, handle);
    this.#byRunId.set(run.run_id, handle);
    const after = executed.then(
      async (result) => {
        try {
          await this.#hooks.onRunEnded(agent.agent_id, result.run, result.agent);
        } catch (error) {
          this.#hooks.onError(error, `after run ${run.run_id}`);
        }
        this.#startQueued(agent.agent_id);
      },
      (error: unknown) => this.#hooks.onError(error, `run ${run.run_id}`),
    );
    // Shutdown waits for this too, so the stores stay open until the run's aftermath is recorded.
    this.#aftermath.add(after);
    void after.finally(() => this.#aftermath.delete(after));
    return { ...run, status: 'running' };
  }

  #queue(agent: AgentRecord, run: RunRecord): void {
    let settle!: (record: RunRecord) => void;
    const done = new Promise<RunRecord>((resolve) => {
      settle = resolve;
    });
    const queued: QueuedRun = { run, controller: new AbortController(), done, settle };
    this.#queued.set(agent.agent_id, queued);
    // A queued run is held by this process like a running one: keep its lease alive while it waits.
    const renew = keepRunHeld(this.#transitions, run.run_id, this.#context.leaseTtlMs, {
      active: () => this.#queued.get(agent.agent_id) === queued,
      onError: (error) =>
        this.#hooks.onError(error, `renewing the lease of queued run ${run.run_id}`),
    });
    void done.finally(() => clearInterval(renew));
    // Another process may hold the lease with nothing running here: wait for it in the background.
    if (this.runningCount(agent.agent_id) === 0) this.#startQueued(agent.agent_id);
  }

  #startQueued(agentId: string): void {
    const queued = this.#queued.get(agentId);
    if (!queued || this.#busyHere(agentId)) return;
    void (async () => {
      const agent = await this.#context.store.agents.get(agentId);
      const lease = await this.#waitForLease(agentId, queued.run.run_id, queued.controller.signal);
      if (this.#queued.get(agentId) !== queued) {
        if (lease) await this.#release(lease);
        return;
      }
      this.#queued.delete(agentId);
      if (!agent || !lease) {
        queued.settle(await this.#endUnstarted(agentId, queued.run, queued.controller.signal));
        return;
      }
      this.#start(agent, queued.run, lease, queued.controller);
      queued.settle(await (this.completion(queued.run.run_id) ?? Promise.resolve(queued.run)));
    })().catch((error: unknown) =>
      this.#hooks.onError(error, `starting the queued run of ${agentId}`),
    );
  }

  /** A queued run that never started ends cancelled or interrupted, on the record. */
  async #endUnstarted(agentId: string, run: RunRecord, signal: AbortSignal): Promise<RunRecord> {
    // Shutting down ends the wait for the lease without aborting the run's own signal.
    const reason: unknown =
      signal.aborted || !this.#closed ? signal.reason : abortReasons.shutdown();
    const ended = await this.#transitions.abandon(
      run,
      reason ?? abortReasons.cancelled('the agent was removed'),
    );
    await this.#hooks.onRunEnded(agentId, ended.run, ended.agent);
    return ended.run;
  }

  #waitForLease(agentId: string, runId: string, signal: AbortSignal): Promise<Lease | undefined> {
    return this.#leases.waitFor(agentId, runId, signal, () => this.#closed);
  }

  #release(lease: Lease): Promise<void> {
    return this.#leases.release(lease);
  }
}

/** Whether the agent's runs may stop to wait: for a budget (`on_exhausted: wait`), or a person. */
function mayWait(agent: AgentRecord): boolean {
  const { definition } = agent;
  return (
    definition.budget_config?.on_exhausted === 'wait' || approvalRulesOf(definition).length > 0
  );
}
