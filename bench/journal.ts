/**
 * journal: what the write-ahead run journal (issue #14) costs a run — CPU time and store calls
 * per `runAgent` run with the journal (`recorder: store.runs`) and without it (no recorder),
 * against a memory store and a SQLite store — in one fresh process, alternating rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryStore,
  createSqliteStore,
  parseAgentDefinition,
  runAgent,
  type RunStep,
  type Store,
} from '../src/index.js';
import {
  CallCounter,
  EVENT_LOG_CAP,
  newModel,
  RUN_TIMEOUT_MS,
  echoTools,
  publisherAtCap,
} from './echo-run.js';
import { isMainModule, runInChild, sendToParent, type ChildRuntime } from './child-process.js';
import { progress } from './measure.js';
import { formatNumber, printSuite, type Figure, type SuiteResult } from './report.js';
import type { BenchOptions, Suite } from './suite.js';

const SUITE = 'journal';
const AGENT_ID = 'bench-journal';
const QUERY = 'Echo "ping", then answer.';
/** The most of a run's CPU the journal may take in memory (issue #14). */
const MEMORY_SHARE_GOAL_PERCENT = 25;

const BACKENDS = ['memory', 'sqlite'] as const;
type Backend = (typeof BACKENDS)[number];

/** The four paths measured: each backend with the journal and without it. */
const PATHS = ['memoryJournal', 'memoryBare', 'sqliteJournal', 'sqliteBare'] as const;
type PathName = (typeof PATHS)[number];

function pathName(backend: Backend, journal: boolean): PathName {
  return `${backend}${journal ? 'Journal' : 'Bare'}`;
}

/** One path: a run, and what it has done so far. */
interface Path {
  run: () => Promise<void>;
  store: Store;
  counter: CallCounter;
  /** Runs done, warm-up included. */
  runs: number;
  lastRunId: string | undefined;
}

async function openPath(backend: Backend, journal: boolean, directory: string): Promise<Path> {
  const definition = parseAgentDefinition(
    {
      agent_id: AGENT_ID,
      interval: 60,
      model_config: { provider: 'mock', model: 'm' },
      task_config: { query: QUERY, session_policy: 'per_run' },
      tools: ['echo'],
    },
    { providers: ['mock'] },
  );
  const store =
    backend === 'memory'
      ? createMemoryStore()
      : createSqliteStore({ path: join(directory, `${pathName(backend, journal)}.db`) });
  const publisher = await publisherAtCap(AGENT_ID, QUERY);
  const tools = echoTools();
  const counter = new CallCounter();
  const messages = counter.wrap('messages', store.messages);
  const recorder = journal ? counter.wrap('runs', store.runs) : undefined;
  let expectedCalls: number | undefined;
  const path: Path = {
    store,
    counter,
    runs: 0,
    lastRunId: undefined,
    run: async () => {
      const runId = `${AGENT_ID}.${pathName(backend, journal)}.${path.runs}`;
      const callsBefore = counter.total;
      const result = await runAgent({
        definition,
        model: newModel(),
        runId,
        tools,
        messages,
        recorder,
        timeoutMs: RUN_TIMEOUT_MS,
        emit: async (event) => {
          await publisher.publish(event.type, AGENT_ID, runId, event.payload);
        },
      });
      if (result.status !== 'completed' || result.tool_calls !== 1 || result.output !== 'done') {
        throw new Error(`runAgent did not do the expected work: ${JSON.stringify(result)}`);
      }
      // Every run of a path makes the same store calls: a run that skipped some measured less.
      const calls = counter.total - callsBefore;
      expectedCalls ??= calls;
      if (calls !== expectedCalls) {
        throw new Error(`run ${runId} made ${calls} store calls, earlier runs ${expectedCalls}`);
      }
      path.runs += 1;
      path.lastRunId = runId;
    },
  };
  return path;
}

/**
 * Checks what the path's last run left in its store: with the journal, its three steps
 * (model call, tool call, model call), completed and holding the replies and the tool's
 * result; without it, no steps. Either way, the run's conversation. Returns a description.
 */
