/**
 * fleet-day: a real fleet's day on one machine (issue #18) — 10,000 agents at a 60 s interval,
 * each run a model call that answers after a delay with a tool call, a local tool that returns
 * at once, then a second delayed model call that answers, through `BackgroundAgentService` on the
 * embedded default (SQLite), then on Postgres and on Redis, for 5 minutes. Agents are started
 * spread over one interval, as a real fleet's agents start at different times. Each backend runs
 * in a fresh child process (`node bench/fleet-day.ts '<parameters>'`); Postgres and Redis in a
 * namespace of their own (a schema, a key prefix) that is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  type RunRecord,
  type ToolDefinition,
} from '../src/index.js';
import { applyHeapGrowth, DEFAULT_HEAP_GROWTH } from '../src/cli/heap-growth.js';
import { isMainModule, runInChild, sendToParent } from './child-process.js';
import { echo } from './echo-run.js';
import { BENCH_SECRET, delayedToolModel } from './fixtures.js';
import { inChunks, LagSampler, megabytes, percentile, progress, sleep, timed } from './measure.js';
import { printSuite, type Figure, type SuiteResult } from './report.js';
import {
  describeServer,
  freshNamespace,
  postgresUrl,
  redisUrl,
  removeNamespace,
  unavailableReason,
  type SharedServer,
} from './shared-servers.js';
import type { BenchOptions, Suite } from './suite.js';

const SUITE = 'fleet-day';
/** Agents created at once (Promise.all per chunk), and read back at once. */
const CHUNK = 500;
/** Agents started together: the fleet is started in slots of this many, spread over an interval. */
const START_GROUP = 50;
/** Each model call answers after this long: a run (two calls) takes about 2 s. */
const MODEL_DELAY_MS = 1_000;
/** After the window, the runs of its last ticks get this long to start and end. */
const TAIL_MS = 2 * MODEL_DELAY_MS + 3_000;
/** How often RSS is sampled. */
const RSS_SAMPLE_MS = 250;
/** The local tool the model calls. */
const TOOL = 'echo';

/** What the issue asks of a fleet's day. */
const GOALS = {
  delivered: { comparison: 'at_least', target: 100 },
  latenessP99: { comparison: 'at_most', target: 100 },
  rssPeak: { comparison: 'at_most', target: 400 },
} as const;

/** The backends measured, in order: the embedded default first. */
const BACKENDS = ['sqlite', 'postgres', 'redis'] as const;
type Backend = (typeof BACKENDS)[number];

function serverOf(backend: Backend): SharedServer | undefined {
  return backend === 'sqlite' ? undefined : backend;
}

/** What a child process measures. */
interface FleetParameters {
  backend: Backend;
  agents: number;
  intervalS: number;
  windowMs: number;
  /** Postgres schema or Redis key prefix (shared servers only). */
  namespace?: string;
  /** The process's `--heap-growth`, as `nightshift run` sets it (0: V8's own choice). */
  heapGrowth: number;
}

/** What a child process sends back (plain numbers, for IPC). */
interface FleetMeasurement {
  description: string;
  createMs: number;
  /** From the first start to the last: about one interval, by design. */
  startSpreadMs: number;
  /** Ticks due in the window: agents × window / interval. */
  expected: number;
  /** The window's run records (by scheduled_at), by status. */
  statuses: Record<string, number>;
  /** Window runs that started (claimed): the ticks delivered. */
  delivered: number;
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
  /** Runs in flight over the window (started, not ended), from the records: peak and time mean. */
  inFlightPeak: number;
  inFlightMean: number;
  /** Run duration (ended − started) of the window's completed runs. */
  durationP50: number;
  durationP99: number;
  /** Runs (not skips) that ended in the window, whatever their tick. */
  endedInWindow: number;
  windowWallMs: number;
  cpuMs: number;
  /** RSS peak from the first start to the end of the window, and at the window's end. */
  rssPeakMb: number;
  rssEndMb: number;
  heapUsedMb: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Missed ticks in agent stats over the whole scenario. */
  missedTotal: number;
}

