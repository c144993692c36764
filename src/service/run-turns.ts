/** Runs let go on per turn of the event loop, by default. */
const DEFAULT_PER_TURN = 2;
/** Released entries kept at the front of the queue before it is compacted. */
const COMPACT_AFTER = 1_024;

/**
 * Where runs that have just started wait for the CPU. At most `perTurn` of them go on per turn
 * of the event loop; the rest wait for later turns, so the timers of ticks due meanwhile fire
 * between turns. Without it, a fleet whose ticks fall together starts late: a run whose store
 * answers at once (memory, SQLite) never yields, and every tick would wait for all the runs
 * released before it to finish.
 */
export class RunTurns {
  readonly #perTurn: number;
  /** Waiting runs, first come first served; `#head` is the next to go. */
  #waiting: (() => void)[] = [];
  #head = 0;
  #turnPending = false;

  constructor(perTurn = DEFAULT_PER_TURN) {
    this.#perTurn = Math.max(1, Math.floor(perTurn));
  }

  /** Resolves in a later turn of the event loop, when it is this caller's turn. */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiting.push(resolve);
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
    const end = Math.min(this.#waiting.length, this.#head + this.#perTurn);
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
    for (const resolve of released) resolve();
  };
}
