/**
 * distributed: N agents on a 1-second interval, ticked by BullMQ on Redis and run by W worker
 * processes (`BackgroundAgentService` with the BullMQ scheduler, a Redis store and an instant mock
 * model), measured against raw BullMQ job schedulers (N at 1 s, a no-op processor, W worker
 * processes, the same concurrency) on the same Redis. A coordinator process (a fresh child of
 * the bench) forks the workers from this same module and collects their figures over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  BackgroundAgentService,
  createBullmqScheduler,
  EventRouter,
  MemoryRouter,
  resolveRedisUrl,
} from '../src/index.js';
import { isMainModule, runInChild, sendToParent } from './child-process.js';
import { BENCH_SECRET, instantModel } from './fixtures.js';
import { inChunks, LagSampler, megabytes, percentile, progress, sleep, timed } from './measure.js';
import { printSuite, type Figure, type SuiteResult } from './report.js';
import type { BenchOptions, Suite } from './suite.js';

const SUITE = 'distributed';
/** Agents created or started at once (Promise.all per chunk). */
const CHUNK = 500;
/** After the window, runs scheduled in its last second get this long to finish. */
const TAIL_MS = 2_000;

/** What the coordinator measures. */
interface ScenarioParameters {
  redisUrl: string;
  agents: number;
  workers: number;
  concurrency: number;
  warmUpMs: number;
  windowMs: number;
}

/** What one worker process reports about the window. */
interface WorkerReport {
  cpuMs: number;
  lagP99Ms: number;
  rssPeakMb: number;
  /** Raw BullMQ only: lateness of each job of the window (processing start − its slot). */
  lateness: number[];
}

/** Figures of one side (Nightshift or raw BullMQ) over the window. */
interface SideMeasurement {
  /** Ticks due in the window: agents × window seconds. */
  expected: number;
  /** Nightshift: run records of the window by status; raw BullMQ: `processed`. */
  statuses: Record<string, number>;
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
  /** Nightshift: missed ticks in agent stats over the whole scenario. */
  missedTotal: number;
  startMs: number;
  windowWallMs: number;
  workerCpuMs: number[];
  workerLagP99Ms: number[];
  workerRssPeakMb: number[];
  /** Redis CPU (user + sys) during the window, ms, and commands it served. */
  redisCpuMs: number;
  redisCommands: number;
}

/** What the coordinator sends back. */
interface DistributedMeasurement {
  nightshift: SideMeasurement;
  bullmq: SideMeasurement;
}

/** Messages between the coordinator and its workers. */
type CoordinatorMessage =
  { type: 'window-start' } | { type: 'window-end'; start: number; end: number };

// --- the coordinator -----------------------------------------------------------------------

async function measureScenario(parameters: ScenarioParameters): Promise<DistributedMeasurement> {
  const bullmq = await measureRawBullmq(parameters);
  const nightshift = await measureNightshift(parameters);
  return { nightshift, bullmq };
}

