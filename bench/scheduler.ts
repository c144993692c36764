/**
 * scheduler: N agents on a 1-second interval and an instant mock model, run by
 * `BackgroundAgentService` through a measurement window. Each scenario runs in a fresh child
 * process (`node bench/scheduler.ts '<parameters>'`), so RSS and GC are its own. On the shared
 * servers (Postgres, Redis) a scenario works in a namespace of its own, removed afterwards, and
 * times every storage call of its window.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackgroundAgentService,
  createPostgresStore,
  createRedisStore,
  EventRouter,
  MemoryRouter,
  type EventBackendKind,
  type MemoryBackendKind,
  type RunRecord,
  type Store,
} from '../src/index.js';
import { isMainModule, runInChild, sendToParent } from './child-process.js';
import { BENCH_SECRET, instantModel } from './fixtures.js';
import {
  collectGarbage,
  inChunks,
  LagSampler,
  megabytes,
  percentile,
  progress,
  sleep,
  timed,
} from './measure.js';
import {
  formatNumber,
  printSuite,
  type Figure,
  type Goal,
  type IssueGoalLine,
  type SuiteResult,
} from './report.js';
import {
  freshNamespace,
  postgresUrl,
  redisUrl,
  removeNamespace,
  unavailableReason,
  type SharedServer,
} from './shared-servers.js';
import type { BenchOptions, Suite } from './suite.js';
import {
  CallTimer,
  TimedEventRouter,
  TimedMemoryRouter,
  type CallTiming,
} from './timed-routers.js';

const SUITE = 'scheduler';
/** Agents created, started or stopped at once (Promise.all per chunk). */
const CHUNK = 500;
/** After the window, runs scheduled in its last second get this long to finish. */
const TAIL_MS = 1_500;
/** Storage calls listed per scenario on a shared server, most time in flight first. */
const LISTED_CALLS = 12;
/** Completed runs of the window whose steps are read back for the first model call's lateness. */
const STEP_SAMPLE = 2_000;

/** Where a scenario keeps the service's memory and events (both in the same place). */
type ScenarioBackend = 'memory' | 'sqlite' | 'postgres' | 'redis';

/** The shared server a backend needs, if any. */
function serverOf(backend: ScenarioBackend): SharedServer | undefined {
  return backend === 'postgres' || backend === 'redis' ? backend : undefined;
}

/** What a child process measures. */
interface ScenarioParameters {
  agents: number;
  backend: ScenarioBackend;
  /** Postgres schema or Redis key prefix (shared servers only). */
  namespace?: string;
  warmUpMs: number;
  windowMs: number;
}

/** What a child process sends back (plain numbers, for IPC). */
interface ScenarioMeasurement {
  createMs: number;
  startMs: number;
  /** Not measured on the shared servers, whose service is left to end with its process. */
  stopMs?: number;
  /** Starts and stops that failed in a chunk and were tried again on their own. */
  retried: number;
  /** Why the first of them failed. */
  firstRetryReason?: string;
  /** How long the window took by the wall clock (longer than asked when the loop is saturated). */
  windowWallMs: number;
  /** Runs (not skips) that ended while the window lasted by the clock, whatever their tick. */
  endedInWindow: number;
  /** Ticks due in the window: agents × window seconds. */
  expected: number;
  /** Run records of the window (by scheduled_at), by status. */
  statuses: Record<string, number>;
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
  /** First model call's started_at − scheduled_at, over a sample of the window's completed runs. */
  modelCallP50: number;
  modelCallP99: number;
  /** Missed ticks counted in agent stats over the whole scenario. */
  missedTotal: number;
  rssPeakMb: number;
  heapUsedMb: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Process CPU time during the window (all threads: GC, SQLite fsync waits not included). */
  cpuMs: number;
  /** Storage calls that started in the window (shared servers only), most time in flight first. */
  storeCalls?: CallTiming[];
}

/** The routers of a scenario: both on one backend, timed on the shared servers. */
function routersFor(parameters: ScenarioParameters, file: string | undefined, timer: CallTimer) {
  const { backend, namespace } = parameters;
  const shared = namespace === undefined ? {} : { namespace };
  const timed = (memoryKind: MemoryBackendKind, eventKind: EventBackendKind, url: string) => ({
    memory: new TimedMemoryRouter(timer, memoryKind, { url, ...shared }),
    events: new TimedEventRouter(timer, eventKind, { url, ...shared }),
  });
  switch (backend) {
    case 'memory':
      return { memory: new MemoryRouter('in_memory'), events: new EventRouter('in_memory') };
    case 'sqlite':
      return {
        memory: new MemoryRouter('database', { url: `sqlite:${file}` }),
        events: new EventRouter('database', { url: `sqlite:${file}` }),
      };
    case 'postgres':
      return timed('database', 'database', postgresUrl());
    case 'redis':
      return timed('redis', 'redis_stream', redisUrl());
  }
}

