/** Options of {@link createBullmqScheduler}; every one has a default. */
export interface BullmqSchedulerOptions {
  /** The Redis BullMQ keeps its queue in. Default: `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  url?: string;
  /** The queue's name: processes sharing a fleet share it. Default `nightshift`. */
  queueName?: string;
  /** BullMQ's key prefix. Default `nightshift`: keys are `nightshift:<queue name>:…`. */
  prefix?: string;
  /** Jobs (so runs) one worker process executes at once. Default 50. */
  concurrency?: number;
  /**
   * How often a worker compares BullMQ's job schedulers with the store's active agents,
   * re-creating lost ones and removing strays (one worker per period does it). Default 30,000 ms.
   */
  reconcileIntervalMs?: number;
  /** How often a worker writes its heartbeat. Default: a third of the lease TTL, at most 5,000 ms. */
  heartbeatIntervalMs?: number;
  /**
   * How long a worker's lock on a job lasts without renewal (BullMQ `lockDuration`). Default:
   * the service's `leaseTtlMs`, so a killed worker's job and its run's lease expire together.
   */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired (BullMQ `stalledInterval`). Default: the lock duration. */
  stalledIntervalMs?: number;
  /**
   * How often a stalled job goes back to the queue before it fails (BullMQ `maxStalledCount`).
   * Default 1. A tick that comes back finds its run already claimed and does nothing: the run
   * itself is recovered through its lease.
   */
  maxStalledCount?: number;
  /** The environment `REDIS_URL` is read from. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** The options with their defaults filled in (the lock settings still follow the lease TTL). */
export interface ResolvedBullmqSchedulerOptions {
  url: string;
  queueName: string;
  prefix: string;
  concurrency: number;
  reconcileIntervalMs: number;
  heartbeatIntervalMs: number | undefined;
  lockDurationMs: number | undefined;
  stalledIntervalMs: number | undefined;
  maxStalledCount: number;
}
