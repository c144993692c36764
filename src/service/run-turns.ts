/** Runs let go on per turn of the event loop, by default. */
const DEFAULT_PER_TURN = 2;
/** A run that has waited this long goes on at the next turn, whatever the count (default). */
const DEFAULT_MAX_WAIT_MS = 500;
/** Released entries kept at the front of the queue before it is compacted. */
const COMPACT_AFTER = 1_024;

interface Waiter {
  resolve: () => void;
  since: number;
}

/** Settings of {@link RunTurns}. */
export interface RunTurnsOptions {
  /** Runs let go per turn (default 2). */
  perTurn?: number;
  /** Longest a run waits before it goes on regardless of `perTurn` (default 500 ms). */
  maxWaitMs?: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
}

/**
 * Where runs that have just started wait for the CPU. A few of them go on per turn of the event
 * loop, the rest in later turns, so the timers of ticks due meanwhile fire between turns: a fleet
 * whose ticks fall together starts on time instead of each tick waiting for every run released
 * before it (a run whose store answers at once, memory or SQLite, never yields on its own).
 * Ticks come first only while the CPU keeps up: a run that has waited `maxWaitMs` goes on at the
 * next turn, so under overload the runs already started finish, and new ticks wait (and are
 * missed, counted as such) rather than each being started only to wait and be skipped.
 */
export class RunTurns {
  readonly #perTurn: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;
  /** Waiting runs, first come first served; `#head` is the next to go. */
  #waiting: Waiter[] = [];
  #head = 0;
  #turnPending = false;

  constructor(options: RunTurnsOptions = {}) {
    this.#perTurn = Math.max(1, Math.floor(options.perTurn ?? DEFAULT_PER_TURN));
    this.#maxWaitMs = Math.max(0, options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
    this.#now = options.now ?? (() => performance.now());
  }

  /** Resolves in a later turn of the event loop, when it is this caller's turn. */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiting.push({ resolve, since: this.#now() });
      this.#scheduleTurn();
    });
  }

  /** Runs waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  #scheduleTurn(): void {
    if (this.#turnPending) return;
    this.#turnPending = true;
    setImmediate(this.#turn);
  }

  readonly #turn = (): void => {
    this.#turnPending = false;
    const overdue = this.#now() - this.#maxWaitMs;
    let end = Math.min(this.#waiting.length, this.#head + this.#perTurn);
    while (end < this.#waiting.length && this.#waiting[end]!.since <= overdue) end += 1;
    const released = this.#waiting.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else {
      // Drop the released entries now and then, so a queue that never empties does not grow.
      if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#waiting.length) {
        this.#waiting = this.#waiting.slice(this.#head);
        this.#head = 0;
      }
      this.#scheduleTurn();
    }
    for (const waiter of released) waiter.resolve();
  };
}
