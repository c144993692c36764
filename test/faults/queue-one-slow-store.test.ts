/**
 * A product bug the fault-injection suite ran into (Redis, a restart whose downtime let several
 * ticks of the `queue_one` agent wait on the store at once), reproduced here without any server:
 * an in-memory store whose claims take 400 ms, as every write does while Redis reconnects or
 * Postgres restarts.
 *
 * The cause (fixed): `RunDispatcher.dispatch` checked `!this.#queued.has(agentId)` and only then awaited
 * `store.runs.claim(run)` before `#queue` recorded the run. Ticks dispatched while a claim was in
 * flight all passed the check, all claimed a `pending` run, and each `#queue` overwrote the one
 * before. The overwritten runs were forgotten: nobody started them or renewed their lease, recovery
 * later ended them `interrupted` with "the process running it stopped" although it never did, and
 * a shutdown before that left them `pending` for the next manager (promise 2 at shutdown,
 * `queue_one` of promise 3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  isTerminal,
  MemoryRouter,
  type RunRecord,
} from '../../src/index.js';

const CLAIM_DELAY_MS = 400;

interface Observed {
  mostPendingAtOnce: number;
  afterShutdown: RunRecord[];
}

let observed: Observed | undefined;
let service: BackgroundAgentService | undefined;

beforeAll(async () => {
  const memory = new MemoryRouter('in_memory');
  const store = await memory.connect();
  const claim = store.runs.claim.bind(store.runs);
  store.runs.claim = async (run) => {
    await new Promise((resolve) => setTimeout(resolve, CLAIM_DELAY_MS));
    return claim(run);
  };
  service = new BackgroundAgentService(memory, new EventRouter('in_memory'), {
    leaseTtlMs: 2_000,
  });
  await service.startManager();
  await service.create({
    agent_id: 'queued',
    interval: 0.1,
    overlap_policy: 'queue_one',
    model_config: { provider: 'scripted', script: [{ delay: 1.5, answer: 'done' }] },
    task_config: { query: 'q' },
  });
  await service.startAgent('queued');
  let mostPendingAtOnce = 0;
  // Sampled for a fixed span on purpose: what is measured is the queue over time, not a state.
  const until = Date.now() + 3_000;
  while (Date.now() < until) {
    const runs = await store.runs.list('queued', { limit: 1_000 });
    const pending = runs.filter((run) => run.status === 'pending').length;
    mostPendingAtOnce = Math.max(mostPendingAtOnce, pending);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await service.shutdown({ timeout: 3_000 });
  observed = {
    mostPendingAtOnce,
    afterShutdown: await store.runs.list('queued', { limit: 1_000 }),
  };
}, 20_000);

afterAll(async () => {
  await service?.shutdown({ timeout: 1_000 });
});

describe('queue_one on a slow store (known product bug, see the top of this file)', () => {
  // KNOWN PRODUCT BUG: several ticks pass the "nothing queued yet" check while a claim is in flight.
  it('never holds more than one queued run of an agent', () => {
    expect(observed?.mostPendingAtOnce).toBeLessThanOrEqual(1);
  });

  // KNOWN PRODUCT BUG: the overwritten queued runs are not the dispatcher's any more, so a clean
  // shutdown neither waits for them nor ends them.
  it('leaves no run unfinished after a clean shutdown', () => {
    expect(observed?.afterShutdown.filter((run) => !isTerminal(run.status))).toEqual([]);
  });
});
