/**
 * Fault injection against every shared store: a small fleet runs on a server this suite owns
 * while the suite cuts its connections, restarts the server (Redis, Postgres) or kills the
 * service's process (SQLite) at seeded random points. After each round the promises are checked
 * against the store itself, through connections of the checker's own:
 * 1 (one run per tick), 2 (every run ends), 3 (no overlap under skip), 8 (no secret stored).
 *
 * A failure prints its seed; `NIGHTSHIFT_FAULT_SEED=<seed> npx vitest run test/faults` replays
 * the same fault plan (the timings of the machine still vary).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  createPostgresStore,
  createRedisStore,
  createSqliteStore,
  EventRouter,
  isTerminal,
  MemoryRouter,
  type RunRecord,
  type Store,
} from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { startManager, type ManagerProcess } from '../multi-process/multi-process.js';
import {
  everyAgentCompletedSince,
  FAULT_FLEET,
  FAULT_LEASE_TTL_MS,
  FaultTally,
  FLEET_AGENT_IDS,
  SKIP_AGENT_IDS,
} from './fault-fleet.js';
import { faultSeed, seededRandom, type SeededRandom } from './fault-seed.js';
import { postgresServerMissing, startPrivatePostgres } from './private-postgres.js';
import { redisServerMissing, startPrivateRedis } from './private-redis.js';
import {
  duplicateTicks,
  FAULT_SECRET,
  overlappingRuns,
  readRuns,
  secretLeaks,
  unfinishedRuns,
  type DeathTimes,
  type Violation,
} from './promise-checks.js';
import { dumpPostgres, dumpRedis, dumpSqlite } from './store-dumps.js';

const inCi = process.env.CI === 'true';
const seed = faultSeed();
const redisMissing = redisServerMissing();
const postgresMissing = postgresServerMissing();
for (const [store, missing] of [
  ['Redis', redisMissing],
  ['Postgres', postgresMissing],
] as const) {
  if (missing && !inCi) console.warn(`skipped the ${store} fault injection: ${missing}`);
}

/** Rounds per store: enough faults to hit runs at many points, few enough for the time budget. */
const ROUNDS = { redis: 5, postgres: 5, sqlite: 4 } as const;
/** Generous on purpose: a loaded 2-core machine may take seconds to recover, never this long. */
const RECOVERY_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 120_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A pause of random length: it only decides where in the fleet's life the next fault lands. */
async function randomPause(random: SeededRandom, minimumMs: number, maximumMs: number) {
  await new Promise((resolve) => setTimeout(resolve, random.between(minimumMs, maximumMs)));
}

/** Waits for every agent to complete a run begun after `sinceMs`, naming the seed if it never does. */
async function waitForRecovery(
  observer: Store,
  tally: FaultTally,
  what: string,
  sinceMs: number,
  workerId?: string,
): Promise<void> {
  await waitFor(() => everyAgentCompletedSince(observer, sinceMs, workerId), {
    timeoutMs: RECOVERY_TIMEOUT_MS,
    intervalMs: 100,
    what: `${tally.store} ${what} (seed ${tally.seed}: replay with NIGHTSHIFT_FAULT_SEED=${tally.seed})`,
  });
}

/** Checks promises 1, 3 and 8 (and 2 when `final`) on a fresh connection of the checker's own. */
async function checkPromises(
  openChecker: () => Store,
  dump: () => Promise<string> | string,
  tally: FaultTally,
  options: { final?: boolean; deathTimes?: DeathTimes } = {},
): Promise<RunRecord[]> {
  const checker = openChecker();
  try {
    const runs = await readRuns(checker, FLEET_AGENT_IDS);
    const text = await dump();
    const violations: Violation[] = [
      ...duplicateTicks(runs),
      ...(await overlappingRuns(checker, runs, SKIP_AGENT_IDS, options.deathTimes)),
      ...secretLeaks(text),
      ...(options.final ? unfinishedRuns(runs) : []),
    ];
    tally.checked(runs, violations);
    // The scan means something only if the secret-carrying answers were written (redacted).
    if (options.final) tally.redactionsSeen = text.includes('[redacted]');
    return runs;
  } finally {
    await checker.close();
  }
}

