import type { FireTimeSource } from './fire-time-source.js';

/**
 * Fire times `anchorMs + k × intervalMs` for integers k ≥ 1. Each one is computed from the
 * anchor, never by adding to the previous one, so a timer built on them cannot drift; counting
 * is arithmetic, so a week of one-second ticks costs the same as one tick.
 */
export function createIntervalFireTimes(anchorMs: number, intervalMs: number): FireTimeSource {
  return new IntervalFireTimes(anchorMs, intervalMs);
}

/** A class rather than closures: one per active agent, its methods shared on the prototype. */
class IntervalFireTimes implements FireTimeSource {
  readonly #anchorMs: number;
  readonly #intervalMs: number;

  constructor(anchorMs: number, intervalMs: number) {
    this.#anchorMs = anchorMs;
    this.#intervalMs = intervalMs;
  }

  #tickAt(index: number): number {
    return this.#anchorMs + index * this.#intervalMs;
  }

  // The largest k (of any sign) whose tick is at or before atMs. Float division can land one
  // off on huge values, so the estimate is corrected against the exact ticks.
  #lastIndexAtOrBefore(atMs: number): number {
    let index = Math.floor((atMs - this.#anchorMs) / this.#intervalMs);
    while (this.#tickAt(index) > atMs) index -= 1;
    while (this.#tickAt(index + 1) <= atMs) index += 1;
    return index;
  }

  #firstIndexAfter(afterMs: number): number {
    return Math.max(1, this.#lastIndexAtOrBefore(afterMs) + 1);
  }

  firstAfter(afterMs: number): number {
    return this.#tickAt(this.#firstIndexAfter(afterMs));
  }

  lastAtOrBefore(atMs: number): number | undefined {
    const index = this.#lastIndexAtOrBefore(atMs);
    return index >= 1 ? this.#tickAt(index) : undefined;
  }

  count(afterMs: number, untilMs: number): number {
    return Math.max(0, this.#lastIndexAtOrBefore(untilMs) - this.#firstIndexAfter(afterMs) + 1);
  }
}