function routersFor(parameters: FleetParameters, file: string | undefined) {
  const shared = parameters.namespace === undefined ? {} : { namespace: parameters.namespace };
  switch (parameters.backend) {
    case 'sqlite':
      return {
        memory: new MemoryRouter('database', { url: `sqlite:${file}` }),
        events: new EventRouter('database', { url: `sqlite:${file}` }),
      };
    case 'postgres':
      return {
        memory: new MemoryRouter('database', { url: postgresUrl(), ...shared }),
        events: new EventRouter('database', { url: postgresUrl(), ...shared }),
      };
    case 'redis':
      return {
        memory: new MemoryRouter('redis', { url: redisUrl(), ...shared }),
        events: new EventRouter('redis_stream', { url: redisUrl(), ...shared }),
      };
  }
}

/** Peak and time-weighted mean of runs in flight over [start, end), from their start and end. */
function inFlight(
  spans: readonly { started: number; ended: number }[],
  start: number,
  end: number,
): { peak: number; mean: number } {
  const edges: [number, number][] = [];
  for (const { started, ended } of spans) {
    const from = Math.max(started, start);
    const to = Math.min(ended, end);
    if (to <= from) continue;
    edges.push([from, 1], [to, -1]);
  }
  // Ends before starts at the same instant: a run that ends as another starts is not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let peak = 0;
  let area = 0;
  let last = start;
  for (const [at, change] of edges) {
    area += current * (at - last);
    last = at;
    current += change;
    peak = Math.max(peak, current);
  }
  area += current * (end - last);
  return { peak, mean: area / Math.max(1, end - start) };
}

