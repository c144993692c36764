/**
 * idle-memory: RSS and heap of a process holding many idle agents (created and started,
 * interval 3,600 s, in memory). Measured in a fresh child process
 * (`node --expose-gc bench/idle-memory.ts <agents>`) after a forced GC, just after starting
 * them and once the process has sat idle.
 */
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../src/index.js';
import { isMainModule, runInChild, sendToParent, type ChildRuntime } from './child-process.js';
import { BENCH_SECRET, instantModel } from './fixtures.js';
import { collectGarbage, inChunks, megabytes, progress, timed } from './measure.js';
import { printSuite, type Figure, type SuiteResult } from './report.js';
import type { BenchOptions, Suite } from './suite.js';

const SUITE = 'idle-memory';
const AGENTS = 10_000;
const CHUNK = 500;
/** The longest an idle process is watched for its heap to shrink. */
const SETTLE_MS = 45_000;
/** The heap counts as given back when its total falls below this share of what it was. */
const SHRUNK = 0.75;

/** What the child sends back; memory in MB, after a forced GC. */
interface IdleMeasurement {
  agents: number;
  /** The process with its modules loaded, before the service existed. */
  baseline: { rss: number; heapUsed: number };
  /** After creating the agents, before starting them. */
  created: { rss: number; heapUsed: number };
  /** Just after starting them. */
  started: { rss: number; heapUsed: number; heapTotal: number; external: number };
  /**
   * After sitting idle until V8 gave back the heap that creating and starting them had grown
   * (its memory reducer, a few seconds into an idle spell), or `SETTLE_MS` at most: the figure
   * the goal is about, as an idle fleet's process stays.
   */
  settled: { rss: number; heapUsed: number; heapTotal: number; external: number };
  /** How long it took to settle, in ms (`SETTLE_MS` when the heap did not shrink). */
  settleMs: number;
  createMs: number;
  startMs: number;
  gcForced: boolean;
}

function memory() {
  const usage = process.memoryUsage();
  return {
    rss: megabytes(usage.rss),
    heapUsed: megabytes(usage.heapUsed),
    heapTotal: megabytes(usage.heapTotal),
    external: megabytes(usage.external),
  };
}

async function measureIdle(agents: number): Promise<IdleMeasurement> {
  const gcForced = collectGarbage();
  const baseline = memory();
  const service = new BackgroundAgentService(
    new MemoryRouter('in_memory'),
    new EventRouter('in_memory'),
    { providers: { mock: () => instantModel() }, env: {}, secrets: [BENCH_SECRET] },
  );
  const ids = Array.from(
    { length: agents },
    (_, index) => `idle-${String(index).padStart(5, '0')}`,
  );
  try {
    await service.startManager();
    const created = await timed(() =>
      inChunks(ids, CHUNK, (agentId) =>
        service.create({
          agent_id: agentId,
          interval: 3_600,
          model_config: { provider: 'mock', model: 'm' },
          task_config: { query: 'Check the queue and report anything stuck.' },
        }),
      ),
    );
    collectGarbage();
    const afterCreate = memory();
    const started = await timed(() =>
      inChunks(ids, CHUNK, (agentId) => service.startAgent(agentId)),
    );
    collectGarbage();
    const afterStart = memory();
    const settling = performance.now();
    while (performance.now() - settling < SETTLE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      if (memory().heapTotal < afterStart.heapTotal * SHRUNK) break;
    }
    const settleMs = performance.now() - settling;
    collectGarbage();
    const settled = memory();
    progress(
      `idle-memory: ${agents} agents created in ${(created.ms / 1000).toFixed(1)} s, started in ${(started.ms / 1000).toFixed(1)} s`,
    );
    return {
      agents,
      baseline,
      created: afterCreate,
      started: afterStart,
      settled,
      settleMs,
      createMs: created.ms,
      startMs: started.ms,
      gcForced,
    };
  } finally {
    await service.shutdown({ timeout: 1_000 });
  }
}

function figuresOf(measured: IdleMeasurement, runtime: ChildRuntime, judged: boolean): Figure[] {
  const prefix = `${measured.agents.toLocaleString('en-US')} idle${runtime === 'tsx' ? ' (tsx)' : ''}`;
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
  const perAgentKb = (from: number, to: number) => ((to - from) * 1024) / measured.agents;
  const { baseline, created, started, settled } = measured;
  return [
    figure(
      'RSS, idle',
      settled.rss,
      'MB',
      judged
        ? { goal: { comparison: 'at_most', target: 150 }, issueGoal: '10,000 idle agents, RSS' }
        : { key: true },
    ),
    figure('RSS just after starting them', started.rss, 'MB', { key: judged }),
    figure('heap used', settled.heapUsed, 'MB', { key: judged }),
    figure('RSS before the service', baseline.rss, 'MB', { key: judged }),
    figure(
      'heap per agent: create (records, events)',
      perAgentKb(baseline.heapUsed, created.heapUsed),
      'KB',
    ),
    figure(
      'heap per agent: start (schedules, timers)',
      perAgentKb(created.heapUsed, started.heapUsed),
      'KB',
    ),
    figure('create', measured.createMs / 1000, 's'),
    figure('start', measured.startMs / 1000, 's'),
  ];
}

async function run(options: BenchOptions): Promise<SuiteResult> {
  const agents = options.quick ? AGENTS / 5 : AGENTS;
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const [index, runtime] of options.runtimes.entries()) {
    const measured = await runInChild<IdleMeasurement>(import.meta.url, [String(agents)], runtime);
    figures.push(...figuresOf(measured, runtime, index === 0));
    if (!measured.gcForced) notes.push(`${runtime}: GC could not be forced (no --expose-gc)`);
    const { started, settled, settleMs } = measured;
    notes.push(
      `${runtime}: heap total ${started.heapTotal.toFixed(0)} MB just after start, ${settled.heapTotal.toFixed(0)} MB ${settleMs < SETTLE_MS ? `once V8 gave the rest back, ${(settleMs / 1000).toFixed(0)} s into the idle spell` : `after ${SETTLE_MS / 1000} s idle (V8 gave nothing back)`}; external ${settled.external.toFixed(1)} MB`,
    );
  }
  notes.push(
    'interval 3,600 s, in-memory store and event log (default 10,000-event cap), one secret to redact; fresh child process per measurement, GC forced before each reading. "RSS, idle" is read once the process has sat idle until V8 shrank the heap that creating the agents grew (its memory reducer runs a few seconds into an idle spell), at most 45 s: the memory an idle fleet keeps; "just after starting them" still holds that garbage\'s pages',
  );
  return { figures, notes };
}

/** The idle-memory suite. */
export const idleMemorySuite: Suite = {
  name: SUITE,
  title: 'idle-memory — many idle agents in one process',
  run,
};

if (isMainModule(import.meta.url)) {
  const measured = await measureIdle(Number(process.argv[2] ?? AGENTS));
  if (!(await sendToParent(measured))) {
    const runtime = import.meta.url.endsWith('.ts') ? 'tsx' : 'compiled';
    printSuite(idleMemorySuite.title, { figures: figuresOf(measured, runtime, true), notes: [] });
  }
}
