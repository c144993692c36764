import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  jitterOffsetMs,
  planMisfire,
  type MisfirePlan,
  type Schedule,
} from '../../schedule/index.js';
import type { AgentRecord } from '../../storage/contracts/index.js';
import type { ManualRunRequest, ResumeRequest } from '../tick-scheduler.js';
import { repeatOptions } from './repeat-options.js';
import {
  runAtOf,
  scheduleOfSnapshot,
  snapshotKey,
  snapshotOf,
  type ScheduleSnapshot,
} from './schedule-snapshot.js';
import type { SchedulerKeys } from './scheduler-keys.js';
import type { TickCursor } from './tick-cursor.js';
import {
  MANUAL_JOB_NAME,
  manualJobId,
  ONE_OFF_TICK_OPTIONS,
  RESUME_JOB_NAME,
  resumeJobId,
  TICK_JOB_NAME,
  tickJobId,
  TRANSIENT_JOB_OPTIONS,
  type NightshiftJobData,
  type TickJobData,
} from './tick-jobs.js';

/** Attempts at recording a misfire plan against other processes doing the same. */
const PLAN_ATTEMPTS = 8;

/** What {@link JobSchedules} works with. */
export interface JobSchedulesOptions {
  /** The queue, once BullMQ is loaded. */
  queue: Promise<Queue<NightshiftJobData>>;
  /** The scheduler's own connection, once ioredis is loaded. */
  redis: Promise<Redis>;
  keys: SchedulerKeys;
  cursor: TickCursor;
  now: () => Date;
  /** Told when an agent's schedule has no more fire times (the executing side only). */
  onFinished: ((agentId: string) => void) | undefined;
}

/**
 * The producer side of the BullMQ scheduler: each active interval or cron agent is a BullMQ job
 * scheduler (id: the agent id) that makes one delayed job per fire time; a `run_at` agent, a
 * catch-up and a manual run are one job each, with an id that makes them one job cluster-wide.
 */
export class JobSchedules {
  readonly #options: JobSchedulesOptions;
  /** Agents this process has scheduled (BullMQ knows the cluster-wide truth). */
  readonly #scheduled = new Set<string>();
  /** The latest snapshot this process scheduled per agent, for the one-off ticks it enqueues. */
  readonly #snapshots = new Map<string, { snapshot: ScheduleSnapshot; version: number }>();

  constructor(options: JobSchedulesOptions) {
    this.#options = options;
  }