async function measureFleet(parameters: FleetParameters): Promise<FleetMeasurement> {
  const { backend, agents, intervalS, windowMs } = parameters;
  // The process as `nightshift run` runs it.
  applyHeapGrowth(parameters.heapGrowth);
  const intervalMs = intervalS * 1000;
  const file =
    backend === 'sqlite'
      ? join(tmpdir(), `nightshift-bench-${process.pid}-${randomBytes(4).toString('hex')}.db`)
      : undefined;
  const { memory, events } = routersFor(parameters, file);
  const model = delayedToolModel(MODEL_DELAY_MS, TOOL);
  const service = new BackgroundAgentService(memory, events, {
    providers: { mock: () => model },
    tools: { [TOOL]: echo as ToolDefinition<never> },
    env: {},
    secrets: [BENCH_SECRET],
  });
  const label = `fleet-day ${agents} ${backend}`;
  const ids = Array.from(
    { length: agents },
    (_, index) => `agent-${String(index).padStart(5, '0')}`,
  );
  let rssPeak = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  try {
    await service.startManager();
    const created = await timed(() =>
      inChunks(ids, CHUNK, (agentId) =>
        service.create({
          agent_id: agentId,
          interval: intervalS,
          model_config: { provider: 'mock', model: 'm' },
          task_config: { query: 'Look up the queue, then report.' },
          tools: [TOOL],
        }),
      ),
    );
    // The fleet starts spread over one interval: group k of START_GROUP agents at k × slot, so
    // each group's ticks fall `slot` after the previous group's, interval after interval.
    const groups = Math.ceil(agents / START_GROUP);
    const slotMs = intervalMs / groups;
    progress(
      `${label}: created in ${(created.ms / 1000).toFixed(1)} s; starting ${groups} groups of ${START_GROUP}, one every ${slotMs.toFixed(0)} ms`,
    );
    rssPeak = process.memoryUsage.rss();
    const firstStart = Date.now();
    for (let group = 0; group < groups; group += 1) {
      const due = firstStart + group * slotMs;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      await Promise.all(
        ids
          .slice(group * START_GROUP, (group + 1) * START_GROUP)
          .map((agentId) => service.startAgent(agentId)),
      );
    }
    const lastStart = Date.now();
    // From one interval after the first start, every agent ticks once per interval.
    const windowStart = Math.max(firstStart + intervalMs, lastStart);
    if (windowStart > Date.now()) await sleep(windowStart - Date.now());
    const windowEnd = windowStart + windowMs;
    progress(
      `${label}: started over ${((lastStart - firstStart) / 1000).toFixed(1)} s; measuring ${windowMs / 1000} s`,
    );
    const cpuBefore = process.cpuUsage();
    const lag = new LagSampler();
    await sleep(windowEnd - Date.now());
    const windowWallMs = Date.now() - windowStart;
    const cpu = process.cpuUsage(cpuBefore);
    lag.stop();
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    const rssEnd = process.memoryUsage.rss();
    const heapUsed = process.memoryUsage().heapUsed;
    clearInterval(sampler);
    await sleep(TAIL_MS);

    progress(`${label}: reading the window's runs`);
    const readAt = Date.now();
    const { runs, agents: agentStore } = await memory.connect();
    const window: RunRecord[] = [];
    let endedInWindow = 0;
    await inChunks(ids, CHUNK, async (agentId) => {
      for (const run of await runs.list(agentId, { limit: 1_000 })) {
        const scheduledAt = Date.parse(run.scheduled_at);
        if (scheduledAt >= windowStart && scheduledAt < windowEnd) window.push(run);
        const endedAt = run.ended_at === null ? Number.NaN : Date.parse(run.ended_at);
        if (run.status !== 'skipped' && endedAt >= windowStart && endedAt < windowEnd)
          endedInWindow += 1;
      }
    });
    const missedTotal = (await agentStore.list()).reduce(
      (sum, record) => sum + record.stats.missed_count,
      0,
    );
    const statuses: Record<string, number> = {};
    for (const run of window) statuses[run.status] = (statuses[run.status] ?? 0) + 1;
    const started = window.filter((run) => run.started_at !== null);
    const lateness = started.map(
      (run) => Date.parse(run.started_at ?? '') - Date.parse(run.scheduled_at),
    );
    const durations = window.flatMap((run) =>
      run.status === 'completed' && run.started_at && run.ended_at
        ? [Date.parse(run.ended_at) - Date.parse(run.started_at)]
        : [],
    );
    // In flight over the window: every run that started, whatever its tick (its end, or now).
    const spans: { started: number; ended: number }[] = [];
    await inChunks(ids, CHUNK, async (agentId) => {
      for (const run of await runs.list(agentId, { limit: 1_000 })) {
        if (run.started_at === null) continue;
        spans.push({
          started: Date.parse(run.started_at),
          ended: run.ended_at === null ? readAt : Date.parse(run.ended_at),
        });
      }
    });
    const flight = inFlight(spans, windowStart, windowEnd);
    return {
      description:
        memory.description === events.description
          ? memory.description
          : `${memory.description}, events ${events.description}`,
      createMs: created.ms,
      startSpreadMs: lastStart - firstStart,
      expected: agents * Math.round(windowMs / intervalMs),
      statuses,
      delivered: started.length,
      latenessP50: percentile(lateness, 50),
      latenessP99: percentile(lateness, 99),
      latenessMax: percentile(lateness, 100),
      inFlightPeak: flight.peak,
      inFlightMean: flight.mean,
      durationP50: percentile(durations, 50),
      durationP99: percentile(durations, 99),
      endedInWindow,
      windowWallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssPeakMb: megabytes(rssPeak),
      rssEndMb: megabytes(rssEnd),
      heapUsedMb: megabytes(heapUsed),
      lagP99Ms: lag.percentile(99),
      lagMaxMs: lag.percentile(100),
      missedTotal,
    };
  } finally {
    clearInterval(sampler);
    progress(`${label}: shutting down`);
    await service.shutdown({ timeout: 10_000 });
    if (file)
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    const server = serverOf(backend);
    if (server && parameters.namespace !== undefined)
      await removeNamespace(server, parameters.namespace);
  }
}

