import {
  spendPeriodOf,
  type AgentRecord,
  type AttemptRecord,
  type ErrorInfo,
  type Lease,
  type LeaseRequest,
  type RunCondition,
  type RunPatch,
  type RunRecord,
  type RunStatus,
  type StatsDelta,
  type Store,
  type Usage,
  type WaitingStatus,
} from '../../storage/contracts/index.js';
import type { EventPublisher } from '../event-publisher.js';
import { decisionPayload } from '../approvals/decision-event.js';
import { endingOnAbort } from './abort-reasons.js';

/** What the transitions of a run need: the guarded store, the publisher, the clock and this process's lease. */
export interface TransitionContext {
  store: Store;
  events: EventPublisher;
  now: () => Date;
  /** The lease owner this process writes its runs under. */
  instanceId: string;
  leaseTtlMs: number;
}

/** A run that reached its terminal state, and the agent's record once its stats took the run in. */
export interface EndedRun {
  run: RunRecord;
  /** Undefined when the agent is gone. */
  agent: AgentRecord | undefined;
  /** True when the terminal write gave up the run's overlap lease with it. */
  leaseReleased?: boolean;
}

/** What claiming a tick's run with the agent's overlap lease came to. */
export type LeasedRunClaim =
  { outcome: 'claimed'; run: RunRecord; lease: Lease } | { outcome: 'exists' | 'lease_held' };

/** How a run ends, besides its status: what the terminal write records. */
interface Ending {
  status: RunStatus;
  error: ErrorInfo | null;
  output?: string | null;
  /** The answer parsed (`task_config.output_schema`); null without a schema or an answer. */
  output_json?: unknown;
  usage?: Usage;
  attempts?: AttemptRecord[];
}

/** What a failed attempt (or an interrupted one, found by recovery) reports. */
export interface AttemptFailure {
  error: ErrorInfo;
  attempt: number;
  willRetry: boolean;
  status: RunStatus;
}

/**
 * The one rule for a run's `duration_ms`: from `started_at` to its end when it started, 0 when it
 * never did (skipped, or cancelled or interrupted while it waited); never negative.
 */
export function runDurationMs(run: Pick<RunRecord, 'started_at'>, endedAt: Date): number {
  if (!run.started_at) return 0;
  return Math.max(0, endedAt.getTime() - Date.parse(run.started_at));
}

/**
 * Every change of a run's status lives here: claim, start, retry, finish, skip, cancel,
 * interrupt, abandon, and recovery's take-over. Each is one compare-and-set on the run record —
 * an insert-if-absent for a claim, else fenced by the lease owner (and status) — followed by the
 * agent's stats and the run's event, in that order, so whoever hears the event reads the stats
 * it reports. A run's busiest moments are one store call each (`store.phases`): a tick's claim
 * with the agent's overlap lease, and an end with the stats and the lease's release. A transition that lost its fence (another process holds the run, or it is gone)
 * returns undefined and writes nothing more. The duration of every ended run follows
 * {@link runDurationMs}; a run of a scheduled tick, once ended, counts its tick as dealt with
 * (`last_scheduled_at`).
 */
export class RunTransitions {
  readonly #context: TransitionContext;

  constructor(context: TransitionContext) {
    this.#context = context;
  }