/**
 * Waits until every run unfinished now has ended: those in flight finish, and recovery takes
 * over those a fault left behind (after their lease expires). Any that never end break promise 2.
 */
async function waitForUnfinishedRunsToEnd(
  openChecker: () => Store,
  tally: FaultTally,
): Promise<void> {
  const checker = openChecker();
  try {
    const unfinished = new Set(
      (await readRuns(checker, FLEET_AGENT_IDS))
        .filter((run) => !isTerminal(run.status))
        .map((run) => run.run_id),
    );
    let left: RunRecord[] = [];
    await waitFor(
      async () => {
        left = (await readRuns(checker, FLEET_AGENT_IDS)).filter(
          (run) => unfinished.has(run.run_id) && !isTerminal(run.status),
        );
        return left.length === 0;
      },
      { timeoutMs: RECOVERY_TIMEOUT_MS, intervalMs: 200 },
    ).catch(() => {
      for (const run of left) {
        tally.violations.push({
          promise: 2,
          detail: `run ${run.run_id} stayed ${run.status} for ${RECOVERY_TIMEOUT_MS} ms after the last fault (lease ${run.lease_owner} until ${run.lease_expires_at})`,
        });
      }
    });
  } finally {
    await checker.close();
  }
}

/**
 * Ends what a clean shutdown left unfinished the way the product means it to: a later manager's
 * recovery takes over runs whose lease expired. The agents are stopped first so that manager
 * runs nothing new. Counted in the summary rather than failed: a clean shutdown with a healthy
 * store should leave nothing behind, but `queue_one` can (a known product bug, reproduced
 * deterministically in queue-one-slow-store.test.ts), and only when a fault came just before.
 */
async function recoverLeftovers(
  openChecker: () => Store,
  tally: FaultTally,
  recoveryService: () => BackgroundAgentService,
): Promise<void> {
  const checker = openChecker();
  try {
    const unfinished = (await readRuns(checker, FLEET_AGENT_IDS)).filter(
      (run) => !isTerminal(run.status),
    );
    tally.leftForRecovery = unfinished.length;
    if (unfinished.length === 0) return;
    console.warn(
      `fault-injection ${tally.store}: a clean shutdown left ${unfinished.length} runs unfinished: ` +
        unfinished
          .map((run) => `${run.run_id} (${run.status}, lease ${run.lease_owner})`)
          .join('; '),
    );
    const recovery = recoveryService();
    cleanups.push(() => recovery.shutdown({ timeout: 1_000 }));
    for (const agentId of FLEET_AGENT_IDS) await recovery.stopAgent(agentId);
    await recovery.startManager();
    await waitFor(
      async () => (await readRuns(checker, FLEET_AGENT_IDS)).every((run) => isTerminal(run.status)),
      { timeoutMs: FAULT_LEASE_TTL_MS * 3 + 10_000, intervalMs: 100 },
    ).catch(() => undefined);
    await recovery.shutdown({ timeout: 3_000 });
  } finally {
    await checker.close();
  }
}

/** A store the service runs on in this process, on a server the suite can cut off and restart. */
interface InProcessTarget {
  tally: FaultTally;
  random: SeededRandom;
  rounds: number;
  cutConnections(): Promise<number>;
  kill(): Promise<void>;
  start(): Promise<void>;
  /** A service on the store (a new one each call: the faulty one, later a recovery manager). */
  service(): BackgroundAgentService;
  openChecker(): Store;
  dump(): Promise<string>;
}

/**
 * Runs the fleet in this process and, each round, injects one or two faults at random points:
 * a connection cut, or an immediate stop of the server that stays down for up to a second.
 */
