/**
 * One of two processes racing on one SQLite file (see sqlite-write-batching.test.ts). At
 * `NIGHTSHIFT_RACE_START` (epoch ms) it claims every run id, takes every lease, tries to take
 * every run over from its claimer and counts a skip of agent `alpha` per run id, a few ids per
 * turn of the event loop; it prints what it won as one line of JSON and exits.
 */
import { env } from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSqliteStore } from '../../src/storage/index.js';
import { minute, runRecord } from './contracts/fixtures.js';

const name = env.NIGHTSHIFT_RACE_NAME ?? 'racer';
const ids = Number(env.NIGHTSHIFT_RACE_IDS ?? '200');
const perTurn = 25;

const store = createSqliteStore({ path: env.NIGHTSHIFT_RACE_PATH ?? '' });
const runs = Array.from({ length: ids }, (_, index) => runRecord('alpha', minute(index)));
const won = { claims: [] as string[], leases: [] as string[], takeovers: [] as string[] };

await sleep(Math.max(0, Number(env.NIGHTSHIFT_RACE_START) - Date.now()));
const turns: Promise<void>[] = [];
for (let start = 0; start < ids; start += perTurn) {
  const slice = runs.slice(start, start + perTurn);
  turns.push(
    ...slice.map(async (run) => {
      const [claimed, lease] = await Promise.all([
        store.runs.claim({ ...run, lease_owner: name }),
        store.leases.acquire(`lease:${run.run_id}`, name, 60_000),
      ]);
      if (claimed) won.claims.push(run.run_id);
      if (lease) won.leases.push(run.run_id);
      // Every claimer's name is tried; only the current owner's can match, once.
      const owners = ['first', 'second'];
      const takeovers = await Promise.all(
        owners.map((owner) =>
          store.runs.update(run.run_id, { lease_owner: `${name}-took` }, { lease_owner: owner }),
        ),
      );
      if (takeovers.some((record) => record !== undefined)) won.takeovers.push(run.run_id);
      // A read-modify-write first in its batch: it must read under the write lock.
      await store.agents.updateStats('alpha', { skipped: 1 });
    }),
  );
  // The next slice goes in a later turn, so the two processes' batches interleave.
  await new Promise((resolve) => setImmediate(resolve));
}
await Promise.all(turns);
await store.close();
process.stdout.write(`${JSON.stringify(won)}\n`);
