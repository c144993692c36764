/**
 * One of two managers sweeping one SQLite file at once (see retention-race.test.ts). At
 * `NIGHTSHIFT_RACE_START` (epoch ms) it starts a manager whose retention sweep runs every few
 * milliseconds in small batches, waits until nothing is left to remove, and prints what its
 * sweeps removed and every error it logged as one line of JSON.
 */
import { env } from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';

const url = env.NIGHTSHIFT_RACE_URL ?? '';
const errors: string[] = [];
const logger = {
  info: () => undefined,
  warn: (object: object, message?: string) => errors.push(`${message} ${JSON.stringify(object)}`),
  error: (object: object, message?: string) => errors.push(`${message} ${JSON.stringify(object)}`),
};
const service = new BackgroundAgentService(
  new MemoryRouter('database', { url }),
  new EventRouter('database', { url }),
  {
    logger,
    syncIntervalMs: 60_000,
    retention: { runs_days: 1, events_days: 1, messages_per_session: 10 },
    retentionIntervalMs: 5,
    retentionBatchSize: 7,
  },
);

await sleep(Math.max(0, Number(env.NIGHTSHIFT_RACE_START) - Date.now()));
await service.startManager();
// Waits for the state the race ends in: nothing left to remove, as far as this process sees.
for (;;) {
  const { totals } = await service.pruneNow({ dry_run: true });
  if (totals.runs + totals.events + totals.messages === 0) break;
  await sleep(10);
}
const stats = service.retentionStats();
await service.shutdown({ timeout: 1000 });
process.stdout.write(`${JSON.stringify({ stats, errors })}\n`);