  /**
   * Makes BullMQ fire the agent's ticks. Nothing changes when its job scheduler (or `run_at`
   * job) already matches the record: every process calls this for every agent it tracks.
   * When it is (re)created, the ticks since the last one dealt with cluster-wide are planned
   * (missed, or one caught up) by exactly one process, through the cursor.
   */
  async schedule(record: AgentRecord): Promise<MisfirePlan> {
    const queue = await this.#options.queue;
    const agentId = record.agent_id;
    const snapshot = snapshotOf(record);
    this.#scheduled.add(agentId);
    this.#snapshots.set(agentId, { snapshot, version: record.version });
    const nothing: MisfirePlan = { missed: 0, resumeAfter: this.#options.now() };

    const runAt = runAtOf(snapshot);
    const existing =
      runAt === undefined
        ? (await queue.getJobScheduler(agentId))?.template?.data
        : (await queue.getJob(tickJobId(agentId, runAt)))?.data;
    const current = existing?.kind === 'tick' ? existing : undefined;
    if (current?.schedule && snapshotKey(current.schedule) === snapshotKey(snapshot))
      return nothing;
    // A process that has not yet seen the newest version must not undo it.
    if (current && current.version > record.version) return nothing;

    const schedule = scheduleOfSnapshot(snapshot);
    const plan = await this.#planOnce(record, schedule);
    await this.#removeJobs(queue, agentId);
    const after = plan.catchUp && plan.catchUp > plan.resumeAfter ? plan.catchUp : plan.resumeAfter;
    const next = schedule.next(after);
    if (!next) {
      this.#scheduled.delete(agentId);
      this.#options.onFinished?.(agentId);
      return plan;
    }
    const data: TickJobData = {
      kind: 'tick',
      agent_id: agentId,
      version: record.version,
      schedule: snapshot,
    };
    if (runAt !== undefined) {
      const due = next.getTime() + jitterOffsetMs(agentId, next, snapshot.jitter);
      const jobId = tickJobId(agentId, next);
      // Remembered, so that whichever process unschedules the agent can remove the job.
      await (await this.#options.redis).set(this.#options.keys.oneShot(agentId), jobId);
      await queue.add(
        TICK_JOB_NAME,
        { ...data, scheduled_at: next.toISOString() },
        { ...ONE_OFF_TICK_OPTIONS, jobId, delay: Math.max(0, due - Date.now()) },
      );
      return plan;
    }
    await queue.upsertJobScheduler(agentId, repeatOptions(snapshot, next), {
      name: TICK_JOB_NAME,
      data,
      opts: TRANSIENT_JOB_OPTIONS,
    });
    return plan;
  }

  /**
   * Plans the ticks in (last dealt with, now] as the local scheduler would, and moves the cursor
   * past them with a compare-and-set: of several processes (re)scheduling an agent at once,
   * one records the plan and the others find nothing left to plan.
   */
  async #planOnce(record: AgentRecord, schedule: Schedule): Promise<MisfirePlan> {
    const { cursor, now: clock } = this.#options;
    const stored = record.stats.last_scheduled_at ?? record.anchor_at;
    for (let attempt = 0; attempt < PLAN_ATTEMPTS; attempt += 1) {
      const now = clock();
      const held = await cursor.read(record.agent_id);
      const candidates = [stored ? Date.parse(stored) : NaN, held ? Number(held) : NaN].filter(
        (value) => Number.isFinite(value),
      );
      const last = candidates.length > 0 ? new Date(Math.max(...candidates)) : undefined;
      const plan = planMisfire({
        schedule,
        lastScheduledAt: last,
        now,
        policy: record.definition.misfire_policy,
        graceSeconds: record.definition.misfire_grace,
      });
      const through = Math.max(plan.resumeAfter.getTime(), plan.catchUp?.getTime() ?? 0);
      if (held !== '' && Number(held) >= through)
        return { missed: 0, resumeAfter: plan.resumeAfter };
      if (await cursor.compareAndSet(record.agent_id, held, through)) return plan;
    }
    return { missed: 0, resumeAfter: clock() };
  }

  /** Removes whatever fires the agent's ticks (a job scheduler and its next job, a `run_at` job). */
  async #removeJobs(queue: Queue<NightshiftJobData>, agentId: string): Promise<void> {
    const { keys } = this.#options;
    const redis = await this.#options.redis;
    await queue.removeJobScheduler(agentId);
    const pointer = keys.oneShot(agentId);
    const oneShot = await redis.get(pointer);
    if (!oneShot) return;
    await redis.del(pointer);
    // A job being processed is locked and stays; its tick is dealt with like any other.
    await queue.remove(oneShot).catch(() => 0);
  }

  /** Stops the agent's ticks cluster-wide. */
  async unschedule(agentId: string): Promise<void> {
    this.forget(agentId);
    await this.#removeJobs(await this.#options.queue, agentId);
  }

  /** Forgets the agent in this process only (its jobs stay in BullMQ). */
  forget(agentId: string): void {
    this.#scheduled.delete(agentId);
    this.#snapshots.delete(agentId);
  }

  /** Whether this process has scheduled the agent. */
  isScheduled(agentId: string): boolean {
    return this.#scheduled.has(agentId);
  }

  /** Adds a one-off tick (a catch-up, a first run at start); its job id makes it one job cluster-wide. */
  async enqueueTick(agentId: string, scheduledAt: Date): Promise<void> {
    const queue = await this.#options.queue;
    const known = this.#snapshots.get(agentId);
    const jitter = known ? jitterOffsetMs(agentId, scheduledAt, known.snapshot.jitter) : 0;
    const data: TickJobData = {
      kind: 'tick',
      agent_id: agentId,
      version: known?.version ?? 0,
      scheduled_at: scheduledAt.toISOString(),
    };
    if (known) data.schedule = known.snapshot;
    await queue.add(TICK_JOB_NAME, data, {
      ...ONE_OFF_TICK_OPTIONS,
      jobId: tickJobId(agentId, scheduledAt),
      delay: Math.max(0, scheduledAt.getTime() + jitter - Date.now()),
    });
  }

  /** Queues a manual run for whichever worker takes it. */
  async enqueueManual(request: ManualRunRequest): Promise<void> {
    const queue = await this.#options.queue;
    await queue.add(
      MANUAL_JOB_NAME,
      { kind: 'manual', request },
      { ...TRANSIENT_JOB_OPTIONS, jobId: manualJobId(request.run_id) },
    );
  }

  /**
   * Queues a waiting run's next attempt. Its job id is the run's and the attempt's, so managers
   * hearing the same grant or decision while it waits add one job; one added after it ran finds
   * the run woken already, and does nothing.
   */
  async enqueueResume(request: ResumeRequest): Promise<void> {
    const queue = await this.#options.queue;
    await queue.add(
      RESUME_JOB_NAME,
      { kind: 'resume', request },
      { ...TRANSIENT_JOB_OPTIONS, jobId: resumeJobId(request.run_id, request.attempt) },
    );
  }
}
