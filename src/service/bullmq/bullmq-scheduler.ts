import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { errorMessage } from '../../errors.js';
import type { MisfirePlan } from '../../schedule/index.js';
import type { AgentRecord } from '../../storage/contracts/index.js';
import type {
  ManualRunRequest,
  ResumeRequest,
  SchedulerContext,
  SchedulerTarget,
  TickScheduler,
  WorkerInfo,
} from '../tick-scheduler.js';
import type { ResolvedBullmqSchedulerOptions } from './bullmq-scheduler-options.js';
import { JobSchedules } from './job-schedules.js';
import { reconcileIfLeader } from './reconciliation.js';
import { schedulerKeys, type SchedulerKeys } from './scheduler-keys.js';
import { TickCursor } from './tick-cursor.js';
import type { NightshiftJobData } from './tick-jobs.js';
import { createTickProcessor } from './tick-processor.js';
import { WorkerRegistry } from './worker-registry.js';

/**
 * What the scheduler builds once BullMQ is loaded (importing it costs a few hundred ms, and
 * with ioredis some 30 MB: a process that schedules locally never loads either).
 */
interface Engine {
  queue: Queue<NightshiftJobData>;
  /** Only on the executing side (a process that called `startManager()`). */
  worker: Worker<NightshiftJobData> | undefined;
}

/**
 * Ticks through BullMQ on Redis, for a fleet on many processes and machines: job schedulers
 * fire the ticks (`job-schedules.ts`), workers hand them to their service, which claims the run
 * (promise 1 holds through the store; `tick-processor.ts`), one worker per period matches the
 * job schedulers with the stored agents (`reconciliation.ts`), and every worker beats in the
 * registry (`worker-registry.ts`). Without a target, the scheduler is the producer side only:
 * it schedules and enqueues but executes nothing.
 */
export class BullmqScheduler implements TickScheduler {
  readonly #options: ResolvedBullmqSchedulerOptions;
  readonly #context: SchedulerContext;
  readonly #now: () => Date;
  readonly #target: SchedulerTarget | undefined;
  readonly #keys: SchedulerKeys;
  /** The scheduler's own connection, made once ioredis is loaded. */
  readonly #redis: Promise<Redis>;
  readonly #cursor: TickCursor;
  readonly #registry: WorkerRegistry;
  readonly #schedules: JobSchedules;
  readonly #engine: Promise<Engine>;
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
    this.#redis = import('ioredis').then(({ Redis }) => {
      const redis = new Redis(options.url, {
        connectionName: `${options.prefix}:${options.queueName}:nightshift`,
        maxRetriesPerRequest: 5,
      });
      // Without a listener, an `error` event (every failed reconnect emits one) would throw.
      redis.on('error', () => undefined);
      return redis;
    });
    // Reported by the start below; each use of the connection fails with the same error.
    this.#redis.catch(() => undefined);
    this.#cursor = new TickCursor(this.#redis, this.#keys.cursor);
    this.#registry = new WorkerRegistry(this.#redis, this.#keys.workers);
    this.#engine = this.#start();
    this.#engine.catch((error: unknown) => this.#report(error, 'starting the BullMQ scheduler'));
    const queue = this.#engine.then((engine) => engine.queue);
    // Reported once above; each use of the queue fails with the same error.
    queue.catch(() => undefined);
    this.#schedules = new JobSchedules({
      queue,
      redis: this.#redis,
      keys: this.#keys,
      cursor: this.#cursor,
      now,
      onFinished: target && ((agentId) => target.onFinished(agentId)),
    });
  }

  async #start(): Promise<Engine> {
    const [bullmq, redis] = await Promise.all([import('bullmq'), this.#redis]);
    const { url, queueName, prefix, concurrency } = this.#options;
    const queue = new bullmq.Queue<NightshiftJobData>(queueName, { connection: { url }, prefix });
    queue.on('error', (error) => this.#report(error, 'the BullMQ queue'));
    const target = this.#target;
    if (!target || this.#closing) return { queue, worker: undefined };
    // A job's lock follows the run's lease, so a killed worker's job and its run expire together.
    const lockDuration = this.#options.lockDurationMs ?? this.#context.leaseTtlMs;
    const processor = createTickProcessor({
      bullmq,
      target,
      cursor: this.#cursor,
      now: this.#now,
      closing: () => this.#closing,
    });
    const worker = new bullmq.Worker<NightshiftJobData>(queueName, processor, {
      connection: { url },
      prefix,
      concurrency,
      name: this.#context.instanceId,
      lockDuration,
      stalledInterval: this.#options.stalledIntervalMs ?? lockDuration,
      maxStalledCount: this.#options.maxStalledCount,
    });
    worker.on('error', (error) => this.#report(error, 'the BullMQ worker'));
    const heartbeatIntervalMs =
      this.#options.heartbeatIntervalMs ??
      Math.max(100, Math.min(5_000, Math.floor(this.#context.leaseTtlMs / 3)));
    this.#every('the worker heartbeat', heartbeatIntervalMs, () =>
      this.#registry.beat(
        this.#context.instanceId,
        this.#startedAt,
        target.runningRuns(),
        heartbeatIntervalMs,
      ),
    );
    this.#every('reconciliation', this.#options.reconcileIntervalMs, () =>
      reconcileIfLeader({
        queue,
        redis,
        keys: this.#keys,
        cursor: this.#cursor,
        schedules: this.#schedules,
        target,
        context: this.#context,
        intervalMs: this.#options.reconcileIntervalMs,
      }),
    );
    return { queue, worker };
  }

  /** Runs `work` now and then every `intervalMs` until close, reporting (not throwing) failures. */
  #every(what: string, intervalMs: number, work: () => Promise<void>): void {
    const run = () => {
      if (this.#closing) return;
      work().catch((error: unknown) => this.#report(error, what));
    };
    const timer = setInterval(run, intervalMs);
    timer.unref();
    this.#timers.push(timer);
    run();
  }

  #report(error: unknown, where: string): void {
    if (this.#closing && /Connection is closed/i.test(errorMessage(error))) return;
    this.#context.logger.error({ err: errorMessage(error) }, `nightshift: ${where} failed`);
  }

  /** See {@link JobSchedules.schedule}: one job scheduler per agent, its misfires planned once cluster-wide. */
  async schedule(record: AgentRecord): Promise<MisfirePlan> {
    return this.#schedules.schedule(record);
  }

  async unschedule(agentId: string): Promise<void> {
    if (this.#closed) return this.#schedules.forget(agentId);
    await this.#schedules.unschedule(agentId);
  }

  isScheduled(agentId: string): boolean {
    return this.#schedules.isScheduled(agentId);
  }

  /** Adds a one-off tick (a catch-up, a first run at start); its job id makes it one job cluster-wide. */
  async enqueueTick(agentId: string, scheduledAt: Date): Promise<void> {
    await this.#schedules.enqueueTick(agentId, scheduledAt);
  }

  /** Queues the run for whichever worker takes it. */
  async enqueueManual(request: ManualRunRequest): Promise<'queued'> {
    await this.#schedules.enqueueManual(request);
    return 'queued';
  }

  async enqueueResume(request: ResumeRequest): Promise<'queued'> {
    await this.#schedules.enqueueResume(request);
    return 'queued';
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
      (await this.#redis.catch(() => undefined))?.disconnect();
    })();
    return this.#closed;
  }
}