/** Calls that failed in a chunk and were retried, and why the first failed. */
interface AgentCalls {
  retried: number;
  reason?: string;
}

/**
 * Calls `work` for every agent, {@link CHUNK} at a time. Calls that fail are tried again one at
 * a time: on a shared server, a chunk of calls can outwait the connection pool while a
 * thousand agents tick.
 */
async function forEachAgent(
  ids: readonly string[],
  work: (agentId: string) => Promise<unknown>,
): Promise<AgentCalls> {
  const failed: string[] = [];
  let reason: string | undefined;
  await inChunks(ids, CHUNK, (agentId) =>
    work(agentId).catch((error: unknown) => {
      failed.push(agentId);
      reason ??= error instanceof Error ? error.message : String(error);
    }),
  );
  for (const agentId of failed) await work(agentId);
  return { retried: failed.length, ...(reason === undefined ? {} : { reason }) };
}

/**
 * A store of its own on the scenario's shared server (the namespace as the routers map it),
 * to read the records back while the service still runs: it has its own connections, so it
 * does not queue behind the service's.
 */
function openReader(server: SharedServer, namespace: string): Store {
  return server === 'redis'
    ? createRedisStore({ url: redisUrl(), prefix: `${namespace}:` })
    : createPostgresStore({
        url: postgresUrl(),
        schema: namespace,
        pool: { shared: false, applicationName: 'nightshift-bench-reader' },
      });
}

/** A scenario's figures, and how to end it: shut the service down, remove what it wrote. */
interface ScenarioRun {
  measured: ScenarioMeasurement;
  end: () => Promise<void>;
}

