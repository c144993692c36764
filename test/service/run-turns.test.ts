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
    const turns = new RunTurns({ perTurn: 2 });
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

  it('lets every run that has waited maxWaitMs go on at the next turn, past the count', async () => {
    let clock = 0;
    const turns = new RunTurns({ perTurn: 1, maxWaitMs: 100, now: () => clock });
    await nextCheckPhase();
    let waitingWhenFirstWent = -1;
    const overdue = [0, 1, 2].map((index) =>
      turns.wait().then(() => {
        if (index === 0) waitingWhenFirstWent = turns.waiting;
      }),
    );
    clock = 150;
    const fresh = [0, 1].map(() => turns.wait());
    await Promise.all(overdue);
    // The three overdue runs went in one turn; the two fresh ones wait for theirs.
    expect(waitingWhenFirstWent).toBe(2);
    await Promise.all(fresh);
    expect(turns.waiting).toBe(0);
  });
});