async function checkStored(name: PathName, path: Path): Promise<string> {
  const runId = path.lastRunId;
  if (runId === undefined) throw new Error(`${name}: no run was made`);
  const steps = await path.store.runs.listSteps(runId);
  const stored = await path.store.messages.list(runId);
  if (stored.length === 0) throw new Error(`${name}: run ${runId} stored no conversation`);
  const journal = name.endsWith('Journal');
  if (!journal) {
    if (steps.length > 0) throw new Error(`${name}: run ${runId} recorded ${steps.length} steps`);
    return `${stored.length} messages, no steps`;
  }
  const describe = (step: RunStep) => `${step.kind} ${step.state}`;
  const [first, tool, last] = steps;
  const replied = (step: RunStep | undefined) =>
    step?.kind === 'model_call' && step.state === 'completed' && step.reply !== undefined;
  const ok =
    steps.length === 3 &&
    replied(first) &&
    first?.reply?.tool_calls[0]?.tool_name === 'echo' &&
    tool?.kind === 'tool_call' &&
    tool.state === 'completed' &&
    tool.outcome === 'success' &&
    JSON.stringify(tool.result) === JSON.stringify({ echo: 'ping' }) &&
    replied(last) &&
    last?.reply?.text === 'done';
  if (!ok) {
    throw new Error(
      `${name}: run ${runId} recorded unexpected steps: ${JSON.stringify(steps.map(describe))}`,
    );
  }
  return `${stored.length} messages, ${steps.length} steps (${steps.map(describe).join(', ')})`;
}

/** Runs done, the wall-clock and CPU milliseconds they took, and the store calls they made. */
interface Tally {
  runs: number;
  ms: number;
  cpuMs: number;
  storeCalls: number;
}