async function measureScenario(parameters: ScenarioParameters): Promise<ScenarioRun> {
  const { agents, backend, warmUpMs, windowMs } = parameters;
  const file =
    backend === 'sqlite'
      ? join(tmpdir(), `nightshift-bench-${process.pid}-${randomBytes(4).toString('hex')}.db`)
      : undefined;
  const timer = new CallTimer();
  const server = serverOf(backend);
  const { memory, events } = routersFor(parameters, file, timer);
  const service = new BackgroundAgentService(memory, events, {
    providers: { mock: () => instantModel() },
    env: {},
    secrets: [BENCH_SECRET],
  });
  const label = `scheduler ${agents} ${backend}`;
  let reader: Store | undefined;
  const ids = Array.from(
    { length: agents },
    (_, index) => `agent-${String(index).padStart(5, '0')}`,
  );
  const end = async () => {
    await service.shutdown({ timeout: 5_000 });
    await reader?.close();
    if (file)
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    if (server && parameters.namespace !== undefined)
      await removeNamespace(server, parameters.namespace);
  };
  try {
    await service.startManager();
    const created = await timed(() =>
      inChunks(ids, CHUNK, (agentId) =>
        service.create({
          agent_id: agentId,
          interval: 1,
          model_config: { provider: 'mock', model: 'm' },
          task_config: { query: 'tick' },
        }),
      ),
    );
    const started = await timed(() => forEachAgent(ids, (agentId) => service.startAgent(agentId)));
    progress(
      `${label}: created in ${(created.ms / 1000).toFixed(1)} s, started in ${(started.ms / 1000).toFixed(1)} s; warm-up ${warmUpMs} ms`,
    );
    await sleep(warmUpMs);

    collectGarbage();
    const lag = new LagSampler();
    let rssPeak = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, 250);
    const cpuBefore = process.cpuUsage();
    const windowStart = Date.now();
    const windowEnd = windowStart + windowMs;
    progress(`${label}: measuring ${windowMs} ms`);
    timer.switch(true);
    await sleep(windowMs);
    timer.switch(false);
    const windowWallMs = Date.now() - windowStart;
    const cpu = process.cpuUsage(cpuBefore);
    lag.stop();
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    const heapUsed = process.memoryUsage().heapUsed;
    await sleep(TAIL_MS);

    // On a shared server the records are read while the agents still tick, by a store of its
    // own: stopping them one by one can outwait the service's connection pool under the flood
    // of ticks (10 s, then storage_unavailable), and so can a shutdown.
    let stopped: { ms: number; value: AgentCalls } | undefined;
    let store: Store;
    if (server && parameters.namespace !== undefined) {
      progress(`${label}: window took ${(windowWallMs / 1000).toFixed(1)} s by the clock; reading`);
      reader = openReader(server, parameters.namespace);
      store = reader;
    } else {
      progress(
        `${label}: window took ${(windowWallMs / 1000).toFixed(1)} s by the clock; stopping`,
      );
      stopped = await timed(() => forEachAgent(ids, (agentId) => service.stopAgent(agentId)));
      store = await memory.connect();
    }
    const window: RunRecord[] = [];
    let endedInWindow = 0;
    await inChunks(ids, CHUNK, async (agentId) => {
      for (const run of await store.runs.list(agentId, { limit: 10_000 })) {
        const scheduledAt = Date.parse(run.scheduled_at);
        if (scheduledAt >= windowStart && scheduledAt < windowEnd) window.push(run);
        const endedAt = run.ended_at === null ? Number.NaN : Date.parse(run.ended_at);
        if (
          run.status !== 'skipped' &&
          endedAt >= windowStart &&
          endedAt < windowStart + windowWallMs
        )
          endedInWindow += 1;
      }
    });
    const missedTotal = (await store.agents.list()).reduce(
      (sum, record) => sum + record.stats.missed_count,
      0,
    );

    const statuses: Record<string, number> = {};
    for (const run of window) statuses[run.status] = (statuses[run.status] ?? 0) + 1;
    const lateness = window.flatMap((run) =>
      run.started_at === null ? [] : [Date.parse(run.started_at) - Date.parse(run.scheduled_at)],
    );
    const modelCalls = await firstModelCallLateness(store, window);
    const measured: ScenarioMeasurement = {
      createMs: created.ms,
      startMs: started.ms,
      ...(stopped ? { stopMs: stopped.ms } : {}),
      retried: started.value.retried + (stopped?.value.retried ?? 0),
      ...((started.value.reason ?? stopped?.value.reason)
        ? { firstRetryReason: started.value.reason ?? stopped?.value.reason }
        : {}),
      windowWallMs,
      endedInWindow,
      expected: agents * Math.round(windowMs / 1000),
      statuses,
      latenessP50: percentile(lateness, 50),
      latenessP99: percentile(lateness, 99),
      latenessMax: percentile(lateness, 100),
      modelCallP50: percentile(modelCalls, 50),
      modelCallP99: percentile(modelCalls, 99),
      missedTotal,
      rssPeakMb: megabytes(rssPeak),
      heapUsedMb: megabytes(heapUsed),
      lagP99Ms: lag.percentile(99),
      lagMaxMs: lag.percentile(100),
      cpuMs: (cpu.user + cpu.system) / 1000,
      ...(server ? { storeCalls: timer.timings() } : {}),
    };
    return { measured, end };
  } catch (error) {
    await end();
    throw error;
  }
}

/**
 * How late the first model call of a run came (its step's started_at − scheduled_at), for an
 * evenly spread sample of the window's completed runs: a run counts as started when it is
 * claimed, and may then wait its turn for the CPU before it calls the model.
 */
async function firstModelCallLateness(store: Store, window: RunRecord[]): Promise<number[]> {
  const completed = window.filter((run) => run.status === 'completed');
  const every = Math.max(1, Math.ceil(completed.length / STEP_SAMPLE));
  const sample = completed.filter((_, index) => index % every === 0);
  const lateness: number[] = [];
  await inChunks(sample, CHUNK, async (run) => {
    const first = (await store.runs.listSteps(run.run_id)).find(
      (step) => step.kind === 'model_call',
    );
    if (first) lateness.push(Date.parse(first.started_at) - Date.parse(run.scheduled_at));
  });
  return lateness;
}

interface Scenario {
  agents: number;
  backend: ScenarioBackend;
  goals: { latenessP99?: Goal; completedPercent?: Goal };
}

/** What the shared-backends issue asks of a fleet on Postgres or Redis. */
const SHARED_SERVER_GOALS: Scenario['goals'] = {
  completedPercent: { comparison: 'at_least', target: 99 },
  latenessP99: { comparison: 'at_most', target: 100 },
};

const SCENARIOS: readonly Scenario[] = [
  {
    agents: 1_000,
    backend: 'memory',
    goals: { latenessP99: { comparison: 'at_most', target: 50 } },
  },
  {
    agents: 5_000,
    backend: 'sqlite',
    goals: { completedPercent: { comparison: 'at_least', target: 95 } },
  },
  { agents: 1_000, backend: 'sqlite', goals: {} },
  { agents: 1_000, backend: 'redis', goals: SHARED_SERVER_GOALS },
  { agents: 1_000, backend: 'postgres', goals: SHARED_SERVER_GOALS },
];

