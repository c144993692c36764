import { setImmediate as nextCheckPhase } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RunTurns } from '../../src/service/run-turns.js';

/** Blocks the thread until `ms` have passed, so a timer armed before is due. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('RunTurns', () => {
  it('lets runs go first come first served, a few per turn, and a tick due meanwhile fires between turns', async () => {
    const turns = new RunTurns(2);
    const order: string[] = [];
    let timerFired!: Promise<void>;
    // From a known phase of the event loop: the turns start in the next one.
    await nextCheckPhase();
    const runs = Array.from({ length: 6 }, (_, index) =>
      turns.wait().then(() => {
        order.push(`run ${index}`);
        if (index > 0) return;
        // The first run arms a timer and outlasts it: the tick is due before the next turn.
        timerFired = new Promise<void>((resolve) =>
          setTimeout(() => {
            order.push('tick');
            resolve();
          }, 1),
        );
        busyWait(5);
      }),
    );
    expect(turns.waiting).toBe(6);
    await Promise.all(runs);
    await timerFired;
    expect(order).toEqual(['run 0', 'run 1', 'tick', 'run 2', 'run 3', 'run 4', 'run 5']);
    expect(turns.waiting).toBe(0);
  });
});