  /** The instant a lease taken or renewed now expires. */
  leaseExpiry(): string {
    return new Date(this.#context.now().getTime() + this.#context.leaseTtlMs).toISOString();
  }

  /** Claims a tick's run as it is (`pending`); false when its run id was claimed already. */
  claim(run: RunRecord): Promise<boolean> {
    return this.#context.store.runs.claim(run);
  }

  /** Claims a tick's run as `running` (one write, not two); undefined when it was claimed already. */
  async claimRunning(run: RunRecord): Promise<RunRecord | undefined> {
    const running = this.#running(run);
    return (await this.claim(running)) ? running : undefined;
  }

  /**
   * Claims a tick's run as `running` and takes the agent's overlap lease with it, in one store
   * call: nothing is written when the run id was claimed already (`exists`) or another run
   * holds the lease (`lease_held`).
   */
  async claimRunningLeased(run: RunRecord, lease: LeaseRequest): Promise<LeasedRunClaim> {
    const running = this.#running(run);
    const claimed = await this.#context.store.phases.claimLeased(running, lease);
    return claimed.outcome === 'claimed'
      ? { outcome: 'claimed', run: running, lease: claimed.lease }
      : claimed;
  }

  #running(run: RunRecord): RunRecord {
    return { ...run, status: 'running', started_at: this.#context.now().toISOString() };
  }

  /** Claims a tick's run as `skipped` with its reason; undefined when it was claimed already. */
  async skip(run: RunRecord, reason: string): Promise<RunRecord | undefined> {
    const skipped: RunRecord = {
      ...run,
      status: 'skipped',
      skip_reason: reason,
      ended_at: this.#context.now().toISOString(),
      lease_owner: null,
      lease_expires_at: null,
    };
    if (!(await this.claim(skipped))) return undefined;
    await this.#context.store.agents.updateStats(run.agent_id, {
      skipped: 1,
      ...this.#tickOf(run),
    });
    await this.#context.events.publish('background_task_skipped', run.agent_id, run.run_id, {
      scheduled_at: run.scheduled_at,
      reason,
    });
    return skipped;
  }

  /** A claimed run of this process starts (`running`, from `startedAt`). */
  start(runId: string, startedAt: string): Promise<RunRecord | undefined> {
    return this.#held(runId, {
      status: 'running',
      started_at: startedAt,
      lease_expires_at: this.leaseExpiry(),
    });
  }

  /** Renews this process's lease on a run it holds (running, queued, or waiting to resume). */
  heartbeat(runId: string): Promise<RunRecord | undefined> {
    return this.#held(runId, { lease_expires_at: this.leaseExpiry() });
  }

  /** Records the attempts so far of a run of this process that goes on with another attempt. */
  retry(runId: string, attempts: AttemptRecord[], usage: Usage): Promise<RunRecord | undefined> {
    return this.#held(runId, {
      attempts: [...attempts],
      usage,
      lease_expires_at: this.leaseExpiry(),
    });
  }

  /** Says that an attempt failed (`background_task_error`), and whether another follows. */
  async attemptFailed(run: RunRecord, failure: AttemptFailure): Promise<void> {
    await this.#context.events.publish('background_task_error', run.agent_id, run.run_id, {
      error: failure.error,
      attempt: failure.attempt,
      will_retry: failure.willRetry,
      status: failure.status,
    });
  }

  /**
   * A run of this process ends after its attempts: `completed` (with `background_task_completed`),
   * or the status of its last attempt (its `background_task_error` is published after this write).
   */
  async finish(
    run: RunRecord,
    outcome: Required<Omit<Ending, 'attempts' | 'output_json'>> &
      Pick<Ending, 'output_json'> & { attempts: AttemptRecord[] },
    release?: Lease,
  ): Promise<EndedRun | undefined> {
    const endedAt = this.#context.now();
    const ended = await this.#end(
      run,
      outcome,
      { lease_owner: this.#context.instanceId },
      endedAt,
      release,
    );
    if (ended && outcome.status === 'completed') {
      await this.#context.events.publish('background_task_completed', run.agent_id, run.run_id, {
        output: outcome.output ?? '',
        output_json: outcome.output_json ?? null,
        duration_ms: runDurationMs(run, endedAt),
        usage: outcome.usage,
      });
    }
    return ended;
  }

  /**
   * Ends a run another process holds (another manager, a BullMQ worker) `cancelled`, taking it
   * from its holder as recovery takes a run over; the holder's next fenced write finds it gone.
   */
  async cancel(run: RunRecord, why: string): Promise<EndedRun | undefined> {
    const error: ErrorInfo = { code: 'cancelled', message: why };
    const ended = await this.#end(
      run,
      { status: 'cancelled', error },
      { lease_owner: run.lease_owner, status: [run.status] },
    );
    if (ended) {
      await this.attemptFailed(run, {
        error,
        attempt: Math.max(1, run.attempts.length + (run.status === 'running' ? 1 : 0)),
        willRetry: false,
        status: 'cancelled',
      });
    }
    return ended;
  }

  /**
   * A run of this process stops to wait (`awaiting_budget`, `awaiting_approval`): its attempts
   * so far recorded (the last one stopped by what it waits for), its lease given up, so no
   * process holds it until {@link wake}. `background_task_waiting` says why and until when.
   */
  async suspend(
    run: RunRecord,
    waiting: { status: WaitingStatus; attempts: AttemptRecord[]; usage: Usage; error: ErrorInfo },
  ): Promise<RunRecord | undefined> {
    const suspended = await this.#context.store.runs.update(
      run.run_id,
      {
        status: waiting.status,
        error: waiting.error,
        attempts: [...waiting.attempts],
        usage: waiting.usage,
        lease_owner: null,
        lease_expires_at: null,
      },
      { lease_owner: this.#context.instanceId },
    );
    if (!suspended) return undefined;
    await this.#context.events.publish('background_task_waiting', run.agent_id, run.run_id, {
      status: waiting.status,
      attempt: waiting.attempts.length,
      error: waiting.error,
      until: waiting.error.budget?.resets_at ?? waiting.error.approval?.expires_at ?? null,
    });
    return suspended;
  }

  /**
   * Takes a waiting run up again: a compare-and-set from waiting, held by nobody, to running
   * under this process's lease, so one process wakes it, once. Its next attempt goes on from
   * its journal.
   */
  wake(run: RunRecord): Promise<RunRecord | undefined> {
    return this.#context.store.runs.update(
      run.run_id,
      {
        status: 'running',
        error: null,
        lease_owner: this.#context.instanceId,
        lease_expires_at: this.leaseExpiry(),
      },
      { status: [run.status], lease_owner: null },
    );
  }

  /**
   * A waiting run ends without going on: `budget_exceeded` when a person denies it more budget
   * (`cancelled` when its agent is stopped), with the error it waited on and why it ends.
   */
  async endWaiting(
    run: RunRecord,
    status: 'budget_exceeded' | 'cancelled',
    error: ErrorInfo,
  ): Promise<EndedRun | undefined> {
    const ended = await this.#end(
      run,
      { status, error },
      { status: [run.status], lease_owner: null },
    );
    if (ended) {
      await this.attemptFailed(run, {
        error,
        attempt: Math.max(1, run.attempts.length),
        willRetry: false,
        status,
      });
    }
    return ended;
  }

  /**
   * Takes over a run whose lease expired (its process died): a compare-and-set on its lease, so
   * one process recovers it, once. Its tick counts as dealt with from now on (it has a run).
   */
  async takeOver(run: RunRecord, ownerDead = false): Promise<EndedRun | undefined> {
    const { store, instanceId, now } = this.#context;
    // The owner known dead: its lease need not have run out, only not have been renewed since
    // it was read (a renewal would say the owner lives after all).
    const expiredAt =
      ownerDead && run.lease_expires_at ? run.lease_expires_at : now().toISOString();
    const taken = await store.runs.update(
      run.run_id,
      { lease_owner: instanceId, lease_expires_at: this.leaseExpiry() },
      { lease_owner: run.lease_owner, status: [run.status], lease_expired_at: expiredAt },
    );
    if (!taken) return undefined;
    const agent =
      run.trigger === 'schedule'
        ? await store.agents.updateStats(run.agent_id, { scheduled_at: run.scheduled_at })
        : await store.agents.get(run.agent_id);
    return { run: taken, agent };
  }

  /**
   * A run taken over by recovery ends `interrupted`: its process stopped before it finished.
   * `usage` is the run's, with what the dead attempt's journal recorded.
   */
  async interrupt(
    run: RunRecord,
    failure: Omit<AttemptFailure, 'willRetry' | 'status'>,
    attempts: AttemptRecord[],
    usage: Usage = run.usage,
  ): Promise<EndedRun | undefined> {
    const ended = await this.#end(
      run,
      { status: 'interrupted', error: failure.error, attempts, usage },
      { lease_owner: this.#context.instanceId },
    );
    if (ended)
      await this.attemptFailed(run, { ...failure, willRetry: false, status: 'interrupted' });
    return ended;
  }

  /**
   * A run this process queued ends without having started, stopped by `reason`: `cancelled`, or
   * `interrupted` when the service shut down under it. No event: it never started.
   */
  async abandon(run: RunRecord, reason: unknown): Promise<EndedRun> {
    const { status, error } = endingOnAbort(reason);
    const ended = await this.#end(
      run,
      { status, error },
      { lease_owner: this.#context.instanceId },
    );
    // Taken from this process meanwhile (or gone): the record says what became of it.
    return ended ?? { run: { ...run, status, error }, agent: undefined };
  }

  /**
   * The terminal write under `condition` (the run's lease given up with it), then the agent's
   * stats and the release of the overlap lease `release`, if given: one store call.
   */
  async #end(
    run: RunRecord,
    ending: Ending,
    condition: RunCondition,
    endedAt = this.#context.now(),
    release?: Lease,
  ): Promise<EndedRun | undefined> {
    const { store } = this.#context;
    const patch: RunPatch = {
      status: ending.status,
      error: ending.error,
      ended_at: endedAt.toISOString(),
      lease_owner: null,
      lease_expires_at: null,
    };
    if (ending.output !== undefined) patch.output = ending.output;
    if (ending.output_json !== undefined) patch.output_json = ending.output_json;
    if (ending.usage) patch.usage = ending.usage;
    if (ending.attempts) patch.attempts = ending.attempts;
    // A replay is not one of the agent's runs: its counts, errors and auto-pause leave it out.
    const stats = run.trigger === 'replay' ? undefined : await this.#statsOf(run, ending, endedAt);
    const written = await store.phases.end(run.run_id, patch, condition, {
      ...(stats ? { stats: { agent_id: run.agent_id, delta: stats } } : {}),
      ...(release ? { release } : {}),
    });
    if (!written.run) return undefined;
    if (run.status === 'awaiting_approval') await this.#closeApprovals(run, ending);
    return { run: written.run, agent: written.agent, leaseReleased: written.released };
  }

  /** What the run's end adds to its agent's counters. */
  async #statsOf(run: RunRecord, ending: Ending, endedAt: Date): Promise<StatsDelta> {
    const usage = ending.usage ?? run.usage;
    const cost = await this.#costOf(run.agent_id, usage, endedAt);
    return {
      run: {
        status: ending.status,
        ended_at: endedAt.toISOString(),
        duration_ms: runDurationMs(run, endedAt),
        total_tokens: usage.total_tokens,
        error: ending.error,
        ...(cost ? { cost } : {}),
      },
      ...this.#tickOf(run),
    };
  }

  /**
   * What an ended run adds to its agent's spend: its cost, and the day and month it ended in, in
   * the agent's `timezone` (UTC without one). Undefined for a run without a cost, which reads
   * nothing more; a priced run reads its agent's definition for the zone.
   */
  async #costOf(
    agentId: string,
    usage: Usage,
    endedAt: Date,
  ): Promise<{ usd: number; day: string; month: string } | undefined> {
    if (usage.cost_usd === undefined) return undefined;
    const agent = await this.#context.store.agents.get(agentId);
    return { usd: usage.cost_usd, ...spendPeriodOf(endedAt, agent?.definition.timezone) };
  }

  /**
   * A run that ended while it waited for a person leaves nothing for them to decide: each of its
   * pending approvals is recorded `denied` by `nightshift`, saying why the run ended.
   */
  async #closeApprovals(run: RunRecord, ending: Ending): Promise<void> {
    const { store, events, now } = this.#context;
    for (const record of await store.approvals.list({ run_id: run.run_id, state: 'pending' })) {
      const closed = await store.approvals.decide(record.approval_id, {
        state: 'denied',
        decided_by: 'nightshift',
        decided_at: now().toISOString(),
        note: `the run ended ${ending.status}${ending.error ? `: ${ending.error.message}` : ''}`,
        edited_arguments: null,
      });
      if (closed)
        await events.publish('approval_decided', run.agent_id, run.run_id, decisionPayload(closed));
    }
  }

  /** A write to a run this process holds. */
  #held(runId: string, patch: RunPatch): Promise<RunRecord | undefined> {
    return this.#context.store.runs.update(runId, patch, {
      lease_owner: this.#context.instanceId,
    });
  }

  /** The stats change saying a scheduled run's tick was dealt with. */
  #tickOf(run: RunRecord): { scheduled_at?: string } {
    return run.trigger === 'schedule' ? { scheduled_at: run.scheduled_at } : {};
  }
}