/**
 * A number as sent over IPC: NaN (no run started) arrives as null, which a goal would judge as
 * 0 (`null <= 100`), so it is turned back into NaN, which meets no goal.
 */
function fromIpc(value: number | null): number {
  return value ?? Number.NaN;
}

function figuresOf(scenario: Scenario, measured: ScenarioMeasurement, windowMs: number): Figure[] {
  const prefix = `${scenario.agents.toLocaleString('en-US')} ${scenario.backend}`;
  const figure = (
    name: string,
    value: number,
    unit: string,
    extra: Partial<Figure> = {},
  ): Figure => ({
    suite: SUITE,
    name: `${prefix} · ${name}`,
    value,
    unit,
    ...extra,
  });
  const count = (status: string) => measured.statuses[status] ?? 0;
  const recorded = Object.values(measured.statuses).reduce((sum, value) => sum + value, 0);
  const completed = count('completed');
  const { goals } = scenario;
  const issueGoal: IssueGoalLine | undefined =
    scenario.backend === 'postgres'
      ? '1,000 agents at 1 s on Postgres, delivered / p99'
      : scenario.backend === 'redis'
        ? '1,000 agents at 1 s on Redis, delivered / p99'
        : undefined;
  const held = issueGoal === undefined ? {} : { issueGoal };
  const figures = [
    figure('create agents', measured.createMs / 1000, 's'),
    figure('start agents', measured.startMs / 1000, 's'),
    figure(
      `completed runs/s (expected ${scenario.agents.toLocaleString('en-US')})`,
      completed / (windowMs / 1000),
      'runs/s',
      { key: true },
    ),
    figure('completed of expected', (completed / measured.expected) * 100, '%', {
      key: true,
      ...(goals.completedPercent ? { goal: goals.completedPercent, ...held } : {}),
    }),
    figure('lateness p50', fromIpc(measured.latenessP50), 'ms', { key: true }),
    figure('lateness p99', fromIpc(measured.latenessP99), 'ms', {
      key: true,
      ...(goals.latenessP99 ? { goal: goals.latenessP99, ...held } : {}),
    }),
    figure('lateness max', fromIpc(measured.latenessMax), 'ms'),
    figure('first model call, lateness p50', fromIpc(measured.modelCallP50), 'ms'),
    figure('first model call, lateness p99', fromIpc(measured.modelCallP99), 'ms', { key: true }),
    figure('skipped (window)', count('skipped'), '', { key: true }),
    figure('missed: ticks without a record (window)', measured.expected - recorded, '', {
      key: true,
    }),
    figure('other non-completed (window)', recorded - completed - count('skipped'), ''),
    figure('missed in agent stats (whole scenario)', measured.missedTotal, ''),
    figure(
      'CPU per run (runs that ended in the window)',
      measured.cpuMs / measured.endedInWindow,
      'ms',
      {
        key: true,
      },
    ),
    figure('CPU busy (of one core)', (measured.cpuMs / measured.windowWallMs) * 100, '%'),
    figure('event-loop lag p99', measured.lagP99Ms, 'ms'),
    figure('event-loop lag max', measured.lagMaxMs, 'ms'),
    figure('window by the clock', measured.windowWallMs / 1000, 's'),
    figure('RSS peak', measured.rssPeakMb, 'MB', { key: true }),
    figure('heap used', measured.heapUsedMb, 'MB'),
  ];
  if (measured.stopMs !== undefined)
    figures.push(figure('stop agents', measured.stopMs / 1000, 's'));
  return figures;
}

/** The storage calls that took the most time in the window, for a note. */
function describeStoreCalls(label: string, measured: ScenarioMeasurement): string {
  const seconds = measured.windowWallMs / 1000;
  const calls = (measured.storeCalls ?? [])
    .slice(0, LISTED_CALLS)
    .map(
      (timing) =>
        `${timing.call} ${formatNumber(timing.count / seconds)}/s, mean ${formatNumber(timing.meanMs)} ms, p99 ${formatNumber(timing.p99Ms)} ms, ${formatNumber(timing.totalMs / 1000)} s`,
    );
  return `${label}: storage calls started in the window, most time first (calls/s, latency mean and p99, time in flight summed): ${calls.join('; ') || 'none'}`;
}