async function faultRoundsInProcess(target: InProcessTarget): Promise<void> {
  const { tally, random } = target;
  const service = target.service();
  cleanups.push(() => service.shutdown({ timeout: 1_000 }));
  const observer = target.openChecker();
  cleanups.push(() => observer.close());
  await service.startManager();
  const began = Date.now();
  for (const agent of FAULT_FLEET) {
    await service.create(agent);
    await service.startAgent(String(agent.agent_id));
  }
  await waitForRecovery(observer, tally, 'fleet to start', began);

  for (let round = 1; round <= target.rounds; round += 1) {
    const faults = random.between(1, 2);
    for (let fault = 0; fault < faults; fault += 1) {
      await randomPause(random, 100, 1_200);
      if (random.pick(['cut', 'restart'] as const) === 'cut') {
        await target.cutConnections();
        tally.fault('cuts');
      } else {
        await target.kill();
        await randomPause(random, 0, 1_000);
        await target.start();
        tally.fault('restarts');
      }
    }
    await waitForRecovery(observer, tally, `round ${round} to recover`, Date.now());
    await checkPromises(
      () => target.openChecker(),
      () => target.dump(),
      tally,
    );
    tally.rounds = round;
  }

  await waitForUnfinishedRunsToEnd(() => target.openChecker(), tally);
  await service.shutdown({ timeout: 3_000 });
  await recoverLeftovers(
    () => target.openChecker(),
    tally,
    () => target.service(),
  );
  await checkPromises(
    () => target.openChecker(),
    () => target.dump(),
    tally,
    { final: true },
  );
}

/** Prints the store's summary and fails on any broken promise (listed in full). */
function report(tally: FaultTally): void {
  console.log(tally.summary());
  expect(tally.runsChecked).toBeGreaterThan(0);
  expect(tally.redactionsSeen).toBe(true);
  expect(tally.violations).toEqual([]);
}

