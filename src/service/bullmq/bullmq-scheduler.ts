import type * as Bullmq from 'bullmq';
import type { Job, JobsOptions, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { errorMessage } from '../../errors.js';
import {
  jitterOffsetMs,
  parseIsoInstant,
  planMisfire,
  type MisfirePlan,
  type Schedule,
} from '../../schedule/index.js';
import type { AgentRecord } from '../../storage/contracts/index.js';
import type {
  ManualRunRequest,
  SchedulerContext,
  SchedulerTarget,
  TickScheduler,
  WorkerInfo,
} from '../tick-scheduler.js';
import type { ResolvedBullmqSchedulerOptions } from './bullmq-scheduler-options.js';
import {
  DEFAULT_MISFIRE_GRACE_SECONDS,
  scheduleOfSnapshot,
  snapshotKey,
  snapshotOf,
  type ScheduleSnapshot,
} from './schedule-snapshot.js';
import { schedulerKeys, type SchedulerKeys } from './scheduler-keys.js';
import { TickCursor } from './tick-cursor.js';
import {
  iterationMillis,
  MANUAL_JOB_NAME,
  manualJobId,
  TICK_JOB_NAME,
  tickJobId,
  type NightshiftJobData,
  type TickJobData,
} from './tick-jobs.js';
import { WorkerRegistry } from './worker-registry.js';

/** BullMQ, loaded on first use: importing it costs a few hundred milliseconds. */
type BullmqModule = typeof Bullmq;

/** What the scheduler builds once BullMQ is loaded. */
interface Engine {
  bullmq: BullmqModule;
  queue: Queue<NightshiftJobData>;
  /** Only on the executing side (a process that called `startManager()`). */
  worker: Worker<NightshiftJobData> | undefined;
}

/** Completed ticks leave Redis at once; failed jobs (a bug, not a run's failure) stay a while for inspection. */
const REMOVE_ON_FAIL = { age: 7 * 24 * 3600, count: 1_000 };
/**
 * One-off ticks stay completed for ten minutes: several processes enqueueing the same catch-up or
 * first run then add one job. (A later duplicate would be harmless: its run id is claimed.)
 */
const ONE_OFF_TICK_OPTIONS: JobsOptions = {
  removeOnComplete: { age: 600, count: 10_000 },
  removeOnFail: REMOVE_ON_FAIL,
};
/** Options of the jobs a job scheduler makes. */
const ITERATION_OPTIONS = { removeOnComplete: true, removeOnFail: REMOVE_ON_FAIL };
/** A jitter shorter than this is waited out in the processor rather than by a round trip to Redis. */
const INLINE_JITTER_MS = 50;
/** Attempts at recording a misfire plan against other processes doing the same. */
const PLAN_ATTEMPTS = 8;

/**
 * Ticks through BullMQ on Redis, for a fleet on many processes and machines.
 *
 * Each active interval or cron agent is a BullMQ job scheduler (id: the agent id) that makes one
 * delayed job per fire time; a `run_at` agent is one delayed job. Workers take the jobs and hand
 * them to their service, which claims the run (promise 1 holds through the store). A tick's
 * nominal time is the millis in its job id, snapped to the agent's schedule. Without a target,
 * the scheduler is the producer side only: it schedules and enqueues but executes nothing.
 */
export class BullmqScheduler implements TickScheduler {
  readonly #options: ResolvedBullmqSchedulerOptions;
  readonly #context: SchedulerContext;
  readonly #now: () => Date;
  readonly #target: SchedulerTarget | undefined;
  readonly #keys: SchedulerKeys;
  readonly #redis: Redis;
  readonly #cursor: TickCursor;
  readonly #registry: WorkerRegistry;
  readonly #engine: Promise<Engine>;
  /** Agents this process has scheduled (BullMQ knows the cluster-wide truth). */
  readonly #scheduled = new Set<string>();
  /** The latest snapshot this process scheduled per agent, for the one-off ticks it enqueues. */
  readonly #snapshots = new Map<string, { snapshot: ScheduleSnapshot; version: number }>();
  readonly #startedAt = new Date();
  readonly #timers: NodeJS.Timeout[] = [];
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(
    options: ResolvedBullmqSchedulerOptions,
    context: SchedulerContext,
    now: () => Date,
    target?: SchedulerTarget,
  ) {
    this.#options = options;
    this.#context = context;
    this.#now = now;
    this.#target = target;
    this.#keys = schedulerKeys(options.prefix, options.queueName);
    this.#redis = new Redis(options.url, {
      connectionName: `${options.prefix}:${options.queueName}:nightshift`,
      maxRetriesPerRequest: 5,
    });
    // Without a listener, an `error` event (every failed reconnect emits one) would throw.
    this.#redis.on('error', () => undefined);
    this.#cursor = new TickCursor(this.#redis, this.#keys.cursor);
    this.#registry = new WorkerRegistry(this.#redis, this.#keys.workers);
    this.#engine = this.#start();
    this.#engine.catch((error: unknown) => this.#report(error, 'starting the BullMQ scheduler'));
  }

  /** The lock and stalled-job settings in force (they follow the lease TTL unless set). */
  get lockSettings(): {
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
  } {
    const lockDurationMs = this.#options.lockDurationMs ?? this.#context.leaseTtlMs;
    return {
      lockDurationMs,
      stalledIntervalMs: this.#options.stalledIntervalMs ?? lockDurationMs,
      maxStalledCount: this.#options.maxStalledCount,
    };
  }

  async #start(): Promise<Engine> {
    const bullmq = await import('bullmq');
    const { url, queueName, prefix, concurrency } = this.#options;
    const queue = new bullmq.Queue<NightshiftJobData>(queueName, { connection: { url }, prefix });
    queue.on('error', (error) => this.#report(error, 'the BullMQ queue'));
    if (!this.#target || this.#closing) return { bullmq, queue, worker: undefined };
    const { lockDurationMs, stalledIntervalMs, maxStalledCount } = this.lockSettings;
    const worker = new bullmq.Worker<NightshiftJobData>(
      queueName,
      (job, token) => this.#process(bullmq, job, token),
      {
        connection: { url },
        prefix,
        concurrency,
        name: this.#context.instanceId,
        lockDuration: lockDurationMs,
        stalledInterval: stalledIntervalMs,
        maxStalledCount,
      },
    );
    worker.on('error', (error) => this.#report(error, 'the BullMQ worker'));
    const engine: Engine = { bullmq, queue, worker };
    this.#every('the worker heartbeat', this.#heartbeatIntervalMs(), () => this.#beat());
    this.#every('reconciliation', this.#options.reconcileIntervalMs, () =>
      this.#reconcileIfLeader(engine),
    );
    return engine;
  }

  /** Runs `work` now and then every `intervalMs` until close, reporting (not throwing) failures. */
  #every(what: string, intervalMs: number, work: () => Promise<void>): void {
    const run = () => void work().catch((error: unknown) => this.#report(error, what));
    const timer = setInterval(run, intervalMs);
    timer.unref();
    this.#timers.push(timer);
    run();
  }

  #heartbeatIntervalMs(): number {
    return (
      this.#options.heartbeatIntervalMs ??
      Math.max(100, Math.min(5_000, Math.floor(this.#context.leaseTtlMs / 3)))
    );
  }

  async #beat(): Promise<void> {
    if (this.#closing || !this.#target) return;
    await this.#registry.beat(
      this.#context.instanceId,
      this.#startedAt,
      this.#target.runningRuns(),
      this.#heartbeatIntervalMs(),
    );
  }

  #report(error: unknown, where: string): void {
    if (this.#closing && /Connection is closed/i.test(errorMessage(error))) return;
    this.#context.logger.error({ err: errorMessage(error) }, `nightshift: ${where} failed`);
  }

  // --- scheduling ----------------------------------------------------------------------------

  /**
   * Makes BullMQ fire the agent's ticks. Nothing changes when its job scheduler (or `run_at`
   * job) already matches the record: every process calls this for every agent it tracks.
   * When it is (re)created, the ticks since the last one dealt with cluster-wide are planned
   * (missed, or one caught up) by exactly one process, through the cursor.
   */
  async schedule(record: AgentRecord): Promise<MisfirePlan> {
    const { queue } = await this.#engine;
    const agentId = record.agent_id;
    const snapshot = snapshotOf(record);
    const key = snapshotKey(snapshot);
    this.#scheduled.add(agentId);
    this.#snapshots.set(agentId, { snapshot, version: record.version });
    const nothing: MisfirePlan = { missed: 0, resumeAfter: this.#now() };

    const runAt = runAtOf(snapshot);
    const existing =
      runAt === undefined
        ? (await queue.getJobScheduler(agentId))?.template?.data
        : (await queue.getJob(tickJobId(agentId, runAt)))?.data;
    const current = existing?.kind === 'tick' ? existing : undefined;
    if (current?.schedule && snapshotKey(current.schedule) === key) return nothing;
    // A process that has not yet seen the newest version must not undo it.
    if (current && current.version > record.version) return nothing;

    const schedule = scheduleOfSnapshot(snapshot);
    const plan = await this.#planOnce(record, schedule);
    await this.#removeJobs(queue, agentId);
    const after = plan.catchUp && plan.catchUp > plan.resumeAfter ? plan.catchUp : plan.resumeAfter;
    const next = schedule.next(after);
    if (!next) {
      this.#scheduled.delete(agentId);
      this.#target?.onFinished(agentId);
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
      await this.#redis.set(this.#keys.oneShot(agentId), jobId);
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
      opts: ITERATION_OPTIONS,
    });
    return plan;
  }

  /**
   * Plans the ticks in (last dealt with, now] as the local scheduler would, and moves the cursor
   * past them with a compare-and-set: of several processes (re)scheduling an agent at once,
   * one records the plan and the others find nothing left to plan.
   */
  async #planOnce(record: AgentRecord, schedule: Schedule): Promise<MisfirePlan> {
    const stored = record.stats.last_scheduled_at ?? record.anchor_at;
    for (let attempt = 0; attempt < PLAN_ATTEMPTS; attempt += 1) {
      const now = this.#now();
      const held = await this.#cursor.read(record.agent_id);
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
      if (await this.#cursor.compareAndSet(record.agent_id, held, through)) return plan;
    }
    return { missed: 0, resumeAfter: this.#now() };
  }

  /** Removes whatever fires the agent's ticks (a job scheduler and its next job, a `run_at` job). */
  async #removeJobs(queue: Queue<NightshiftJobData>, agentId: string): Promise<void> {
    await queue.removeJobScheduler(agentId);
    const pointer = this.#keys.oneShot(agentId);
    const oneShot = await this.#redis.get(pointer);
    if (oneShot) await this.#redis.del(pointer);
    // A job being processed is locked and stays; its tick is dealt with like any other.
    if (oneShot) await queue.remove(oneShot).catch(() => 0);
  }

  async unschedule(agentId: string): Promise<void> {
    this.#scheduled.delete(agentId);
    this.#snapshots.delete(agentId);
    if (this.#closed) return;
    const { queue } = await this.#engine;
    await this.#removeJobs(queue, agentId);
  }

  isScheduled(agentId: string): boolean {
    return this.#scheduled.has(agentId);
  }

  /** Adds a one-off tick (a catch-up, a first run at start); its job id makes it one job cluster-wide. */
  async enqueueTick(agentId: string, scheduledAt: Date): Promise<void> {
    const { queue } = await this.#engine;
    const known = this.#snapshots.get(agentId);
    const jitter = known ? jitterOffsetMs(agentId, scheduledAt, known.snapshot.jitter) : 0;
    await queue.add(
      TICK_JOB_NAME,
      {
        kind: 'tick',
        agent_id: agentId,
        version: known?.version ?? 0,
        ...(known ? { schedule: known.snapshot } : {}),
        scheduled_at: scheduledAt.toISOString(),
      },
      {
        ...ONE_OFF_TICK_OPTIONS,
        jobId: tickJobId(agentId, scheduledAt),
        delay: Math.max(0, scheduledAt.getTime() + jitter - Date.now()),
      },
    );
  }

  async enqueueManual(request: ManualRunRequest): Promise<void> {
    const { queue } = await this.#engine;
    await queue.add(
      MANUAL_JOB_NAME,
      { kind: 'manual', request },
      { jobId: manualJobId(request.run_id), removeOnComplete: true, removeOnFail: REMOVE_ON_FAIL },
    );
  }

  async listWorkers(): Promise<WorkerInfo[]> {
    return this.#registry.list();
  }

  /**
   * Stops taking jobs at once; resolves when the jobs of runs in flight have completed (their
   * runs end within the service's shutdown grace) and the connections are closed.
   */
  async close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      for (const timer of this.#timers) clearInterval(timer);
      const engine = await this.#engine.catch(() => undefined);
      await engine?.worker?.close();
      if (this.#target)
        await this.#registry.remove(this.#context.instanceId).catch(() => undefined);
      await engine?.queue.close();
      this.#redis.disconnect();
    })();
    return this.#closed;
  }

  // --- executing -----------------------------------------------------------------------------

  /** The worker's processor: the job completes when the run it started has ended. */
  async #process(
    bullmq: BullmqModule,
    job: Job<NightshiftJobData>,
    token: string | undefined,
  ): Promise<void> {
    const target = this.#target;
    if (!target || this.#closing) return this.#handBack(bullmq, job, token);
    const data = job.data;
    if (data.kind === 'manual') {
      const outcome = await target.onManual(data.request);
      if (outcome === 'declined') return this.#handBack(bullmq, job, token);
      return;
    }
    return this.#processTick(bullmq, target, job, data, token);
  }

  async #processTick(
    bullmq: BullmqModule,
    target: SchedulerTarget,
    job: Job<NightshiftJobData>,
    data: TickJobData,
    token: string | undefined,
  ): Promise<void> {
    const agentId = data.agent_id;
    const snapshot = data.schedule;
    const schedule = snapshot ? scheduleOfSnapshot(snapshot) : undefined;
    const nominal = nominalTime(job.id, data, schedule);
    if (!nominal) return;
    if (data.due_at === undefined && data.scheduled_at === undefined) {
      // An iteration taken for the first time: account for it, and for the slots BullMQ skipped.
      const previous = await this.#cursor.advance(agentId, nominal.getTime());
      if (previous !== undefined && previous > nominal.getTime()) {
        // Dealt with already (missed in a plan, or overtaken): nothing to run.
        return this.#finishIfDone(target, agentId, schedule, nominal);
      }
      if (previous !== undefined && previous < nominal.getTime() && schedule) {
        const before = new Date(nominal.getTime() - 1);
        const { total } = schedule.between(new Date(previous), before, 0);
        const lastMissed = total > 0 ? schedule.previous(before) : undefined;
        if (lastMissed) target.onMissed(agentId, total, lastMissed);
      }
    }
    // Lateness counts from when BullMQ was to fire it: a cron library that places a DST-gap tick
    // differently from the agent's schedule delays the run, it does not make it late.
    const slot = Math.max(nominal.getTime(), iterationMillis(job.id) ?? 0);
    const due = data.due_at ?? slot + jitterOffsetMs(agentId, nominal, snapshot?.jitter ?? 0);
    const now = this.#now().getTime();
    const graceMs = (snapshot?.misfire_grace ?? DEFAULT_MISFIRE_GRACE_SECONDS) * 1000;
    if (now - due > graceMs) {
      // As late as this, a tick is missed rather than run (as the local scheduler does).
      target.onMissed(agentId, 1, nominal);
    } else if (due - now > INLINE_JITTER_MS) {
      // Jitter: back to the delayed set until it is due, keeping the tick's nominal time.
      await job.updateData({ ...data, due_at: due });
      await job.moveToDelayed(due, token);
      throw new bullmq.DelayedError();
    } else {
      if (due > now) await new Promise((resolve) => setTimeout(resolve, due - now));
      const outcome = await target.onTick(agentId, nominal);
      if (outcome === 'declined') return this.#handBack(bullmq, job, token);
    }
    this.#finishIfDone(target, agentId, schedule, nominal);
  }

  #finishIfDone(
    target: SchedulerTarget,
    agentId: string,
    schedule: Schedule | undefined,
    nominal: Date,
  ): void {
    if (schedule && !schedule.next(nominal)) target.onFinished(agentId);
  }

  /** Puts a job this process will not run back at the head of the queue for another worker. */
  async #handBack(
    bullmq: BullmqModule,
    job: Job<NightshiftJobData>,
    token: string | undefined,
  ): Promise<never> {
    await job.moveToWait(token);
    throw new bullmq.WaitingError();
  }

  // --- reconciliation ------------------------------------------------------------------------

  /** One worker per period (a lock in Redis) reconciles; the others skip it. */
  async #reconcileIfLeader(engine: Engine): Promise<void> {
    if (this.#closing) return;
    const held = await this.#redis.set(
      this.#keys.reconcileLock,
      this.#context.instanceId,
      'PX',
      Math.max(100, Math.floor(this.#options.reconcileIntervalMs * 0.9)),
      'NX',
    );
    if (held === 'OK') await this.reconcile(engine);
  }

  /**
   * Brings BullMQ in line with the store: re-creates the schedules of active agents that have
   * none (Redis lost its data, a process died between two writes) or an outdated one, and
   * removes the job schedulers of agents that are no longer active. Ticks lost meanwhile are
   * recorded missed, as after any gap.
   */
  async reconcile(engine?: Engine): Promise<void> {
    const target = this.#target;
    if (!target || this.#closing) return;
    const { queue } = engine ?? (await this.#engine);
    const records = new Map((await target.listAgents()).map((record) => [record.agent_id, record]));
    const active = new Map([...records].filter(([, record]) => record.state === 'active'));
    const schedulers = await queue.getJobSchedulers(0, -1);
    const present = new Map<string, TickJobData | undefined>();
    for (const scheduler of schedulers) {
      const data = scheduler.template?.data;
      present.set(scheduler.key, data?.kind === 'tick' ? data : undefined);
      if (active.has(scheduler.key)) continue;
      // Made from a version newer than the one read here (the agent was started meanwhile): keep it.
      const stored = records.get(scheduler.key);
      if (data?.kind === 'tick' && stored && data.version > stored.version) continue;
      await queue.removeJobScheduler(scheduler.key);
    }
    for (const record of active.values()) {
      const snapshot = snapshotOf(record);
      if (snapshot.run_at === undefined) {
        const data = present.get(record.agent_id);
        if (data?.schedule && snapshotKey(data.schedule) === snapshotKey(snapshot)) continue;
      } else {
        const runAt = runAtOf(snapshot);
        if (runAt && (await queue.getJob(tickJobId(record.agent_id, runAt)))) continue;
        // A `run_at` tick already taken leaves no job: only a cursor short of it means it was lost.
        const held = await this.#cursor.read(record.agent_id);
        if (held !== '' && runAt && Number(held) >= runAt.getTime()) continue;
      }
      await this.#reschedule(target, record);
    }
  }

  async #reschedule(target: SchedulerTarget, record: AgentRecord): Promise<void> {
    this.#context.logger.warn(
      { agent_id: record.agent_id },
      'nightshift: re-created the BullMQ schedule of an active agent (reconciliation)',
    );
    const plan = await this.schedule(record);
    if (plan.missed > 0 && plan.lastMissed)
      target.onMissed(record.agent_id, plan.missed, plan.lastMissed);
    if (plan.catchUp) await this.enqueueTick(record.agent_id, plan.catchUp);
  }
}

