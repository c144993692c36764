import type { FireTimeSource } from './fire-time-source.js';

/**
 * Fire times `anchorMs + k × intervalMs` for integers k ≥ 1. Each one is computed from the
 * anchor, never by adding to the previous one, so a timer built on them cannot drift; counting
 * is arithmetic, so a week of one-second ticks costs the same as one tick.
 */
export function createIntervalFireTimes(anchorMs: number, intervalMs: number): FireTimeSource {
  const tickAt = (index: number): number => anchorMs + index * intervalMs;

  // The largest k (of any sign) whose tick is at or before atMs. Float division can land one
  // off on huge values, so the estimate is corrected against the exact ticks.
  const lastIndexAtOrBefore = (atMs: number): number => {
    let index = Math.floor((atMs - anchorMs) / intervalMs);
    while (tickAt(index) > atMs) index -= 1;
    while (tickAt(index + 1) <= atMs) index += 1;
    return index;
  };

  const firstIndexAfter = (afterMs: number): number =>
    Math.max(1, lastIndexAtOrBefore(afterMs) + 1);

  return {
    firstAfter: (afterMs) => tickAt(firstIndexAfter(afterMs)),
    lastAtOrBefore: (atMs) => {
      const index = lastIndexAtOrBefore(atMs);
      return index >= 1 ? tickAt(index) : undefined;
    },
    count: (afterMs, untilMs) =>
      Math.max(0, lastIndexAtOrBefore(untilMs) - firstIndexAfter(afterMs) + 1),
  };
}
