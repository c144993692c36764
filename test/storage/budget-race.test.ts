import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  openRaceStore,
  RACE_HOLD_MICRO_USD,
  RACE_LINE,
  raceHolds,
  type RaceResult,
  type RaceStoreLocation,
} from './budget-race-process.js';
import { raceBackends } from './race-backends.js';

/** Holds made in all, by the two child processes and this one. */
const HOLDS = 200;
const LIMIT = RACE_LINE.limits.micro_usd!;
/** Long: three processes load tsx and connect on a machine that may be busy. */
const RACE_TIMEOUT_MS = 120_000;

/** A child process of budget-race-process.ts, loaded and connected, waiting for the start. */
interface Racer {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  result: Promise<RaceResult>;
}

/** Starts a racer and waits until it says it is ready. */
async function startRacer(
  location: RaceStoreLocation,
  name: string,
  holds: number,
  settle: boolean,
): Promise<Racer> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(import.meta.dirname, 'budget-race-process.ts')],
    {
      env: {
        ...process.env,
        NIGHTSHIFT_RACE_BACKEND: location.backend,
        NIGHTSHIFT_RACE_LOCATION: location.location,
        NIGHTSHIFT_RACE_NAMESPACE: location.namespace,
        NIGHTSHIFT_RACE_NAME: name,
        NIGHTSHIFT_RACE_HOLDS: String(holds),
        NIGHTSHIFT_RACE_SETTLE: settle ? '1' : '0',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let errors = '';
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((resolveReady) => (ready = resolveReady));
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.startsWith('ready\n')) ready();
  });
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`racer ${name} exited with ${String(code)}: ${errors}`);
    return JSON.parse(output.slice('ready\n'.length)) as RaceResult;
  });
  // A racer that dies before it is ready fails the wait instead of hanging it.
  await Promise.race([isReady, exited]);
  return { child, result: exited };
}

/** Races {@link HOLDS} holds from two child processes and this one; returns what each saw. */
async function race(location: RaceStoreLocation, settle: boolean) {
  const store = openRaceStore(location);
  try {
    // Connected and migrated before the racers open it.
    expect(await store.budgets.counters([RACE_LINE.key])).toMatchObject([
      { spent: { micro_usd: 0 }, held: { micro_usd: 0 } },
    ]);
    const share = Math.ceil(HOLDS / 3);
    const racers = await Promise.all([
      startRacer(location, 'first', share, settle),
      startRacer(location, 'second', share, settle),
    ]);
    for (const racer of racers) racer.child.stdin.end('go\n');
    const results = await Promise.all([
      ...racers.map((racer) => racer.result),
      raceHolds(store, 'third', HOLDS - 2 * share, settle),
    ]);
    const [counter] = await store.budgets.counters([RACE_LINE.key]);
    return { results, counter: counter! };
  } finally {
    await store.close();
  }
}

function sum(results: readonly RaceResult[], field: keyof RaceResult): number {
  return results.reduce((total, result) => total + result[field], 0);
}

/** The two races on one backend: holds only, then holds each settled right after. */
function describeRace(
  backend: RaceStoreLocation['backend'],
  available: boolean,
  open: () => Promise<{ location: RaceStoreLocation; cleanup: () => Promise<void> }>,
) {
  describe.skipIf(!available)(`budget race across processes: ${backend}`, () => {
    it(
      'lets exactly floor(limit / hold) of 200 racing holds through',
      async () => {
        const { location, cleanup } = await open();
        try {
          const { results, counter } = await race(location, false);
          const held = sum(results, 'held');
          console.log(
            `budget race (${backend}, holds only): ${held} of ${HOLDS} held, ` +
              `held ${counter.held.micro_usd} of ${LIMIT}, overshoot ${Math.max(0, counter.held.micro_usd - LIMIT)}`,
          );
          expect(held).toBe(Math.floor(LIMIT / RACE_HOLD_MICRO_USD));
          expect(sum(results, 'refused')).toBe(HOLDS - held);
          expect(sum(results, 'wrongRefusals')).toBe(0);
          expect(counter.held.micro_usd).toBe(held * RACE_HOLD_MICRO_USD);
          expect(counter.held.requests).toBe(held);
          expect(counter.spent.micro_usd).toBe(0);
          expect(Math.max(...results.map((result) => result.maxCommitted))).toBeLessThanOrEqual(
            LIMIT,
          );
        } finally {
          await cleanup();
        }
      },
      RACE_TIMEOUT_MS,
    );

    it(
      'never spends past the limit when each hold is settled at once, and counts every cost once',
      async () => {
        const { location, cleanup } = await open();
        try {
          const { results, counter } = await race(location, true);
          const held = sum(results, 'held');
          const actuals = sum(results, 'actuals');
          const committed = counter.spent.micro_usd + counter.held.micro_usd;
          const overshoot = committed - actuals;
          const maxCommitted = Math.max(...results.map((result) => result.maxCommitted));
          console.log(
            `budget race (${backend}, settled): ${held} of ${HOLDS} held, spent ${counter.spent.micro_usd} ` +
              `of ${LIMIT}, most committed seen ${maxCommitted}, overshoot ${overshoot}`,
          );
          expect(held).toBeGreaterThanOrEqual(Math.floor(LIMIT / RACE_HOLD_MICRO_USD));
          expect(sum(results, 'refused')).toBe(HOLDS - held);
          expect(sum(results, 'wrongRefusals')).toBe(0);
          expect(Math.max(...results.map((result) => result.maxSpent))).toBeLessThanOrEqual(LIMIT);
          expect(maxCommitted).toBeLessThanOrEqual(LIMIT);
          expect(counter.spent.micro_usd).toBeLessThanOrEqual(LIMIT);
          expect(counter.held).toMatchObject({ micro_usd: 0, requests: 0 });
          expect(counter.spent.requests).toBe(held);
          expect(overshoot).toBe(0);
        } finally {
          await cleanup();
        }
      },
      RACE_TIMEOUT_MS,
    );
  });
}

for (const { backend, available, open } of raceBackends('budget_race', 'budget race'))
  describeRace(backend, available, open);
