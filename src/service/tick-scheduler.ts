import type { MisfirePlan } from '../schedule/index.js';
import type { AgentRecord } from '../storage/contracts/index.js';

/** What a scheduler tells the service. */
export interface SchedulerTarget {
  /** A tick is due: `scheduledAt` is its nominal time (jitter only delays when it fires). */
  onTick(agentId: string, scheduledAt: Date): void;
  /** Ticks passed without running (process down, machine asleep, paused, a late timer). */
  onMissed(agentId: string, missed: number, lastMissed: Date): void;
  /** The schedule has no more fire times (run_at done, end_at passed). */
  onFinished(agentId: string): void;
}

/**
 * Where ticks come from: the in-process timers, or a distributed engine. The store still
 * decides what runs (promises 1–3), whatever a scheduler delivers.
 */
export interface TickScheduler {
  /**
   * (Re)arms an agent from its stored record. Returns the ticks missed since it last ran
   * (and, under `misfire_policy: run_once`, the one to catch up) for the service to record.
   */
  schedule(record: AgentRecord): Promise<MisfirePlan>;
  unschedule(agentId: string): Promise<void>;
  isScheduled(agentId: string): boolean;
  close(): Promise<void>;
}

/** Builds a scheduler for a service. */
export type TickSchedulerFactory = (target: SchedulerTarget, now: () => Date) => TickScheduler;