async function measureNightshift(parameters: ScenarioParameters): Promise<SideMeasurement> {
  const { redisUrl, agents, windowMs, warmUpMs } = parameters;
  const suffix = randomBytes(4).toString('hex');
  const names = {
    namespace: `bench_${suffix}`,
    queueName: `bench-${suffix}`,
    prefix: 'nightshift-bench',
  };
  const workers = await forkWorkers('nightshift-worker', parameters, names);
  const control = new BackgroundAgentService(
    new MemoryRouter('redis', { url: redisUrl, namespace: names.namespace }),
    new EventRouter('redis_stream', { url: redisUrl, namespace: names.namespace }),
    {
      providers: { mock: () => instantModel() },
      env: {},
      secrets: [BENCH_SECRET],
      scheduler: createBullmqScheduler({
        url: redisUrl,
        queueName: names.queueName,
        prefix: names.prefix,
      }),
    },
  );
  const ids = Array.from(
    { length: agents },
    (_, index) => `agent-${String(index).padStart(5, '0')}`,
  );
  const label = `nightshift ${agents} × ${parameters.workers} workers`;
  try {
    const created = await timed(() =>
      inChunks(ids, CHUNK, (agentId) =>
        control.create({
          agent_id: agentId,
          interval: 1,
          model_config: { provider: 'mock', model: 'm' },
          task_config: { query: 'tick' },
        }),
      ),
    );
    const started = await timed(() =>
      inChunks(ids, CHUNK, (agentId) => control.startAgent(agentId)),
    );
    progress(
      `${label}: created in ${(created.ms / 1000).toFixed(1)} s, started (job schedulers upserted) in ${(started.ms / 1000).toFixed(1)} s; warm-up ${warmUpMs} ms`,
    );
    await sleep(warmUpMs);
    const window = await measureWindow(workers, redisUrl, windowMs, label);
    await sleep(TAIL_MS);
    progress(`${label}: stopping`);
    await inChunks(ids, CHUNK, (agentId) => control.stopAgent(agentId));
    const statuses: Record<string, number> = {};
    const lateness: number[] = [];
    await inChunks(ids, CHUNK, async (agentId) => {
      for (const run of await control.listRuns(agentId, { limit: 1_000 })) {
        const scheduledAt = Date.parse(run.scheduled_at);
        if (run.trigger !== 'schedule' || scheduledAt < window.start || scheduledAt >= window.end)
          continue;
        statuses[run.status] = (statuses[run.status] ?? 0) + 1;
        if (run.started_at) lateness.push(Date.parse(run.started_at) - scheduledAt);
      }
    });
    const missedTotal = (await control.listAgents()).reduce(
      (sum, status) => sum + status.missed_count,
      0,
    );
    return {
      expected: agents * Math.round(windowMs / 1000),
      statuses,
      latenessP50: percentile(lateness, 50),
      latenessP99: percentile(lateness, 99),
      latenessMax: percentile(lateness, 100),
      missedTotal,
      startMs: started.ms,
      ...window.figures,
    };
  } finally {
    await Promise.all(workers.map((worker) => stopWorker(worker)));
    await control.shutdown();
    await dropKeys(redisUrl, [`${names.namespace}:`, `${names.prefix}:${names.queueName}:`]);
  }
}

async function measureRawBullmq(parameters: ScenarioParameters): Promise<SideMeasurement> {
  const { redisUrl, agents, windowMs, warmUpMs } = parameters;
  const suffix = randomBytes(4).toString('hex');
  const names = { namespace: '', queueName: `raw-${suffix}`, prefix: 'nightshift-bench' };
  const workers = await forkWorkers('bullmq-worker', parameters, names);
  const queue = new Queue(names.queueName, { connection: { url: redisUrl }, prefix: names.prefix });
  const ids = Array.from({ length: agents }, (_, index) => `raw-${String(index).padStart(5, '0')}`);
  const label = `raw BullMQ ${agents} × ${parameters.workers} workers`;
  try {
    const started = await timed(() =>
      inChunks(ids, CHUNK, (id) =>
        queue.upsertJobScheduler(
          id,
          { every: 1_000 },
          { name: 'tick', opts: { removeOnComplete: true } },
        ),
      ),
    );
    progress(
      `${label}: job schedulers upserted in ${(started.ms / 1000).toFixed(1)} s; warm-up ${warmUpMs} ms`,
    );
    await sleep(warmUpMs);
    const window = await measureWindow(workers, redisUrl, windowMs, label);
    const lateness = window.reports.flatMap((report) => report.lateness);
    await inChunks(ids, CHUNK, (id) => queue.removeJobScheduler(id));
    return {
      expected: agents * Math.round(windowMs / 1000),
      statuses: { processed: lateness.length },
      latenessP50: percentile(lateness, 50),
      latenessP99: percentile(lateness, 99),
      latenessMax: percentile(lateness, 100),
      missedTotal: 0,
      startMs: started.ms,
      ...window.figures,
    };
  } finally {
    await Promise.all(workers.map((worker) => stopWorker(worker)));
    await queue.close();
    await dropKeys(redisUrl, [`${names.prefix}:${names.queueName}:`]);
  }
}

