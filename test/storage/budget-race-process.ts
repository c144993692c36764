/**
 * One of the processes racing holds on one budget line (see budget-race.test.ts). It opens the
 * store named by `NIGHTSHIFT_RACE_BACKEND` (`sqlite`, `postgres` or `redis`) at
 * `NIGHTSHIFT_RACE_LOCATION` (a path or URL) in `NIGHTSHIFT_RACE_NAMESPACE`, reads the counter
 * once (connecting and migrating), prints `ready`, and waits for a line on stdin. Then it makes
 * its holds (`NIGHTSHIFT_RACE_HOLDS` of them, ids starting `NIGHTSHIFT_RACE_NAME`), all at once,
 * settling each right after when `NIGHTSHIFT_RACE_SETTLE` is `1`; it prints its
 * {@link RaceResult} as one line of JSON and exits.
 */
import { once } from 'node:events';
import { env } from 'node:process';
import { pathToFileURL } from 'node:url';
import {
  createPostgresStore,
  createRedisStore,
  createSqliteStore,
  type BudgetLine,
  type Store,
} from '../../src/storage/index.js';

/** The one budget every process races on. */
export const RACE_LINE: BudgetLine = {
  key: 'fleet:per_month:2026-12',
  limits: { micro_usd: 1_000_000 },
  resets_at: '2027-01-01T00:00:00.000Z',
};
/** What each hold asks. */
export const RACE_HOLD_MICRO_USD = 7_000;

/** What one process saw of the race. */
export interface RaceResult {
  /** Holds that went through. */
  held: number;
  /** Holds refused. */
  refused: number;
  /** The sum of what the settled holds really cost. */
  actuals: number;
  /** The most `spent`, and `spent + held`, any read of the counter during the race showed. */
  maxSpent: number;
  maxCommitted: number;
  /** Refusals whose figures did not show the line crossed (should be none). */
  wrongRefusals: number;
}

/** Which backend a process opens, and where. */
export interface RaceStoreLocation {
  backend: 'sqlite' | 'postgres' | 'redis';
  /** The SQLite file, or the server's URL. */
  location: string;
  /** The Postgres schema or Redis namespace. */
  namespace: string;
}

/** A store of its own (its own connection or pool), as a separate process has. */
export function openRaceStore({ backend, location, namespace }: RaceStoreLocation): Store {
  if (backend === 'sqlite') return createSqliteStore({ path: location, sharedConnection: false });
  if (backend === 'postgres') {
    return createPostgresStore({ url: location, namespace, pool: { shared: false } });
  }
  return createRedisStore({ url: location, namespace });
}

/**
 * Makes `holds` holds of {@link RACE_HOLD_MICRO_USD} on {@link RACE_LINE} at once, settling
 * each that goes through with a random cost at most what it held when `settle` is true, and
 * reading the counter after each step.
 */
export async function raceHolds(
  store: Store,
  name: string,
  holds: number,
  settle: boolean,
): Promise<RaceResult> {
  const result: RaceResult = {
    held: 0,
    refused: 0,
    actuals: 0,
    maxSpent: 0,
    maxCommitted: 0,
    wrongRefusals: 0,
  };
  const observe = async (): Promise<void> => {
    const [counter] = await store.budgets.counters([RACE_LINE.key]);
    const spent = counter!.spent.micro_usd;
    result.maxSpent = Math.max(result.maxSpent, spent);
    result.maxCommitted = Math.max(result.maxCommitted, spent + counter!.held.micro_usd);
  };
  await Promise.all(
    Array.from({ length: holds }, async (_, index) => {
      const holdId = `${name}-${index}`;
      const outcome = await store.budgets.hold(
        holdId,
        `run-${name}`,
        [RACE_LINE],
        { micro_usd: RACE_HOLD_MICRO_USD, requests: 1 },
        new Date(),
      );
      if (!outcome.held) {
        result.refused += 1;
        const { spent, held, asked, limit } = outcome.refusal;
        if (spent + held + asked <= limit) result.wrongRefusals += 1;
        return;
      }
      result.held += 1;
      await observe();
      if (!settle) return;
      const actual = Math.floor(Math.random() * (RACE_HOLD_MICRO_USD + 1));
      if (!(await store.budgets.settle(holdId, { micro_usd: actual, requests: 1 })))
        throw new Error(`hold ${holdId} could not be settled`);
      result.actuals += actual;
      await observe();
    }),
  );
  return result;
}

async function main(): Promise<void> {
  const store = openRaceStore({
    backend: (env.NIGHTSHIFT_RACE_BACKEND ?? 'sqlite') as RaceStoreLocation['backend'],
    location: env.NIGHTSHIFT_RACE_LOCATION ?? '',
    namespace: env.NIGHTSHIFT_RACE_NAMESPACE ?? '',
  });
  try {
    await store.budgets.counters([RACE_LINE.key]);
    process.stdout.write('ready\n');
    await once(process.stdin, 'data');
    process.stdin.destroy();
    const result = await raceHolds(
      store,
      env.NIGHTSHIFT_RACE_NAME ?? 'racer',
      Number(env.NIGHTSHIFT_RACE_HOLDS ?? '0'),
      env.NIGHTSHIFT_RACE_SETTLE === '1',
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
