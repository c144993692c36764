import type { EventLog, EventType } from '../storage/contracts/index.js';
import { abortableSleep } from './abortable-sleep.js';
import { trackSafely } from './agent-tracker.js';
import { expireBudgetGrants } from './budgets/budget-grants.js';
import { requestWake } from './waiting-runs.js';
import { recoverRuns } from './run-recovery.js';
import type { ServiceContext } from './service-context.js';
import { armTimedResume, resumeDuePauses } from './timed-pauses.js';

/** The events a manager follows: changes to agents, more budget, approval decisions. */
const FOLLOWED_EVENT_TYPES: readonly EventType[] = [
  'background_agent_status',
  'budget_granted',
  'approval_decided',
];

/** How long starting a manager waits for its change feed to fix its starting point. */
const FOLLOW_START_TIMEOUT_MS = 5_000;

/**
 * Keeps a manager in line with changes made by any process (promise 6). Every acknowledged
 * change (create, start, pause, resume, stop, update, delete) is announced in the event log as
 * `background_agent_status`; the log reaches every process sharing it within moments (Postgres
 * LISTEN/NOTIFY, Redis streams, SQLite polling), so a change made anywhere applies here at once.
 * The periodic sync stays the safety net, and also recovers runs whose lease expired.
 */
export class ChangeFollower {
  readonly #context: ServiceContext;
  /** Per agent, the change being applied now: changes to one agent apply one at a time, in order. */
  readonly #agentChanges = new Map<string, Promise<void>>();
  #unsubscribe: (() => void) | undefined;
  #syncTimer: NodeJS.Timeout | undefined;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  /** Follows the event log; resolves once it listens (or gave up waiting for it to say so). */
  async follow(log: EventLog): Promise<void> {
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    this.#unsubscribe = log.subscribe(
      (event) => {
        if (this.#context.shuttingDown) return;
        if (event.type === 'budget_granted' || event.type === 'approval_decided') {
          // More budget, or a decision, made by any process: runs waiting for it may go on.
          this.#context.background(requestWake(this.#context), `waking runs after ${event.type}`);
          return;
        }
        if (event.type !== 'background_agent_status') return;
        const agentId = event.agent_id;
        this.#context.background(
          this.inAgentOrder(agentId, () => this.#applyStoredChange(agentId)),
          `following a change of ${agentId}`,
        );
      },
      { types: FOLLOWED_EVENT_TYPES, onReady: () => ready() },
    );
    // A log that cannot say where it starts (its server is down) must not hold up the start:
    // the periodic sync covers what it misses.
    const gaveUp = new AbortController();
    await Promise.race([started, abortableSleep(FOLLOW_START_TIMEOUT_MS, gaveUp.signal)]);
    gaveUp.abort();
  }

  /** Starts the periodic sync. */
  startSync(): void {
    this.#syncTimer = setInterval(
      () => this.#context.background(this.#sync(), 'sync'),
      this.#context.syncIntervalMs,
    );
    this.#syncTimer.unref();
  }

  /** Stops following and syncing. */
  stop(): void {
    clearInterval(this.#syncTimer);
    this.#unsubscribe?.();
  }

  /** Runs `work` after the changes of this agent already under way: one at a time, in order. */
  inAgentOrder(agentId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#agentChanges.get(agentId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.#agentChanges.set(agentId, next);
    void next
      .finally(() => {
        if (this.#agentChanges.get(agentId) === next) this.#agentChanges.delete(agentId);
      })
      .catch(() => undefined);
    return next;
  }

  /** Brings this manager in line with one agent's stored record, if it changed since last seen. */
  async #applyStoredChange(agentId: string): Promise<void> {
    const context = this.#context;
    if (context.shuttingDown) return;
    const { store } = await context.connect();
    const record = await store.agents.get(agentId);
    if (!record) {
      if (context.seenVersions.has(agentId)) await this.#dropDeleted(agentId);
      return;
    }
    if (context.seenVersions.get(agentId) === record.version) return;
    context.runtimes.forget(agentId);
    await trackSafely(context, record);
    // A timed pause made by any process: this manager resumes it on time.
    if (record.state === 'paused' && record.paused_until !== undefined)
      armTimedResume(context, record.paused_until);
  }

  /** Periodic: recover expired runs, follow agents changed by other processes, end timed pauses. */
  async #sync(): Promise<void> {
    const context = this.#context;
    if (context.shuttingDown) return;
    await expireBudgetGrants(context);
    await recoverRuns(context);
    const { store } = await context.connect();
    const records = await store.agents.list();
    const present = new Set<string>();
    for (const record of records) {
      present.add(record.agent_id);
      if (context.seenVersions.get(record.agent_id) !== record.version) {
        context.runtimes.forget(record.agent_id);
        await trackSafely(context, record);
      }
    }
    for (const agentId of [...context.seenVersions.keys()])
      if (!present.has(agentId)) await this.#dropDeleted(agentId);
    await resumeDuePauses(context, records);
  }

  /** An agent another process deleted: unscheduled here, its runs here cancelled. */
  async #dropDeleted(agentId: string): Promise<void> {
    const context = this.#context;
    context.seenVersions.delete(agentId);
    await context.scheduler?.unschedule(agentId);
    await context.dispatcher?.cancelAgentRuns(agentId, 'the agent was deleted');
  }
}