/** Runs the window: tells the workers when it starts and ends, and samples Redis around it. */
async function measureWindow(
  workers: ChildProcess[],
  redisUrl: string,
  windowMs: number,
  label: string,
): Promise<{
  start: number;
  end: number;
  reports: WorkerReport[];
  figures: Pick<
    SideMeasurement,
    | 'windowWallMs'
    | 'workerCpuMs'
    | 'workerLagP99Ms'
    | 'workerRssPeakMb'
    | 'redisCpuMs'
    | 'redisCommands'
  >;
}> {
  const redis = new Redis(redisUrl);
  try {
    const before = await redisCounters(redis);
    const start = Date.now();
    const end = start + windowMs;
    for (const worker of workers)
      worker.send({ type: 'window-start' } satisfies CoordinatorMessage);
    progress(`${label}: measuring ${windowMs} ms`);
    await sleep(windowMs);
    const windowWallMs = Date.now() - start;
    const after = await redisCounters(redis);
    // Jobs of the window's last ticks may still be on their way: give them the tail.
    await sleep(TAIL_MS);
    const reports = await Promise.all(
      workers.map(async (worker) => {
        const reply = once(worker, 'message') as Promise<[WorkerReport]>;
        worker.send({ type: 'window-end', start, end } satisfies CoordinatorMessage);
        const [report] = await reply;
        return report;
      }),
    );
    return {
      start,
      end,
      reports,
      figures: {
        windowWallMs,
        workerCpuMs: reports.map((report) => report.cpuMs),
        workerLagP99Ms: reports.map((report) => report.lagP99Ms),
        workerRssPeakMb: reports.map((report) => report.rssPeakMb),
        redisCpuMs: after.cpuMs - before.cpuMs,
        redisCommands: after.commands - before.commands,
      },
    };
  } finally {
    redis.disconnect();
  }
}

async function redisCounters(redis: Redis): Promise<{ cpuMs: number; commands: number }> {
  const info = await redis.info();
  const field = (name: string) =>
    Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return {
    cpuMs: (field('used_cpu_user') + field('used_cpu_sys')) * 1000,
    commands: field('total_commands_processed'),
  };
}

async function forkWorkers(
  role: 'nightshift-worker' | 'bullmq-worker',
  parameters: ScenarioParameters,
  names: { namespace: string; queueName: string; prefix: string },
): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: parameters.workers }, async (_, index) => {
      const child = fork(
        fileURLToPath(import.meta.url),
        [JSON.stringify({ ...parameters, ...names, role, index })],
        { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
      );
      const [message] = (await once(child, 'message')) as [unknown];
      if (message !== 'ready')
        throw new Error(`${role} ${index} did not start: ${String(message)}`);
      return child;
    }),
  );
}

async function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = once(worker, 'exit');
  worker.kill('SIGTERM');
  await exited;
}

async function dropKeys(redisUrl: string, prefixes: string[]): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5_000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

// --- the workers ---------------------------------------------------------------------------

interface WorkerParameters extends ScenarioParameters {
  role: 'nightshift-worker' | 'bullmq-worker';
  index: number;
  namespace: string;
  queueName: string;
  prefix: string;
}

async function runNightshiftWorker(parameters: WorkerParameters): Promise<void> {
  const service = new BackgroundAgentService(
    new MemoryRouter('redis', { url: parameters.redisUrl, namespace: parameters.namespace }),
    new EventRouter('redis_stream', { url: parameters.redisUrl, namespace: parameters.namespace }),
    {
      providers: { mock: () => instantModel() },
      env: {},
      secrets: [BENCH_SECRET],
      instanceId: `bench-worker-${parameters.index}`,
      scheduler: createBullmqScheduler({
        url: parameters.redisUrl,
        queueName: parameters.queueName,
        prefix: parameters.prefix,
        concurrency: parameters.concurrency,
      }),
    },
  );
  await service.startManager();
  trackWindow(() => []);
  process.once('SIGTERM', () => {
    void service.shutdown({ timeout: 5_000 }).then(() => process.exit(0));
  });
  process.send?.('ready');
}

async function runBullmqWorker(parameters: WorkerParameters): Promise<void> {
  const processed: { slot: number; lateness: number }[] = [];
  const worker = new Worker(
    parameters.queueName,
    async (job) => {
      const slot = Number(/:(\d+)$/.exec(job.id ?? '')?.[1]);
      processed.push({ slot, lateness: Date.now() - slot });
    },
    {
      connection: { url: parameters.redisUrl },
      prefix: parameters.prefix,
      concurrency: parameters.concurrency,
    },
  );
  await worker.waitUntilReady();
  let window = { start: Infinity, end: -Infinity };
  trackWindow(
    () =>
      processed
        .filter(({ slot }) => slot >= window.start && slot < window.end)
        .map(({ lateness }) => lateness),
    (start, end) => (window = { start, end }),
  );
  process.once('SIGTERM', () => {
    void worker.close().then(() => process.exit(0));
  });
  process.send?.('ready');
}