describe('fault injection (promises 1, 2, 3 and 8 under store faults)', () => {
  it.skipIf(redisMissing !== undefined && !inCi)(
    'redis: connection cuts and restarts of a private redis-server',
    async () => {
      // In CI a missing server is a broken environment, not a reason to skip.
      expect(redisMissing).toBeUndefined();
      const redis = await startPrivateRedis();
      cleanups.push(() => redis.stop());
      const namespace = 'fault';
      const options = { url: redis.url, namespace };
      const tally = new FaultTally('redis', seed);
      await faultRoundsInProcess({
        tally,
        random: seededRandom(seed, 1),
        rounds: ROUNDS.redis,
        cutConnections: () => redis.cutConnections(),
        kill: () => redis.kill(),
        start: () => redis.start(),
        service: () =>
          new BackgroundAgentService(
            new MemoryRouter('redis', options),
            new EventRouter('redis_stream', options),
            { leaseTtlMs: FAULT_LEASE_TTL_MS, secrets: [FAULT_SECRET] },
          ),
        openChecker: () => createRedisStore({ url: redis.url, prefix: `${namespace}:` }),
        dump: () => dumpRedis(redis.url, `${namespace}:`),
      });
      report(tally);
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(postgresMissing !== undefined && !inCi)(
    'postgres: backend terminations and immediate stops of a private cluster',
    async () => {
      expect(postgresMissing).toBeUndefined();
      const postgres = await startPrivatePostgres();
      cleanups.push(() => postgres.stop());
      console.log(`fault-injection postgres: private cluster ready in ${postgres.setupMs} ms`);
      const namespace = 'fault_injection';
      const options = { url: postgres.url, namespace };
      const tally = new FaultTally('postgres', seed);
      await faultRoundsInProcess({
        tally,
        random: seededRandom(seed, 2),
        rounds: ROUNDS.postgres,
        cutConnections: () => postgres.cutConnections(),
        kill: () => postgres.kill(),
        start: () => postgres.start(),
        service: () =>
          new BackgroundAgentService(
            new MemoryRouter('database', options),
            new EventRouter('database', options),
            { leaseTtlMs: FAULT_LEASE_TTL_MS, secrets: [FAULT_SECRET] },
          ),
        // A pool of its own: the service's shared pool (and what it caches) is not consulted.
        openChecker: () =>
          createPostgresStore({
            url: postgres.url,
            schema: namespace,
            pool: { shared: false, max: 2, applicationName: 'fault-checker' },
          }),
        dump: () => dumpPostgres(postgres.url, namespace),
      });
      report(tally);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'sqlite: the service process is SIGKILLed and a new one takes over the file',
    async () => {
      const directory = mkdtempSync(join(tmpdir(), 'nightshift-fault-sqlite-'));
      cleanups.push(async () => rmSync(directory, { recursive: true, force: true }));
      const path = join(directory, 'nightshift.db');
      const url = `sqlite:${path}`;
      const tally = new FaultTally('sqlite', seed);
      const random = seededRandom(seed, 3);
      const openChecker = () => createSqliteStore({ path });
      const newService = () =>
        new BackgroundAgentService(
          new MemoryRouter('database', { url }),
          new EventRouter('database', { url }),
          { leaseTtlMs: FAULT_LEASE_TTL_MS },
        );

      const control = newService();
      for (const agent of FAULT_FLEET) {
        await control.create(agent);
        await control.startAgent(String(agent.agent_id));
      }
      await control.shutdown();

      const managers: ManagerProcess[] = [];
      cleanups.push(async () => {
        for (const manager of managers) manager.child.kill('SIGKILL');
      });
      const deathTimes = new Map<string, number>();
      let instance = '';
      const startNext = async (): Promise<void> => {
        instance = `sqlite-manager-${managers.length + 1}`;
        const manager = await startManager({
          NIGHTSHIFT_TEST_URL: url,
          NIGHTSHIFT_TEST_MEMORY: 'database',
          NIGHTSHIFT_TEST_EVENTS: 'database',
          NIGHTSHIFT_TEST_LEASE_TTL_MS: String(FAULT_LEASE_TTL_MS),
          NIGHTSHIFT_TEST_INSTANCE: instance,
          // Named like an API key, so the child's service redacts its value (promise 8).
          FAULT_API_KEY: FAULT_SECRET,
        });
        managers.push(manager);
      };
      const observer = openChecker();
      cleanups.push(() => observer.close());
      const began = Date.now();
      await startNext();
      await waitForRecovery(observer, tally, 'first manager to run the fleet', began, instance);

      for (let round = 1; round <= ROUNDS.sqlite; round += 1) {
        await randomPause(random, 100, 1_500);
        const victim = managers.at(-1);
        if (victim && victim.child.exitCode === null) {
          const exited = new Promise((resolve) => victim.child.once('exit', resolve));
          victim.child.kill('SIGKILL');
          await exited;
        }
        // Taken after the exit: a later time only makes the overlap check stricter.
        const killedAt = Date.now();
        deathTimes.set(instance, killedAt);
        tally.fault('kills');
        await randomPause(random, 0, 500);
        await startNext();
        await waitForRecovery(observer, tally, `round ${round} to recover`, killedAt, instance);
        await checkPromises(openChecker, () => dumpSqlite(path), tally, { deathTimes });
        tally.rounds = round;
      }

      // The last manager's recovery must take over every run a killed manager left running.
      await waitForUnfinishedRunsToEnd(openChecker, tally);
      expect(await managers.at(-1)?.stop()).toBe(0);
      await recoverLeftovers(openChecker, tally, newService);
      await checkPromises(openChecker, () => dumpSqlite(path), tally, { final: true, deathTimes });
      report(tally);
    },
    TEST_TIMEOUT_MS,
  );
});
