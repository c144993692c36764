/**
 * One of the processes racing decisions on the same approvals (see approval-race.test.ts). It
 * opens the store named by `NIGHTSHIFT_RACE_BACKEND` at `NIGHTSHIFT_RACE_LOCATION` in
 * `NIGHTSHIFT_RACE_NAMESPACE` (as budget-race-process.ts does), reads one approval (connecting
 * and migrating), prints `ready`, and waits for a line on stdin. Then it decides every one of
 * the `NIGHTSHIFT_RACE_APPROVALS` approvals as `NIGHTSHIFT_RACE_NAME` (see {@link raceDecisions}),
 * prints the ids of those its decision won as one line of JSON, and exits.
 */
import { once } from 'node:events';
import { env } from 'node:process';
import { pathToFileURL } from 'node:url';
import type { Store } from '../../src/storage/index.js';
import { openRaceStore, type RaceStoreLocation } from './budget-race-process.js';

/** The id of the `index`-th approval every process races on. */
export function raceApprovalId(index: number): string {
  return `run-race/call-${index}`;
}

/** Decisions each process has in flight at once. */
const LANES = 4;

/**
 * Decides approvals `0 … count - 1` as `name`, in that order, {@link LANES} at a time: every
 * racer walks the same ids at about the same pace, so their decisions of one id meet. Approves
 * even ones and denies odd ones. Returns the ids this process's decision won.
 */
export async function raceDecisions(store: Store, name: string, count: number): Promise<string[]> {
  const won: string[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) {
      const decided = await store.approvals.decide(raceApprovalId(index), {
        state: index % 2 === 0 ? 'approved' : 'denied',
        decided_by: name,
        decided_at: new Date().toISOString(),
        note: `decided by ${name}`,
        edited_arguments: { by: name },
      });
      if (decided) won.push(decided.approval_id);
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return won;
}

async function main(): Promise<void> {
  const store = openRaceStore({
    backend: (env.NIGHTSHIFT_RACE_BACKEND ?? 'sqlite') as RaceStoreLocation['backend'],
    location: env.NIGHTSHIFT_RACE_LOCATION ?? '',
    namespace: env.NIGHTSHIFT_RACE_NAMESPACE ?? '',
  });
  try {
    await store.approvals.get(raceApprovalId(0));
    process.stdout.write('ready\n');
    await once(process.stdin, 'data');
    process.stdin.destroy();
    const won = await raceDecisions(
      store,
      env.NIGHTSHIFT_RACE_NAME ?? 'racer',
      Number(env.NIGHTSHIFT_RACE_APPROVALS ?? '0'),
    );
    process.stdout.write(`${JSON.stringify(won)}\n`);
  } finally {
    await store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