/** Window bookkeeping of a worker: CPU over the window, measured when it ends. */
function trackWindow(
  lateness: () => number[],
  onWindowEnd: (start: number, end: number) => void = () => undefined,
): void {
  let cpuBefore = process.cpuUsage();
  let lag: LagSampler | undefined;
  let rssPeak = 0;
  let startedAt = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 250);
  sampler.unref();
  process.on('message', (message: CoordinatorMessage) => {
    if (message.type === 'window-start') {
      cpuBefore = process.cpuUsage();
      startedAt = Date.now();
      lag = new LagSampler();
      rssPeak = process.memoryUsage.rss();
      return;
    }
    // The coordinator's tail is not part of the window: scale CPU back to the window's length.
    const used = process.cpuUsage(cpuBefore);
    const elapsed = Date.now() - startedAt;
    const windowLength = message.end - message.start;
    lag?.stop();
    onWindowEnd(message.start, message.end);
    const report: WorkerReport = {
      cpuMs: ((used.user + used.system) / 1000) * Math.min(1, windowLength / Math.max(1, elapsed)),
      lagP99Ms: lag?.percentile(99) ?? Number.NaN,
      rssPeakMb: megabytes(rssPeak),
      lateness: lateness(),
    };
    process.send?.(report);
  });
}

// --- the suite -----------------------------------------------------------------------------

function figuresOf(measured: DistributedMeasurement, parameters: ScenarioParameters): Figure[] {
  const { agents, workers, windowMs } = parameters;
  const seconds = windowMs / 1000;
  const figures: Figure[] = [];
  const figure = (name: string, value: number, unit: string, extra: Partial<Figure> = {}) =>
    figures.push({ suite: SUITE, name, value, unit, ...extra });
  const sides = [
    ['nightshift', measured.nightshift],
    ['raw BullMQ', measured.bullmq],
  ] as const;
  const prefix = `${agents.toLocaleString('en-US')} × ${workers} workers`;
  const ns = measured.nightshift;
  const count = (status: string) => ns.statuses[status] ?? 0;
  const recorded = Object.values(ns.statuses).reduce((sum, value) => sum + value, 0);
  const completed = count('completed');
  figure(
    `${prefix} · nightshift completed runs/s (expected ${agents.toLocaleString('en-US')})`,
    completed / seconds,
    'runs/s',
    {
      key: true,
    },
  );
  figure(`${prefix} · nightshift completed of expected`, (completed / ns.expected) * 100, '%', {
    key: true,
    goal: { comparison: 'at_least', target: 90 },
  });
  figure(
    `${prefix} · raw BullMQ processed of expected`,
    ((measured.bullmq.statuses.processed ?? 0) / measured.bullmq.expected) * 100,
    '%',
    {
      key: true,
    },
  );
  for (const [name, side] of sides) {
    figure(`${prefix} · ${name} lateness p50`, side.latenessP50, 'ms', { key: true });
    figure(`${prefix} · ${name} lateness p99`, side.latenessP99, 'ms', {
      key: true,
      ...(name === 'nightshift'
        ? { goal: { comparison: 'at_most', target: Math.max(1, 2 * measured.bullmq.latenessP99) } }
        : {}),
    });
    figure(`${prefix} · ${name} lateness max`, side.latenessMax, 'ms');
  }
  figure(`${prefix} · nightshift skipped (window)`, count('skipped'), '', { key: true });
  figure(`${prefix} · nightshift ticks without a run record (window)`, ns.expected - recorded, '', {
    key: true,
  });
  figure(
    `${prefix} · nightshift other non-completed (window)`,
    recorded - completed - count('skipped'),
    '',
  );
  figure(`${prefix} · nightshift missed in agent stats (whole scenario)`, ns.missedTotal, '', {
    key: true,
  });
  for (const [name, side] of sides) {
    const cpu = side.workerCpuMs.reduce((sum, value) => sum + value, 0);
    figure(
      `${prefix} · ${name} worker CPU busy (sum over workers, of one core)`,
      (cpu / side.windowWallMs) * 100,
      '%',
      {
        key: name === 'nightshift',
      },
    );
    figure(`${prefix} · ${name} Redis CPU busy`, (side.redisCpuMs / side.windowWallMs) * 100, '%', {
      key: name === 'nightshift',
    });
    figure(
      `${prefix} · ${name} Redis commands/s`,
      side.redisCommands / (side.windowWallMs / 1000),
      '/s',
    );
    figure(
      `${prefix} · ${name} worker event-loop lag p99 (worst)`,
      Math.max(...side.workerLagP99Ms),
      'ms',
    );
    figure(
      `${prefix} · ${name} worker RSS peak (largest)`,
      Math.max(...side.workerRssPeakMb),
      'MB',
    );
    figure(
      `${prefix} · ${name} schedule ${agents.toLocaleString('en-US')} agents`,
      side.startMs / 1000,
      's',
    );
  }
  if (completed > 0) {
    const cpu = ns.workerCpuMs.reduce((sum, value) => sum + value, 0);
    figure(`${prefix} · nightshift worker CPU per completed run`, cpu / completed, 'ms', {
      key: true,
    });
    figure(
      `${prefix} · nightshift Redis commands per completed run`,
      ns.redisCommands / completed,
      '',
    );
  }
  return figures;
}