/**
 * The BullMQ repeat options that make a job scheduler fire on the agent's own ticks, from
 * `next` on. `every` slots are aligned by `offset` (anchor mod interval; BullMQ ignores 0, and
 * `interval` itself lands on the same slots), which BullMQ keeps through catch-ups; `startDate`
 * pins a first tick further away than one interval (a `start_at`, a cursor ahead of now), where
 * it cannot have passed before BullMQ reads it.
 */
function repeatOptions(
  snapshot: ScheduleSnapshot,
  next: Date,
): Parameters<Queue['upsertJobScheduler']>[1] {
  const endMs = snapshot.end_at
    ? parseIsoInstant(snapshot.end_at, snapshot.timezone ?? 'UTC')?.getTime()
    : undefined;
  const bounds = endMs === undefined ? {} : { endDate: endMs };
  if (snapshot.cron !== undefined) {
    // BullMQ fires at the first cron time after max(now, startDate): the tick `next`, by both.
    return {
      pattern: snapshot.cron,
      tz: snapshot.timezone ?? 'UTC',
      startDate: next.getTime() - 1,
      ...bounds,
    };
  }
  const every = Math.round((snapshot.interval ?? 0) * 1000);
  const anchorMs = Date.parse(snapshot.anchor_at);
  const remainder = ((anchorMs % every) + every) % every;
  const farAway = next.getTime() - Date.now() > every;
  return {
    every,
    offset: remainder === 0 ? every : remainder,
    ...(farAway ? { startDate: next.getTime() } : {}),
    ...bounds,
  };
}

/** The one fire time of a `run_at` snapshot. */
function runAtOf(snapshot: ScheduleSnapshot): Date | undefined {
  return snapshot.run_at === undefined ? undefined : parseIsoInstant(snapshot.run_at, 'UTC');
}

/**
 * A tick's nominal time: a one-off tick carries it; an iteration's is the millis of its job id,
 * snapped down to the agent's schedule — the same instant whenever BullMQ aligned the slot, and
 * the intended tick when BullMQ moved a first slot to "now" because its start had just passed.
 */
function nominalTime(
  jobId: string | undefined,
  data: TickJobData,
  schedule: Schedule | undefined,
): Date | undefined {
  if (data.scheduled_at !== undefined) return new Date(data.scheduled_at);
  const millis = iterationMillis(jobId);
  if (millis === undefined) return undefined;
  return schedule ? schedule.previous(new Date(millis)) : new Date(millis);
}