/** Runs the path back to back for about `ms`. */
async function runFor(path: Path, ms: number): Promise<Tally> {
  const calls = path.counter.total;
  const started = performance.now();
  const cpu = process.cpuUsage();
  let runs = 0;
  let elapsed: number;
  do {
    await path.run();
    runs += 1;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  const used = process.cpuUsage(cpu);
  return {
    runs,
    ms: elapsed,
    cpuMs: (used.user + used.system) / 1000,
    storeCalls: path.counter.total - calls,
  };
}

/** What one measuring process finds. */
interface JournalMeasurement {
  tallies: Record<PathName, Tally>;
  /** Store calls per run, by `store.method` (every run counted, warm-up included). */
  callsByMethod: Record<PathName, Record<string, number>>;
  /** What each path's last run left in its store. */
  stored: Record<PathName, string>;
  warmUpMs: number;
  rounds: number;
}

async function measureJournal(quick: boolean): Promise<JournalMeasurement> {
  const durationMs = quick ? 1_000 : 3_000;
  const warmUpMs = quick ? 300 : 1_000;
  // A multiple of the paths: each path takes each place in the order equally often.
  const rounds = quick ? 4 : 8;
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-bench-journal-'));
  const opened: Path[] = [];
  try {
    const open = async (backend: Backend, journal: boolean) => {
      const path = await openPath(backend, journal, directory);
      opened.push(path);
      return path;
    };
    const paths: Record<PathName, Path> = {
      memoryJournal: await open('memory', true),
      memoryBare: await open('memory', false),
      sqliteJournal: await open('sqlite', true),
      sqliteBare: await open('sqlite', false),
    };
    const empty = (): Tally => ({ runs: 0, ms: 0, cpuMs: 0, storeCalls: 0 });
    const tallies: Record<PathName, Tally> = {
      memoryJournal: empty(),
      memoryBare: empty(),
      sqliteJournal: empty(),
      sqliteBare: empty(),
    };

    progress(
      `journal: warm-up ${warmUpMs} ms per path, then ${rounds} rounds of ${PATHS.length} paths, ${Math.round(durationMs / rounds)} ms each`,
    );
    for (const name of PATHS) await runFor(paths[name], warmUpMs);
    for (let round = 0; round < rounds; round += 1) {
      const order = PATHS.map((_, index) => PATHS[(index + round) % PATHS.length] as PathName);
      for (const name of order) {
        const slice = await runFor(paths[name], durationMs / rounds);
        const total = tallies[name];
        total.runs += slice.runs;
        total.ms += slice.ms;
        total.cpuMs += slice.cpuMs;
        total.storeCalls += slice.storeCalls;
      }
    }

    const callsByMethod = {} as Record<PathName, Record<string, number>>;
    const stored = {} as Record<PathName, string>;
    for (const name of PATHS) {
      const path = paths[name];
      callsByMethod[name] = Object.fromEntries(
        [...path.counter.byMethod].map(([method, calls]) => [method, calls / path.runs]),
      );
      stored[name] = await checkStored(name, path);
    }
    return { tallies, callsByMethod, stored, warmUpMs, rounds };
  } finally {
    for (const path of opened) await path.store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

function figuresOf(measured: JournalMeasurement, runtime: ChildRuntime, judged: boolean): Figure[] {
  const { tallies } = measured;
  const cpuPerRun = (name: PathName) => (tallies[name].cpuMs / tallies[name].runs) * 1000;
  const callsPerRun = (name: PathName) => tallies[name].storeCalls / tallies[name].runs;
  const tag = runtime === 'tsx' ? ' (tsx)' : '';
  const figure = (
    name: string,
    value: number,
    unit: string,
    extra: Partial<Figure> = {},
  ): Figure => ({
    suite: SUITE,
    name: `${name}${tag}`,
    value,
    unit,
    ...extra,
  });
  const figures: Figure[] = [];
  for (const backend of BACKENDS) {
    for (const journal of [true, false]) {
      figures.push(
        figure(
          `${backend} · ${journal ? 'with' : 'without'} journal · CPU per run`,
          cpuPerRun(pathName(backend, journal)),
          'µs',
        ),
      );
    }
  }
  // Store calls do not depend on how the code runs: printed once, for the judged runtime.
  if (judged) {
    for (const backend of BACKENDS) {
      for (const journal of [true, false]) {
        figures.push(
          figure(
            `${backend} · ${journal ? 'with' : 'without'} journal · store calls per run`,
            callsPerRun(pathName(backend, journal)),
            '',
          ),
        );
      }
    }
  }
  for (const backend of BACKENDS) {
    const withJournal = cpuPerRun(pathName(backend, true));
    const without = cpuPerRun(pathName(backend, false));
    figures.push(figure(`journal CPU per run (${backend})`, withJournal - without, 'µs'));
    const share = ((withJournal - without) / withJournal) * 100;
    const name = `journal share of a run's CPU (${backend})`;
    figures.push(
      backend === 'memory' && judged
        ? figure(name, share, '%', {
            goal: { comparison: 'at_most', target: MEMORY_SHARE_GOAL_PERCENT },
          })
        : figure(name, share, '%', { key: true }),
    );
  }
  return figures;
}

function describeCalls(calls: Record<string, number>): string {
  const entries = Object.entries(calls);
  if (entries.length === 0) return 'none';
  return entries.map(([method, count]) => `${method} ${formatNumber(count)}`).join(', ');
}

async function run(options: BenchOptions): Promise<SuiteResult> {
  const argument = options.quick ? 'quick' : 'full';
  const figures: Figure[] = [];
  let first: JournalMeasurement | undefined;
  for (const [index, runtime] of options.runtimes.entries()) {
    const measured = await runInChild<JournalMeasurement>(import.meta.url, [argument], runtime);
    first ??= measured;
    figures.push(...figuresOf(measured, runtime, index === 0));
  }
  const notes = [
    'each run: runAgent on the mock model, which answers a tool call (echo), then text; a fresh model per run on every path',
    `every path: session_policy per_run, conversation memory in its own store, events through the service's EventPublisher (one secret to redact) into a memory event log of its own kept at its ${EVENT_LOG_CAP.toLocaleString('en-US')}-event cap, timeoutMs as the service passes`,
    'with journal: recorder = store.runs, so each model call (started, then its reply and usage) and each tool call (started with its args, then its result) is a run step in the store',
    "without journal: no recorder (runAgent's recorder is optional: nothing is recorded); the journal's model middleware still wraps the model (it also reads the usage), so the difference is the cost of recording",
    'memory: createMemoryStore; sqlite: createSqliteStore on a file of its own in a temp folder (WAL, group commit), removed afterwards',
    'store calls: method calls on the run store (the recorder) and the message store, counted by a forwarding proxy on every path; CPU is this process’s user + system time',
    `${first?.rounds} rounds after a ${first?.warmUpMs} ms warm-up per path, the order of the four paths rotated each round, in a fresh process`,
  ];
  if (first) {
    const { tallies, callsByMethod, stored } = first;
    notes.push(
      `runs measured: ${PATHS.map((name) => `${name} ${tallies[name].runs.toLocaleString('en-US')}`).join(', ')}`,
      ...BACKENDS.map(
        (backend) =>
          `${backend} calls per run: with journal ${describeCalls(callsByMethod[pathName(backend, true)])}; without ${describeCalls(callsByMethod[pathName(backend, false)])}`,
      ),
      `checked after measuring, each path's last run: ${PATHS.map((name) => `${name} ${stored[name]}`).join('; ')}`,
    );
  }
  return { figures, notes };
}

/** The journal suite. */
export const journalSuite: Suite = {
  name: SUITE,
  title: 'journal — runAgent with and without the run journal, memory and SQLite',
  run,
};

if (isMainModule(import.meta.url)) {
  const measured = await measureJournal(process.argv[2] === 'quick');
  if (!(await sendToParent(measured))) {
    const runtime = import.meta.url.endsWith('.ts') ? 'tsx' : 'compiled';
    printSuite(journalSuite.title, { figures: figuresOf(measured, runtime, true), notes: [] });
  }
}
