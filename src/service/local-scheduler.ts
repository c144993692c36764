import type { AgentDefinition } from '../config/agent-definition.js';
import { errorMessage } from '../errors.js';
import {
  jitterOffsetMs,
  planMisfire,
  scheduleOf,
  type MisfirePlan,
  type Schedule,
} from '../schedule/index.js';
import type { AgentRecord } from '../storage/contracts/index.js';
import { ownsAgent, type Partition } from './partition.js';
import type {
  ManualRunRequest,
  ResumeRequest,
  SchedulerContext,
  SchedulerTarget,
  TickScheduler,
  WorkerInfo,
} from './tick-scheduler.js';

/** Longest single timer Node.js keeps (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  /** Of the definition, only what timing needs: an idle fleet keeps no definitions here. */
  jitter: AgentDefinition['jitter'];
  misfireGrace: AgentDefinition['misfire_grace'];
  schedule: Schedule;
  /** The newest tick dealt with. */
  cursor: Date;
  next: Date | undefined;
  /** When the timer for `next` is due: `next` plus its jitter. */
  fireAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The in-process scheduler: one timer per active agent, armed for the next fire time computed
 * from the schedule (never by adding to the last one, so it does not drift). With a `partition`
 * (one of N managers on a store), only the agents of its share: the others are left to the
 * managers owning them, which hear of every change through the event log.
 */
export class LocalScheduler implements TickScheduler {
  readonly #entries = new Map<string, Entry>();
  readonly #target: SchedulerTarget;
  readonly #now: () => Date;
  readonly #logger: SchedulerContext['logger'] | undefined;
  readonly #partition: Partition | undefined;

  /**
   * `context`: where a tick delivered by `enqueueTick` reports its failure (default: nowhere).
   * `partition`: this manager's share of the agents (default: all of them).
   */
  constructor(
    target: SchedulerTarget,
    now: () => Date,
    context?: SchedulerContext,
    partition?: Partition,
  ) {
    this.#target = target;
    this.#now = now;
    this.#logger = context?.logger;
    this.#partition = partition;
  }

  /**
   * (Re)arms an agent from its record. Ticks after `stats.last_scheduled_at` (or the anchor)
   * that already passed are missed; under `misfire_policy: run_once` the newest one within
   * `misfire_grace` is to run once. Returns that plan for the caller to record and dispatch.
   * An agent of another partition is not armed, and nothing is missed or caught up here: its
   * owner does that.
   */
  async schedule(record: AgentRecord): Promise<MisfirePlan> {
    const previous = this.#entries.get(record.agent_id);
    this.#disarm(record.agent_id);
    if (!ownsAgent(this.#partition, record.agent_id))
      return { missed: 0, resumeAfter: this.#now() };
    const schedule = scheduleOf(record);
    const storedValue = record.stats.last_scheduled_at ?? record.anchor_at;
    const stored = storedValue ? new Date(storedValue) : undefined;
    const last = previous && (!stored || previous.cursor > stored) ? previous.cursor : stored;
    const plan = planMisfire({
      schedule,
      lastScheduledAt: last,
      now: this.#now(),
      policy: record.definition.misfire_policy,
      graceSeconds: record.definition.misfire_grace,
    });
    const entry: Entry = {
      jitter: record.definition.jitter,
      misfireGrace: record.definition.misfire_grace,
      schedule,
      cursor: plan.catchUp && plan.catchUp > plan.resumeAfter ? plan.catchUp : plan.resumeAfter,
      next: undefined,
      fireAt: 0,
      timer: undefined,
    };
    this.#entries.set(record.agent_id, entry);
    this.#arm(record.agent_id, entry);
    return plan;
  }

  async unschedule(agentId: string): Promise<void> {
    this.#disarm(agentId);
  }

  #disarm(agentId: string): void {
    const entry = this.#entries.get(agentId);
    if (entry?.timer) clearTimeout(entry.timer);
    this.#entries.delete(agentId);
  }

  /** The next nominal fire time of a scheduled agent. */
  nextFireTime(agentId: string): Date | undefined {
    return this.#entries.get(agentId)?.next;
  }

  isScheduled(agentId: string): boolean {
    return this.#entries.has(agentId);
  }

  /** No queue here: the caller runs the manual run itself. */
  async enqueueManual(_request: ManualRunRequest): Promise<'run_here'> {
    return 'run_here';
  }

  /** No queue here: the caller wakes the waiting run itself. */
  async enqueueResume(_request: ResumeRequest): Promise<'run_here'> {
    return 'run_here';
  }

  /** Delivers the tick to this process's service in the background (dropped for another partition's agent). */
  async enqueueTick(agentId: string, scheduledAt: Date): Promise<void> {
    if (!ownsAgent(this.#partition, agentId)) return;
    this.#target
      .onTick(agentId, scheduledAt)
      .catch((error: unknown) =>
        this.#logger?.error(
          { err: errorMessage(error) },
          `nightshift: the tick of ${agentId} at ${scheduledAt.toISOString()} failed`,
        ),
      );
  }

  /** One process, no worker registry. */
  async listWorkers(): Promise<WorkerInfo[]> {
    return [];
  }

  async close(): Promise<void> {
    for (const agentId of [...this.#entries.keys()]) this.#disarm(agentId);
  }

  #arm(agentId: string, entry: Entry): void {
    const next = entry.schedule.next(entry.cursor);
    entry.next = next;
    if (!next) {
      this.#entries.delete(agentId);
      this.#target.onFinished(agentId);
      return;
    }
    const fireAt = next.getTime() + jitterOffsetMs(agentId, next, entry.jitter);
    entry.fireAt = fireAt;
    const delay = Math.min(Math.max(0, fireAt - this.#now().getTime()), MAX_TIMER_MS);
    entry.timer = setTimeout(() => this.#fire(agentId, entry), delay);
  }

  #fire(agentId: string, entry: Entry): void {
    if (this.#entries.get(agentId) !== entry) return;
    entry.timer = undefined;
    const now = this.#now();
    // Early wake-ups (long waits re-armed, timers a millisecond early, clock changes) re-arm.
    if (entry.fireAt > now.getTime()) return this.#arm(agentId, entry);
    // While the process is alive the newest due tick runs if it is within misfire_grace;
    // ticks before it (a machine asleep, a blocked event loop) are missed, never piled up.
    const plan = planMisfire({
      schedule: entry.schedule,
      lastScheduledAt: entry.cursor,
      now,
      policy: 'run_once',
      graceSeconds: entry.misfireGrace,
    });
    if (plan.missed > 0 && plan.lastMissed)
      this.#target.onMissed(agentId, plan.missed, plan.lastMissed);
    if (plan.catchUp) void this.#target.onTick(agentId, plan.catchUp);
    entry.cursor = plan.catchUp ?? plan.lastMissed ?? entry.cursor;
    if (plan.resumeAfter > entry.cursor) entry.cursor = plan.resumeAfter;
    this.#arm(agentId, entry);
  }
}