/** NaN (no run started) arrives over IPC as null. */
function fromIpc(value: number | null): number {
  return value ?? Number.NaN;
}

function figuresOf(parameters: FleetParameters, measured: FleetMeasurement): Figure[] {
  const prefix = `${parameters.agents.toLocaleString('en-US')} × ${parameters.intervalS} s ${parameters.backend}`;
  const figure = (
    name: string,
    value: number,
    unit: string,
    extra: Partial<Figure> = {},
  ): Figure => ({ suite: SUITE, name: `${prefix} · ${name}`, value, unit, ...extra });
  const completed = measured.statuses.completed ?? 0;
  const recorded = Object.values(measured.statuses).reduce((sum, value) => sum + value, 0);
  const issueGoal = 'real fleet’s day (10,000 × 60 s, 2 s model) on SQLite, Postgres, Redis';
  return [
    figure('ticks delivered', (measured.delivered / measured.expected) * 100, '%', {
      goal: GOALS.delivered,
      issueGoal,
    }),
    figure('ticks completed', (completed / measured.expected) * 100, '%', { key: true }),
    figure('lateness p50', fromIpc(measured.latenessP50), 'ms', { key: true }),
    figure('lateness p99', fromIpc(measured.latenessP99), 'ms', {
      goal: GOALS.latenessP99,
      issueGoal,
    }),
    figure('lateness max', fromIpc(measured.latenessMax), 'ms'),
    figure('runs in flight, peak', measured.inFlightPeak, '', { key: true }),
    figure('runs in flight, mean', measured.inFlightMean, '', { key: true }),
    figure('run duration p50', fromIpc(measured.durationP50), 'ms'),
    figure('run duration p99', fromIpc(measured.durationP99), 'ms'),
    figure('RSS peak', measured.rssPeakMb, 'MB', { goal: GOALS.rssPeak, issueGoal }),
    figure('RSS at the window’s end', measured.rssEndMb, 'MB'),
    figure('heap used', measured.heapUsedMb, 'MB'),
    figure(
      'CPU per run (runs that ended in the window)',
      measured.cpuMs / measured.endedInWindow,
      'ms',
      { key: true },
    ),
    figure('CPU busy (of one core)', (measured.cpuMs / measured.windowWallMs) * 100, '%'),
    figure('runs ended/s', measured.endedInWindow / (measured.windowWallMs / 1000), 'runs/s'),
    figure('event-loop lag p99', measured.lagP99Ms, 'ms'),
    figure('event-loop lag max', measured.lagMaxMs, 'ms'),
    figure('skipped (window)', measured.statuses.skipped ?? 0, '', { key: true }),
    figure('ticks without a run record (window)', measured.expected - recorded, ''),
    figure('missed in agent stats (whole scenario)', measured.missedTotal, ''),
    figure('create agents', measured.createMs / 1000, 's'),
  ];
}