/**
 * The scenarios: the asked-for fleet (5,000 agents at 1 s on 2 workers), and a tenth of it, which
 * a small machine can carry, so that the scheduler's own cost shows apart from saturation.
 */
const SCENARIOS = [5_000, 500] as const;

async function run(options: BenchOptions): Promise<SuiteResult> {
  const figures: Figure[] = [];
  const notes: string[] = [];
  const common = {
    redisUrl: resolveRedisUrl(undefined),
    workers: 2,
    concurrency: 200,
    warmUpMs: options.quick ? 2_000 : 4_000,
    windowMs: options.quick ? 4_000 : 10_000,
  };
  for (const agents of SCENARIOS) {
    const parameters: ScenarioParameters = {
      ...common,
      agents: options.quick ? Math.ceil(agents / 5) : agents,
    };
    const measured = await runInChild<DistributedMeasurement>(
      import.meta.url,
      [JSON.stringify({ role: 'coordinator', ...parameters })],
      options.runtimes[0],
    );
    figures.push(...figuresOf(measured, parameters));
    const statuses = Object.entries(measured.nightshift.statuses)
      .map(([status, count]) => `${status} ${count}`)
      .join(', ');
    notes.push(
      `${parameters.agents} agents: nightshift window run records by status: ${statuses || 'none'}`,
    );
  }
  notes.push(
    `interval 1 s, ${common.workers} worker processes × concurrency ${common.concurrency}, ${common.warmUpMs} ms warm-up, ${common.windowMs} ms window, Redis at ${common.redisUrl} (store, events and queue); per scenario raw BullMQ first, then Nightshift, one at a time, each in fresh ${options.runtimes[0]} processes`,
    'lateness: Nightshift = started_at − scheduled_at of the window’s runs (claim and store writes included); raw BullMQ = processor start − the job’s slot. BullMQ fires a delayed job when a worker’s blocking wait on Redis times out, which Redis resolves every 1/hz s (hz 10 by default: up to ~100 ms late even when idle)',
    'ticks without a run record: BullMQ slots skipped while workers lagged more than an interval (the agent’s next tick counts them missed in its stats) and jobs still queued when the window ended',
  );
  return { figures, notes };
}

/** The distributed suite. */
export const distributedSuite: Suite = {
  name: SUITE,
  title: 'distributed — agents at 1 s on BullMQ worker processes vs raw BullMQ job schedulers',
  run,
};

if (isMainModule(import.meta.url)) {
  const parameters = JSON.parse(process.argv[2] ?? 'null') as
    (ScenarioParameters & { role?: string }) | (WorkerParameters & { role: string }) | null;
  if (!parameters) {
    console.error(
      'usage: node --import tsx bench/distributed.ts \'{"role":"coordinator","redisUrl":"redis://127.0.0.1:6379","agents":5000,"workers":2,"concurrency":200,"warmUpMs":4000,"windowMs":10000}\'',
    );
    process.exit(2);
  }
  if (parameters.role === 'nightshift-worker')
    await runNightshiftWorker(parameters as WorkerParameters);
  else if (parameters.role === 'bullmq-worker')
    await runBullmqWorker(parameters as WorkerParameters);
  else {
    const measured = await measureScenario(parameters);
    if (!(await sendToParent(measured))) {
      printSuite(distributedSuite.title, { figures: figuresOf(measured, parameters), notes: [] });
    }
  }
}
