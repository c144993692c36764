import { randomInt } from 'node:crypto';

/** A source of reproducible random choices: the fault plan of a run follows from its seed alone. */
export interface SeededRandom {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [minimum, maximum], both included. */
  between(minimum: number, maximum: number): number;
  /** One of `choices`, each as likely. */
  pick<T>(choices: readonly T[]): T;
}

/**
 * The seed of this run: `NIGHTSHIFT_FAULT_SEED` when set (to replay a failure), else a fresh
 * one that the suite prints, so any run can be replayed.
 */
export function faultSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.NIGHTSHIFT_FAULT_SEED;
  if (given === undefined || given === '') return randomInt(1, 2 ** 31 - 1);
  const seed = Number(given);
  if (!Number.isSafeInteger(seed) || seed <= 0) {
    throw new Error(`NIGHTSHIFT_FAULT_SEED must be a positive integer, got "${given}"`);
  }
  return seed;
}

/**
 * A mulberry32 generator: tiny, fast and good enough to spread fault timings; unlike
 * Math.random it can be replayed. `stream` gives each store a plan of its own from one seed, so
 * replaying one store's failure does not depend on how many choices the others made.
 */
export function seededRandom(seed: number, stream = 0): SeededRandom {
  let state = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    seed,
    next,
    between: (minimum, maximum) => minimum + Math.floor(next() * (maximum - minimum + 1)),
    pick<T>(choices: readonly T[]): T {
      const choice = choices[Math.floor(next() * choices.length)];
      if (choice === undefined) throw new Error('pick needs at least one choice');
      return choice;
    },
  };
}