async function run(options: BenchOptions): Promise<SuiteResult> {
  const agents = options.quick ? 1_000 : 10_000;
  const intervalS = 60;
  const windowMs = options.quick ? 60_000 : 300_000;
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const backend of BACKENDS) {
    const server = serverOf(backend);
    if (server) {
      const reason = await unavailableReason(server);
      if (reason) {
        progress(`fleet-day ${backend}: skipped (${reason})`);
        notes.push(`${backend}: SKIPPED — ${reason}`);
        continue;
      }
    }
    const namespace = server ? freshNamespace(SUITE.replace('-', '_')) : undefined;
    const parameters: FleetParameters = {
      backend,
      agents,
      intervalS,
      windowMs,
      heapGrowth: options.v8Heap ? 0 : DEFAULT_HEAP_GROWTH,
      ...(namespace === undefined ? {} : { namespace }),
    };
    try {
      const measured = await runInChild<FleetMeasurement>(
        import.meta.url,
        [JSON.stringify(parameters)],
        options.runtimes[0],
      );
      figures.push(...figuresOf(parameters, measured));
      const statuses = Object.entries(measured.statuses)
        .map(([status, count]) => `${status} ${count}`)
        .join(', ');
      notes.push(
        `${backend}: ${measured.description}; window run records by status: ${statuses || 'none'}; agents started over ${(measured.startSpreadMs / 1000).toFixed(1)} s`,
      );
    } catch (error) {
      notes.push(`${backend}: FAILED — ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      // The child removes its namespace; this covers a child that died first.
      if (server && namespace !== undefined)
        await removeNamespace(server, namespace).catch((error: unknown) =>
          notes.push(`${backend}: namespace ${namespace} not removed: ${String(error)}`),
        );
    }
  }
  const groups = Math.ceil(agents / START_GROUP);
  notes.push(
    `${agents.toLocaleString('en-US')} agents at ${intervalS} s${options.quick ? ' (--quick: 1,000 agents for 60 s; the issue’s fleet is 10,000 for 5 minutes)' : ''}; ${windowMs / 1000} s window, counted by scheduled_at, starting one interval after the first start (every agent ticks once per interval in it: expected = agents × window / interval)`,
    `each run: a model call that answers after ${MODEL_DELAY_MS} ms with a call to a local tool (echo, returns at once), then a second call that answers after ${MODEL_DELAY_MS} ms — about ${(2 * MODEL_DELAY_MS) / 1000} s a run; default policies (overlap skip, misfire skip, session per agent), one secret to redact`,
    `start spread: ${groups} groups of ${START_GROUP} agents, group k started at k × ${(intervalS * 1000) / groups} ms (one interval in all), so ticks come ${START_GROUP} at a time every ${((intervalS * 1000) / groups).toFixed(0)} ms instead of all at one instant`,
    'delivered = window ticks whose run started (claimed); lateness = started_at − scheduled_at; runs in flight = runs started and not ended, swept over the window from their records (time-weighted mean); CPU = this process’s user + system time over the window, per run that ended in it; RSS sampled every 250 ms from the first start to the window’s end',
    options.v8Heap
      ? 'heap: V8’s own growth (--v8-heap): the heap may grow to about 4× what it holds alive before a full collection'
      : `heap: --heap-growth ${DEFAULT_HEAP_GROWTH} %, as nightshift run and nightshift worker set by default (the heap grows to about twice what it holds alive before a full collection; --v8-heap measures V8’s own choice, about 4×)`,
    `each backend in a fresh ${options.runtimes[0]} process; sqlite: a file of its own in a temp folder; postgres (${describeServer('postgres')}) and redis (${describeServer('redis')}): memory and events on the same server in a fresh namespace (schema / key prefix), removed afterwards`,
  );
  return { figures, notes };
}

/** The fleet-day suite. */
export const fleetDaySuite: Suite = {
  name: SUITE,
  title: 'fleet-day — a real fleet’s day: agents at 60 s, a 2 s model run, per backend',
  run,
};

if (isMainModule(import.meta.url)) {
  const parameters = JSON.parse(process.argv[2] ?? 'null') as FleetParameters | null;
  if (!parameters) {
    console.error(
      'usage: node --import tsx bench/fleet-day.ts \'{"backend":"sqlite","agents":1000,"intervalS":60,"windowMs":60000,"heapGrowth":100}\' (backend sqlite, postgres or redis; heapGrowth 0 for V8’s own)',
    );
    process.exit(2);
  }
  // Never the default namespace on a server others share.
  const server = serverOf(parameters.backend);
  if (server) parameters.namespace ??= freshNamespace(SUITE.replace('-', '_'));
  parameters.heapGrowth ??= DEFAULT_HEAP_GROWTH;
  const measured = await measureFleet(parameters);
  if (!(await sendToParent(measured)))
    printSuite(fleetDaySuite.title, { figures: figuresOf(parameters, measured), notes: [] });
}