async function run(options: BenchOptions): Promise<SuiteResult> {
  const warmUpMs = options.quick ? 1_000 : 3_000;
  const windowMs = options.quick ? 4_000 : 10_000;
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const scenario of SCENARIOS) {
    const agents = options.quick ? Math.ceil(scenario.agents / 5) : scenario.agents;
    const label = `${agents} ${scenario.backend}`;
    const server = serverOf(scenario.backend);
    const skipped = server ? await unavailableReason(server) : undefined;
    if (skipped) {
      progress(`scheduler ${label}: skipped (${skipped})`);
      notes.push(`${label}: SKIPPED — ${skipped}`);
      continue;
    }
    const namespace = server ? freshNamespace(SUITE) : undefined;
    const parameters: ScenarioParameters = {
      agents,
      backend: scenario.backend,
      ...(namespace === undefined ? {} : { namespace }),
      warmUpMs,
      windowMs,
    };
    let measured: ScenarioMeasurement;
    try {
      measured = await runInChild<ScenarioMeasurement>(
        import.meta.url,
        [JSON.stringify(parameters)],
        options.runtimes[0],
      );
    } catch (error) {
      // A server others share can fail under their load too: the other scenarios still count.
      if (!server) throw error;
      notes.push(`${label}: FAILED — ${error instanceof Error ? error.message : String(error)}`);
      continue;
    } finally {
      // The child removes its namespace; this covers a child that died first.
      if (server && namespace !== undefined) await removeNamespace(server, namespace);
    }
    figures.push(...figuresOf({ ...scenario, agents }, measured, windowMs));
    const statuses = Object.entries(measured.statuses)
      .map(([status, count]) => `${status} ${count}`)
      .join(', ');
    notes.push(`${label}: window run records by status: ${statuses || 'none'}`);
    if (measured.retried > 0)
      notes.push(
        `${label}: ${measured.retried} starts/stops failed in a chunk and were retried one by one (first: ${measured.firstRetryReason})`,
      );
    if (measured.storeCalls) notes.push(describeStoreCalls(label, measured));
  }
  notes.push(
    `interval 1 s, instant text answer, no tools, default policies (overlap skip, misfire skip, session per agent), one secret to redact; ${warmUpMs} ms warm-up, ${windowMs} ms window; ticks counted by scheduled_at in the window`,
    'lateness = started_at − scheduled_at of the window’s runs that started (a tick more than an interval late is missed, not run, so lateness stays under ~1 s); a run starts when it is claimed, then waits its turn for the CPU (at most 2 runs go on per turn of the event loop, so ticks due meanwhile are not held up; a run that has waited 500 ms goes on at once): “first model call” is when its first model step began, over a sample of up to 2,000 completed runs',
    `agents are started as fast as the service allows, so their ticks fall in a burst of about the start time each second; each scenario in a fresh ${options.runtimes[0]} process`,
    'postgres and redis: memory and events on the same server (database / redis_stream), in a fresh namespace removed afterwards; their storage calls are timed through the routers; records are read back by a store with connections of its own while the agents still tick (runs still in flight count as not completed), and the process then ends without a shutdown (not timed)',
  );
  return { figures, notes };
}

/** The scheduler suite. */
export const schedulerSuite: Suite = {
  name: SUITE,
  title: 'scheduler — agents on a 1 s interval: sustained runs, lateness',
  run,
};

if (isMainModule(import.meta.url)) {
  const parameters = JSON.parse(process.argv[2] ?? 'null') as ScenarioParameters | null;
  if (!parameters) {
    console.error(
      'usage: node --import tsx bench/scheduler.ts \'{"agents":1000,"backend":"memory","warmUpMs":3000,"windowMs":10000}\' (backend memory, sqlite, postgres or redis)',
    );
    process.exit(2);
  }
  // Never the default namespace on a server others share.
  if (serverOf(parameters.backend)) parameters.namespace ??= freshNamespace(SUITE);
  const { measured, end } = await measureScenario(parameters);
  const sent = await sendToParent(measured);
  if (sent && serverOf(parameters.backend)) {
    // A thousand agents can keep a shared server's pool busy for half a minute after the
    // window: this process just ends, and the parent removes the namespace.
    process.exit(0);
  }
  await end();
  if (!sent) {
    const scenario = SCENARIOS.find(
      (candidate) =>
        candidate.agents === parameters.agents && candidate.backend === parameters.backend,
    ) ?? { agents: parameters.agents, backend: parameters.backend, goals: {} };
    printSuite(schedulerSuite.title, {
      figures: figuresOf(scenario, measured, parameters.windowMs),
      notes: measured.storeCalls
        ? [describeStoreCalls(`${parameters.agents} ${parameters.backend}`, measured)]
        : [],
    });
  }
}
