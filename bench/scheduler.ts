/**
 * scheduler: N agents on a 1-second interval and an instant mock model, run by
 * `BackgroundAgentService` through a measurement window. Each scenario runs in a fresh child
 * process (`node bench/scheduler.ts '<parameters>'`), so RSS and GC are its own.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackgroundAgentService, EventRouter, MemoryRouter, type RunRecord } from '../src/index.js';
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
import { printSuite, type Figure, type Goal, type SuiteResult } from './report.js';
import type { BenchOptions, Suite } from './suite.js';

const SUITE = 'scheduler';
/** Agents created, started or stopped at once (Promise.all per chunk). */
const CHUNK = 500;
/** After the window, runs scheduled in its last second get this long to finish. */
const TAIL_MS = 1_500;

/** What a child process measures. */
interface ScenarioParameters {
  agents: number;
  backend: 'memory' | 'sqlite';
  warmUpMs: number;
  windowMs: number;
}

/** What a child process sends back (plain numbers, for IPC). */
interface ScenarioMeasurement {
  createMs: number;
  startMs: number;
  stopMs: number;
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
  /** Missed ticks counted in agent stats over the whole scenario. */
  missedTotal: number;
  rssPeakMb: number;
  heapUsedMb: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Process CPU time during the window (all threads: GC, SQLite fsync waits not included). */
  cpuMs: number;
}

async function measureScenario(parameters: ScenarioParameters): Promise<ScenarioMeasurement> {
  const { agents, backend, warmUpMs, windowMs } = parameters;
  const file =
    backend === 'sqlite'
      ? join(tmpdir(), `nightshift-bench-${process.pid}-${randomBytes(4).toString('hex')}.db`)
      : undefined;
  const memory = file
    ? new MemoryRouter('database', { url: `sqlite:${file}` })
    : new MemoryRouter('in_memory');
  const events = file
    ? new EventRouter('database', { url: `sqlite:${file}` })
    : new EventRouter('in_memory');
  const service = new BackgroundAgentService(memory, events, {
    providers: { mock: () => instantModel() },
    env: {},
    secrets: [BENCH_SECRET],
  });
  const label = `scheduler ${agents} ${backend}`;
  const ids = Array.from(
    { length: agents },
    (_, index) => `agent-${String(index).padStart(5, '0')}`,
  );
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
    const started = await timed(() =>
      inChunks(ids, CHUNK, (agentId) => service.startAgent(agentId)),
    );
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
    await sleep(windowMs);
    const windowWallMs = Date.now() - windowStart;
    const cpu = process.cpuUsage(cpuBefore);
    lag.stop();
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    const heapUsed = process.memoryUsage().heapUsed;
    await sleep(TAIL_MS);

    progress(`${label}: window took ${(windowWallMs / 1000).toFixed(1)} s by the clock; stopping`);
    const stopped = await timed(() =>
      inChunks(ids, CHUNK, (agentId) => service.stopAgent(agentId)),
    );
    const window: RunRecord[] = [];
    let endedInWindow = 0;
    await inChunks(ids, CHUNK, async (agentId) => {
      for (const run of await service.listRuns(agentId, { limit: 10_000 })) {
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
    const store = await memory.connect();
    const missedTotal = (await store.agents.list()).reduce(
      (sum, record) => sum + record.stats.missed_count,
      0,
    );

    const statuses: Record<string, number> = {};
    for (const run of window) statuses[run.status] = (statuses[run.status] ?? 0) + 1;
    const lateness = window.flatMap((run) =>
      run.started_at === null ? [] : [Date.parse(run.started_at) - Date.parse(run.scheduled_at)],
    );
    return {
      createMs: created.ms,
      startMs: started.ms,
      stopMs: stopped.ms,
      windowWallMs,
      endedInWindow,
      expected: agents * Math.round(windowMs / 1000),
      statuses,
      latenessP50: percentile(lateness, 50),
      latenessP99: percentile(lateness, 99),
      latenessMax: percentile(lateness, 100),
      missedTotal,
      rssPeakMb: megabytes(rssPeak),
      heapUsedMb: megabytes(heapUsed),
      lagP99Ms: lag.percentile(99),
      lagMaxMs: lag.percentile(100),
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    await service.shutdown({ timeout: 5_000 });
    if (file)
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  }
}

interface Scenario {
  agents: number;
  backend: 'memory' | 'sqlite';
  goals: { latenessP99?: Goal; completedPercent?: Goal };
}

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
];

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
  return [
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
      ...(goals.completedPercent ? { goal: goals.completedPercent } : {}),
    }),
    figure('lateness p50', measured.latenessP50, 'ms', { key: true }),
    figure('lateness p99', measured.latenessP99, 'ms', {
      key: true,
      ...(goals.latenessP99 ? { goal: goals.latenessP99 } : {}),
    }),
    figure('lateness max', measured.latenessMax, 'ms'),
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
    figure('stop agents', measured.stopMs / 1000, 's'),
  ];
}

async function run(options: BenchOptions): Promise<SuiteResult> {
  const warmUpMs = options.quick ? 1_000 : 3_000;
  const windowMs = options.quick ? 4_000 : 10_000;
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const scenario of SCENARIOS) {
    const agents = options.quick ? Math.ceil(scenario.agents / 5) : scenario.agents;
    const parameters: ScenarioParameters = {
      agents,
      backend: scenario.backend,
      warmUpMs,
      windowMs,
    };
    const measured = await runInChild<ScenarioMeasurement>(
      import.meta.url,
      [JSON.stringify(parameters)],
      options.runtimes[0],
    );
    figures.push(...figuresOf({ ...scenario, agents }, measured, windowMs));
    const statuses = Object.entries(measured.statuses)
      .map(([status, count]) => `${status} ${count}`)
      .join(', ');
    notes.push(
      `${agents} ${scenario.backend}: window run records by status: ${statuses || 'none'}`,
    );
  }
  notes.push(
    `interval 1 s, instant text answer, no tools, default policies (overlap skip, misfire skip, session per agent), one secret to redact; ${warmUpMs} ms warm-up, ${windowMs} ms window; ticks counted by scheduled_at in the window`,
    'lateness = started_at − scheduled_at of the window’s runs that started (a tick more than an interval late is missed, not run, so lateness stays under ~1 s)',
    `agents are started as fast as the service allows, so their ticks fall in a burst of about the start time each second; each scenario in a fresh ${options.runtimes[0]} process`,
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
      'usage: node --import tsx bench/scheduler.ts \'{"agents":1000,"backend":"memory","warmUpMs":3000,"windowMs":10000}\'',
    );
    process.exit(2);
  }
  const measured = await measureScenario(parameters);
  if (!(await sendToParent(measured))) {
    const scenario = SCENARIOS.find(
      (candidate) =>
        candidate.agents === parameters.agents && candidate.backend === parameters.backend,
    ) ?? { agents: parameters.agents, backend: parameters.backend, goals: {} };
    printSuite(schedulerSuite.title, {
      figures: figuresOf(scenario, measured, parameters.windowMs),
      notes: [],
    });
  }
}
