import type { MisfirePlan } from '../schedule/misfire.js';
import type { AgentRecord } from '../storage/contracts/agent-store.js';
import type { WorkerInfo } from './worker-info.js';

export type { WorkerInfo } from './worker-info.js';

/** A manual run requested in one process and delivered to whichever worker takes it. */
export interface ManualRunRequest {
  agent_id: string;
  run_id: string;
  query: string;
  requested_at: string;
}

/**
 * A waiting run that may go on (a grant, a decision): the next attempt, delivered to whichever
 * worker takes it, which wakes the run itself (a compare-and-set: once).
 */
export interface ResumeRequest {
  agent_id: string;
  run_id: string;
  /** The attempt that goes on from the journal (the attempts so far, plus one). */
  attempt: number;
}

/**
 * What the service did with a tick or manual run a scheduler delivered: `declined` when it is
 * shutting down and took nothing, so a distributed scheduler hands the job back to the queue.
 */
export type DeliveryOutcome = 'handled' | 'declined';

/** What a scheduler tells the service. */
export interface SchedulerTarget {
  /**
   * A tick is due: `scheduledAt` is its nominal time (jitter only delays when it fires).
   * Resolves once the tick's run, if this process started one, has ended; never rejects.
   */
  onTick(agentId: string, scheduledAt: Date): Promise<DeliveryOutcome>;
  /** A manual run delivered by a distributed scheduler; resolves once it has ended; never rejects. */
  onManual(request: ManualRunRequest): Promise<DeliveryOutcome>;
  /**
   * A waiting run's next attempt delivered by a distributed scheduler: wakes it here if it still
   * waits and may go on; resolves once the attempt has ended (the job holds a worker slot for
   * it); never rejects.
   */
  onResume(request: ResumeRequest): Promise<DeliveryOutcome>;
  /** Ticks passed without running (process down, machine asleep, paused, a late timer). */
  onMissed(agentId: string, missed: number, lastMissed: Date): void;
  /** The schedule has no more fire times (run_at done, end_at passed). */
  onFinished(agentId: string): void;
  /** Run ids executing in this process now (a distributed scheduler's worker registry shows them). */
  runningRuns(): string[];
  /** Every stored agent, read fresh (a distributed scheduler reconciles its schedules with them). */
  listAgents(): Promise<AgentRecord[]>;
}

/** What a scheduler may know of the service that builds it. */
export interface SchedulerContext {
  /** Names this process in run leases and attempts; a distributed scheduler registers its worker under it. */
  instanceId: string;
  /** How long a run's lease lasts without renewal; a distributed scheduler's job locks should agree. */
  leaseTtlMs: number;
  /** Where a scheduler reports what goes wrong in the background. */
  logger: {
    warn(object: object, message?: string): void;
    error(object: object, message?: string): void;
  };
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
  /**
   * Delivers a manual run. `queued`: a distributed scheduler put it on its queue, and whichever
   * worker takes it claims and runs it. `run_here`: this scheduler has no queue (in-process
   * timers); the caller runs the request itself.
   */
  enqueueManual(request: ManualRunRequest): Promise<'queued' | 'run_here'>;
  /**
   * Delivers a waiting run's next attempt. `queued`: a distributed scheduler put it on its queue
   * (once per run and attempt, whichever processes ask), and the worker that takes it, within
   * its concurrency, wakes and runs it. `run_here`: no queue; the caller wakes it itself.
   */
  enqueueResume(request: ResumeRequest): Promise<'queued' | 'run_here'>;
  /**
   * Delivers one tick (a catch-up, a `run_immediately` first run): a distributed scheduler queues
   * it for whichever worker takes it; the in-process scheduler calls `onTick` in the background.
   * Resolves once it is delivered, not when its run ends.
   */
  enqueueTick(agentId: string, scheduledAt: Date): Promise<void>;
  /** The worker processes a distributed scheduler knows of; empty for the in-process scheduler. */
  listWorkers(): Promise<WorkerInfo[]>;
  close(): Promise<void>;
}

/** Builds a scheduler for a service. */
export interface TickSchedulerFactory {
  (target: SchedulerTarget, now: () => Date, context: SchedulerContext): TickScheduler;
  /**
   * Builds the scheduler without its executing side (distributed schedulers): it schedules,
   * unschedules and enqueues, but runs nothing. The service uses it in processes that never
   * call `startManager()`, so that starting, pausing or running an agent from any process
   * reaches the workers at once.
   */
  producer?: (now: () => Date, context: SchedulerContext) => TickScheduler;
}
