/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions<Job> {
  /** Jobs waiting at most; a push beyond it is refused. */
  capacity: number;
  /** Jobs running at once at most. */
  concurrency: number;
  /** Does one job; never rejects (the queue does not look at its result). */
  run: (job: Job) => Promise<void>;
}

/**
 * A bounded queue of background jobs run a few at a time: pushing never waits and never runs a
 * job on the caller's stack, so whoever pushes (an event listener) is never held up.
 */
export class WorkQueue<Job> {
  readonly #options: WorkQueueOptions<Job>;
  readonly #waiting: Job[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions<Job>) {
    this.#options = options;
  }

  /** Queues `job`; false (and the job dropped) when the queue is full. */
  push(job: Job): boolean {
    if (this.#waiting.length >= this.#options.capacity) return false;
    this.#waiting.push(job);
    queueMicrotask(() => this.#pump());
    return true;
  }

  /** Jobs waiting, and running. */
  get size(): number {
    return this.#waiting.length + this.#running.size;
  }

  /** Drops the jobs still waiting (running ones go on); returns how many were dropped. */
  clear(): number {
    const dropped = this.#waiting.splice(0).length;
    this.#wakeIfIdle();
    return dropped;
  }

  /** Resolves once nothing waits and nothing runs. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running.size < this.#options.concurrency) {
      const job = this.#waiting.shift();
      if (job === undefined) break;
      const running: Promise<void> = this.#options
        .run(job)
        .catch(() => undefined)
        .finally(() => {
          this.#running.delete(running);
          this.#pump();
        });
      this.#running.add(running);
    }
    this.#wakeIfIdle();
  }

  #wakeIfIdle(): void {
    if (this.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
