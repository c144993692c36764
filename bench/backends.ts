/**
 * backends: what each storage backend sustains through its contracts — events appended per
 * second through `EventLog.append`, and run records written per second through `RunStore`
 * (claim, two updates, final update, as a run writes them) — one caller at a time, and on the
 * shared servers also several at once — and what one whole run through `BackgroundAgentService`
 * costs, claim to final write, events included (issue #18): store calls, server round trips and
 * CPU per run. Each backend is measured in a fresh child process
 * (`node bench/backends.ts '<parameters>'`), on Postgres and Redis in a namespace of its own
 * that is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  scheduledRunId,
  type EventLog,
  type NewEvent,
  type RunStore,
  type ToolDefinition,
  type Usage,
} from '../src/index.js';
import { newRunRecord } from '../src/service/run-records.js';
import { isMainModule, runInChild, sendToParent } from './child-process.js';
import { echo } from './echo-run.js';
import { BENCH_SECRET, delayedToolModel } from './fixtures.js';
import { progress } from './measure.js';
import { formatNumber, printSuite, type Figure, type SuiteResult } from './report.js';
import { countServerCalls, type ServerCalls } from './server-calls.js';
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
import { CallTimer, TimedEventRouter, TimedMemoryRouter } from './timed-routers.js';

const SUITE = 'backends';
/** Appenders and run writers at once on the shared servers (a service's runs overlap). */
const CONCURRENCY = 8;
/** Agents the events and runs are spread over. */
const AGENTS = 100;
/** Names the writer in run leases, as a service's `instanceId` does. */
const INSTANCE_ID = 'bench-backends';
const LEASE_TTL_MS = 30_000;
const QUERY = 'Check the queue and report anything stuck.';
const OUTPUT =
  'Checked the queue: 3 jobs have waited more than 10 minutes (import-42, import-43, thumbnail-7); everything else moved within its usual time. No action taken.';
const USAGE: Usage = { requests: 1, input_tokens: 412, output_tokens: 57, total_tokens: 469 };

/** The backends measured, in order. */
const BACKENDS = ['memory', 'sqlite', 'postgres', 'redis'] as const;
type Backend = (typeof BACKENDS)[number];

/** The shared server a backend needs, if any. */
function serverOf(backend: Backend): SharedServer | undefined {
  return backend === 'postgres' || backend === 'redis' ? backend : undefined;
}

/** What a child process measures. */
interface BackendParameters {
  backend: Backend;
  /** Postgres schema or Redis key prefix (shared servers only). */
  namespace?: string;
  warmUpMs: number;
  /** Time each figure gets, split over the rounds. */
  durationMs: number;
  rounds: number;
  /** Callers at once for the concurrent figures; 1 measures one caller only. */
  concurrency: number;
}

/** Operations done, the wall-clock milliseconds they took, and this process's CPU time. */
interface Tally {
  count: number;
  ms: number;
  cpuMs: number;
}

/** What is measured: the log, the run store, and (shared servers) the server's floor. */
type MeasureName =
  | 'appends'
  | 'appendsConcurrent'
  | 'bareWrites'
  | 'bareWritesConcurrent'
  | 'runs'
  | 'runsConcurrent';

/** One thing measured: `work` called by `callers` loops at once. */
interface Measure {
  name: MeasureName;
  callers: number;
  work: () => Promise<void>;
}

/** Agents the service's runs go round (one run at a time, so none overlaps its agent's last). */
const SERVICE_AGENTS = 10;
/** Service runs warmed up and measured at least, however long they take (Postgres is slow). */
const SERVICE_WARM_UP_RUNS = 50;
const SERVICE_RUNS = 100;

/** One run through the service, claim to final write: what the runs of the measure cost in all. */
interface ServiceRunTally {
  runs: number;
  ms: number;
  cpuMs: number;
  /** Store and event-log method calls (`runs.claim`, `events.append`, …). */
  storeCalls: number;
  /** The same, by `domain.method`. */
  callsByMethod: Record<string, number>;
  /** Postgres statements and Redis commands sent, and the round trips they took. */
  serverCommands: number;
  serverRoundTrips: number;
}

/** What a child process sends back. */
interface BackendMeasurement {
  /** The store and event log, as the routers describe them. */
  description: string;
  /** Size of the event's JSON. */
  eventBytes: number;
  tallies: Partial<Record<MeasureName, Tally>>;
  serviceRuns?: ServiceRunTally;
}

function agentIdOf(index: number): string {
  return `agent-${String(index % AGENTS).padStart(5, '0')}`;
}

/** The event every run ends with: the run's output and usage (a few hundred bytes of JSON). */
function typicalEvent(index: number): NewEvent {
  const agentId = agentIdOf(index);
  return {
    type: 'background_task_completed',
    agent_id: agentId,
    run_id: `${agentId}.${1_700_000_000_000 + index * 1_000}`,
    timestamp: new Date().toISOString(),
    payload: { output: OUTPUT, duration_ms: 1_234, usage: USAGE },
  };
}

/**
 * Writes one run as the service does: the claim, already `running` and leased, then the final
 * update that records the attempt, ends the run and clears the lease, fenced by the lease owner.
 */
async function writeRun(runs: RunStore, index: number, base: number): Promise<void> {
  const agentId = agentIdOf(index);
  const scheduledAt = new Date(base + index);
  const runId = scheduledRunId(agentId, scheduledAt);
  const startedAt = new Date().toISOString();
  const claimed = await runs.claim({
    ...newRunRecord({
      runId,
      agentId,
      trigger: 'schedule',
      scheduledAt,
      query: QUERY,
      now: new Date(),
      leaseOwner: INSTANCE_ID,
      leaseExpiresAt: new Date(Date.now() + LEASE_TTL_MS).toISOString(),
    }),
    status: 'running',
    started_at: startedAt,
  });
  if (!claimed) throw new Error(`run ${runId} was claimed already`);
  const attempts = [
    {
      attempt: 1,
      started_at: startedAt,
      ended_at: new Date().toISOString(),
      status: 'completed' as const,
      error: null,
      usage: USAGE,
      worker_id: INSTANCE_ID,
    },
  ];
  const ended = await runs.update(
    runId,
    {
      status: 'completed',
      output: OUTPUT,
      error: null,
      usage: USAGE,
      ended_at: new Date().toISOString(),
      attempts,
      lease_owner: null,
      lease_expires_at: null,
    },
    { lease_owner: INSTANCE_ID },
  );
  if (ended?.status !== 'completed') throw new Error(`run ${runId} was not written as expected`);
}

/**
 * Writes the event as bare as the server allows — one XADD to one stream, or one INSERT
 * committed on its own — to show the floor under the log's appends.
 */
async function bareWriter(
  server: SharedServer,
  namespace: string,
): Promise<{ write: () => Promise<void>; close: () => Promise<void> }> {
  const event = JSON.stringify(typicalEvent(0));
  if (server === 'redis') {
    const client = new Redis(redisUrl());
    client.on('error', () => undefined);
    const key = `${namespace}:bare-writes`;
    return {
      write: async () => {
        await client.xadd(key, 'MAXLEN', '~', '100000', '*', 'event', event);
      },
      close: async () => {
        await client.quit();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: postgresUrl(), max: CONCURRENCY });
  pool.on('error', () => undefined);
  const table = `${pg.escapeIdentifier(namespace)}.bare_writes`;
  await pool.query(
    `CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(namespace)}; CREATE TABLE ${table} (id BIGSERIAL PRIMARY KEY, payload JSONB NOT NULL)`,
  );
  return {
    write: async () => {
      await pool.query(`INSERT INTO ${table} (payload) VALUES ($1::jsonb)`, [event]);
    },
    close: () => pool.end(),
  };
}

/** Calls `work` from `callers` loops at once until `durationMs` has passed. */
async function sustain(
  callers: number,
  durationMs: number,
  work: () => Promise<void>,
): Promise<Tally> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const deadline = started + durationMs;
  let count = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        await work();
        count += 1;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { count, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * Measures each in turn, round after round (order reversed every other round), so other load
 * on the machine and the servers falls on all of them alike.
 */
async function alternate(
  measures: readonly Measure[],
  rounds: number,
  durationMs: number,
): Promise<Partial<Record<MeasureName, Tally>>> {
  const tallies: Partial<Record<MeasureName, Tally>> = {};
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? measures : [...measures].reverse();
    for (const { name, callers, work } of order) {
      const slice = await sustain(callers, durationMs / rounds, work);
      const total = tallies[name] ?? { count: 0, ms: 0, cpuMs: 0 };
      tallies[name] = {
        count: total.count + slice.count,
        ms: total.ms + slice.ms,
        cpuMs: total.cpuMs + slice.cpuMs,
      };
    }
  }
  return tallies;
}

/** Opens the backend as the service would: both routers on one URL (and namespace). */
function routersFor(backend: Backend, namespace: string | undefined, file: string | undefined) {
  const shared = namespace === undefined ? {} : { namespace };
  switch (backend) {
    case 'memory':
      return { memory: new MemoryRouter('in_memory'), events: new EventRouter('in_memory') };
    case 'sqlite':
      return {
        memory: new MemoryRouter('database', { url: `sqlite:${file}` }),
        events: new EventRouter('database', { url: `sqlite:${file}` }),
      };
    case 'postgres': {
      const options = { url: postgresUrl(), ...shared };
      return {
        memory: new MemoryRouter('database', options),
        events: new EventRouter('database', options),
      };
    }
    case 'redis': {
      const options = { url: redisUrl(), ...shared };
      return {
        memory: new MemoryRouter('redis', options),
        events: new EventRouter('redis_stream', options),
      };
    }
  }
}

/** The backend's routers with their store and log calls timed (and so counted) by `timer`. */
function timedRoutersFor(
  backend: Backend,
  namespace: string | undefined,
  file: string | undefined,
  timer: CallTimer,
) {
  const shared = namespace === undefined ? {} : { namespace };
  switch (backend) {
    case 'memory':
      return {
        memory: new TimedMemoryRouter(timer, 'in_memory'),
        events: new TimedEventRouter(timer, 'in_memory'),
      };
    case 'sqlite':
      return {
        memory: new TimedMemoryRouter(timer, 'database', { url: `sqlite:${file}` }),
        events: new TimedEventRouter(timer, 'database', { url: `sqlite:${file}` }),
      };
    case 'postgres':
      return {
        memory: new TimedMemoryRouter(timer, 'database', { url: postgresUrl(), ...shared }),
        events: new TimedEventRouter(timer, 'database', { url: postgresUrl(), ...shared }),
      };
    case 'redis':
      return {
        memory: new TimedMemoryRouter(timer, 'redis', { url: redisUrl(), ...shared }),
        events: new TimedEventRouter(timer, 'redis_stream', { url: redisUrl(), ...shared }),
      };
  }
}

/**
 * Whole runs through `BackgroundAgentService` on the backend, one after another: `runNow` with
 * `wait` on agents taken in turn, each run a model call that asks for the echo tool, the tool,
 * then the answer (the runtime suites' run), through claim, journal steps, messages, events and
 * the final write. Counts the store calls, server round trips and CPU of the measured runs.
 */
async function measureServiceRuns(
  backend: Backend,
  namespace: string | undefined,
  file: string | undefined,
  server: ServerCalls,
  warmUpMs: number,
  durationMs: number,
): Promise<ServiceRunTally> {
  const timer = new CallTimer();
  const { memory, events } = timedRoutersFor(backend, namespace, file, timer);
  const model = delayedToolModel(0, 'echo');
  const service = new BackgroundAgentService(memory, events, {
    providers: { mock: () => model },
    tools: { echo: echo as ToolDefinition<never> },
    env: {},
    secrets: [BENCH_SECRET],
  });
  try {
    await service.startManager();
    const ids = Array.from({ length: SERVICE_AGENTS }, (_, index) => `service-${index}`);
    for (const agentId of ids) {
      await service.create({
        agent_id: agentId,
        interval: 3_600,
        model_config: { provider: 'mock', model: 'm' },
        task_config: { query: 'Echo "ping", then answer.', session_policy: 'per_run' },
        tools: ['echo'],
      });
      await service.startAgent(agentId);
    }
    let next = 0;
    const runOne = async () => {
      const agentId = ids[next++ % ids.length] ?? 'service-0';
      const run = await service.runNow(agentId, { wait: true });
      if (run.status !== 'completed')
        throw new Error(
          `service run ${run.run_id} ended ${run.status}: ${JSON.stringify(run.error)}`,
        );
    };
    const runFor = async (ms: number, runs: number) => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      let count = 0;
      while (count < runs || performance.now() - started < ms) {
        await runOne();
        count += 1;
      }
      const used = process.cpuUsage(cpu);
      return { count, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
    };
    await runFor(warmUpMs, SERVICE_WARM_UP_RUNS);
    const { commands, roundTrips } = server;
    timer.switch(true);
    const tally = await runFor(durationMs, SERVICE_RUNS);
    timer.switch(false);
    const serverCommands = server.commands - commands;
    const serverRoundTrips = server.roundTrips - roundTrips;
    const timings = timer.timings();
    return {
      runs: tally.count,
      ms: tally.ms,
      cpuMs: tally.cpuMs,
      storeCalls: timings.reduce((sum, timing) => sum + timing.count, 0),
      callsByMethod: Object.fromEntries(timings.map((timing) => [timing.call, timing.count])),
      serverCommands,
      serverRoundTrips,
    };
  } finally {
    await service.shutdown({ timeout: 5_000 });
  }
}

async function measureBackend(parameters: BackendParameters): Promise<BackendMeasurement> {
  const { backend, namespace, warmUpMs, durationMs, rounds, concurrency } = parameters;
  const server = countServerCalls();
  const file =
    backend === 'sqlite'
      ? join(tmpdir(), `nightshift-bench-${process.pid}-${randomBytes(4).toString('hex')}.db`)
      : undefined;
  const { memory, events } = routersFor(backend, namespace, file);
  const shared = serverOf(backend);
  let bare: { write: () => Promise<void>; close: () => Promise<void> } | undefined;
  try {
    const log: EventLog = await events.connect();
    const { runs } = await memory.connect();
    const description =
      memory.description === events.description
        ? memory.description
        : `${memory.description}, events ${events.description}`;
    let eventIndex = 0;
    let runIndex = 0;
    const base = Date.now();
    const append = async () => {
      await log.append(typicalEvent(eventIndex++));
    };
    const write = () => writeRun(runs, runIndex++, base);
    const measures: Measure[] = [
      { name: 'appends', callers: 1, work: append },
      { name: 'runs', callers: 1, work: write },
    ];
    if (concurrency > 1) {
      measures.push(
        { name: 'appendsConcurrent', callers: concurrency, work: append },
        { name: 'runsConcurrent', callers: concurrency, work: write },
      );
      if (shared && namespace !== undefined) {
        bare = await bareWriter(shared, namespace);
        measures.push(
          { name: 'bareWrites', callers: 1, work: bare.write },
          { name: 'bareWritesConcurrent', callers: concurrency, work: bare.write },
        );
      }
    }

    progress(
      `backends ${backend}: ${measures.length} measures, ${warmUpMs} ms warm-up, then ${rounds} rounds of ${Math.round(durationMs / rounds)} ms each`,
    );
    for (const { callers, work } of measures)
      await sustain(callers, warmUpMs / measures.length, work);
    const tallies = await alternate(measures, rounds, durationMs);
    progress(
      `backends ${backend}: service runs, ${SERVICE_WARM_UP_RUNS} runs or ${warmUpMs} ms of warm-up, then ${SERVICE_RUNS} runs or ${durationMs} ms, whichever is longer`,
    );
    const serviceRuns = await measureServiceRuns(
      backend,
      namespace,
      file,
      server,
      warmUpMs,
      durationMs,
    );
    return {
      description,
      eventBytes: Buffer.byteLength(JSON.stringify(typicalEvent(0))),
      tallies,
      serviceRuns,
    };
  } finally {
    await bare?.close();
    await events.close();
    await memory.close();
    if (file)
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    if (shared && namespace !== undefined) await removeNamespace(shared, namespace);
  }
}

/**
 * The goal the Redis stream log is held to (the shared-backends issue). It is judged for one
 * appender and for several: a service's overlapping runs append at once.
 */
const REDIS_APPEND_GOAL = { comparison: 'at_least', target: 20_000 } as const;

function rate(tally: Tally): number {
  return (tally.count / tally.ms) * 1000;
}

/** What the bare write of a shared server is. */
function bareWriteOf(backend: Backend): string {
  return backend === 'redis' ? 'bare XADD' : 'bare INSERT + COMMIT';
}

function figuresOf(backend: Backend, measured: BackendMeasurement): Figure[] {
  const label = backend === 'redis' ? 'redis (redis_stream)' : backend;
  const goal = backend === 'redis' ? { goal: REDIS_APPEND_GOAL } : {};
  const bare = bareWriteOf(backend);
  const rows: [MeasureName, string, string, Partial<Figure>][] = [
    ['appends', 'events appended/s, 1 appender', 'events/s', goal],
    ['appendsConcurrent', `events appended/s, ${CONCURRENCY} appenders`, 'events/s', goal],
    ['bareWrites', `floor: ${bare}/s, 1 caller`, 'writes/s', { key: false }],
    [
      'bareWritesConcurrent',
      `floor: ${bare}/s, ${CONCURRENCY} callers`,
      'writes/s',
      { key: false },
    ],
    ['runs', 'run records written/s, 1 writer', 'runs/s', {}],
    ['runsConcurrent', `run records written/s, ${CONCURRENCY} writers`, 'runs/s', {}],
  ];
  const figures: Figure[] = rows.flatMap(([measure, name, unit, extra]) => {
    const tally = measured.tallies[measure];
    if (!tally) return [];
    return [
      { suite: SUITE, name: `${label} · ${name}`, value: rate(tally), unit, key: true, ...extra },
    ];
  });
  const runs = measured.serviceRuns;
  if (runs && runs.runs > 0) {
    const run = (name: string, value: number, unit: string): Figure => ({
      suite: SUITE,
      name: `${backend} · a service run, claim to final write (events included) · ${name}`,
      value,
      unit,
      key: true,
    });
    figures.push(
      run('CPU per run', (runs.cpuMs / runs.runs) * 1000, 'µs'),
      run('store calls per run', runs.storeCalls / runs.runs, ''),
    );
    if (serverOf(backend))
      figures.push(
        run('server round trips per run', runs.serverRoundTrips / runs.runs, ''),
        run(
          `${backend === 'redis' ? 'Redis commands' : 'Postgres statements'} per run`,
          runs.serverCommands / runs.runs,
          '',
        ),
      );
    figures.push(run('runs/s, one at a time', (runs.runs / runs.ms) * 1000, 'runs/s'));
  }
  return figures;
}

/** A service run's store calls by method, for a note. */
function describeServiceRuns(backend: Backend, measured: BackendMeasurement): string | undefined {
  const runs = measured.serviceRuns;
  if (!runs || runs.runs === 0) return undefined;
  const calls = Object.entries(runs.callsByMethod)
    .sort((a, b) => b[1] - a[1])
    .map(([call, count]) => `${call} ${formatNumber(count / runs.runs)}`)
    .join(', ');
  return `${backend}: a service run's store calls (${runs.runs.toLocaleString('en-US')} runs): ${calls}`;
}

/** The client's CPU time per operation (what a service pays in its own process), for a note. */
function describeCpu(backend: Backend, measured: BackendMeasurement): string {
  const { appends, appendsConcurrent, runs, runsConcurrent } = measured.tallies;
  const perOperation = (tally: Tally | undefined) =>
    tally ? `${formatNumber((tally.cpuMs / tally.count) * 1000)} µs` : undefined;
  const pair = (one: Tally | undefined, many: Tally | undefined) =>
    [perOperation(one), perOperation(many)].filter((value) => value !== undefined).join(' / ');
  const callers = measured.tallies.appendsConcurrent ? ` (1 / ${CONCURRENCY} callers)` : '';
  return `${backend}: client CPU per append ${pair(appends, appendsConcurrent)}, per run record ${pair(runs, runsConcurrent)}${callers}`;
}

/** How near the log's appends come to the server's bare write, for a note. */
function describeFloor(backend: Backend, measured: BackendMeasurement): string | undefined {
  const { appends, appendsConcurrent, bareWrites, bareWritesConcurrent } = measured.tallies;
  if (!appends || !appendsConcurrent || !bareWrites || !bareWritesConcurrent) return undefined;
  const percent = (log: Tally, bare: Tally) => `${((rate(log) / rate(bare)) * 100).toFixed(0)} %`;
  return `${backend}: appends reach ${percent(appends, bareWrites)} of a ${bareWriteOf(backend)}'s rate with 1 caller, ${percent(appendsConcurrent, bareWritesConcurrent)} with ${CONCURRENCY}`;
}

async function run(options: BenchOptions): Promise<SuiteResult> {
  const warmUpMs = options.quick ? 200 : 500;
  const durationMs = options.quick ? 500 : 1_500;
  const rounds = options.quick ? 2 : 3;
  const figures: Figure[] = [];
  const notes: string[] = [];
  let eventBytes: number | undefined;
  for (const backend of BACKENDS) {
    const server = serverOf(backend);
    if (server) {
      const reason = await unavailableReason(server);
      if (reason) {
        progress(`backends ${backend}: skipped (${reason})`);
        notes.push(`${backend}: SKIPPED — ${reason}`);
        continue;
      }
    }
    const namespace = server ? freshNamespace(SUITE) : undefined;
    const parameters: BackendParameters = {
      backend,
      ...(namespace === undefined ? {} : { namespace }),
      warmUpMs,
      durationMs,
      rounds,
      concurrency: server ? CONCURRENCY : 1,
    };
    try {
      const measured = await runInChild<BackendMeasurement>(
        import.meta.url,
        [JSON.stringify(parameters)],
        options.runtimes[0],
      );
      figures.push(...figuresOf(backend, measured));
      eventBytes = measured.eventBytes;
      const { appends, appendsConcurrent, runs, runsConcurrent } = measured.tallies;
      const total = (...tallies: (Tally | undefined)[]) =>
        tallies.reduce((sum, tally) => sum + (tally?.count ?? 0), 0).toLocaleString('en-US');
      notes.push(
        `${backend}: ${measured.description}; ${total(appends, appendsConcurrent)} events appended, ${total(runs, runsConcurrent)} runs written`,
      );
      notes.push(describeCpu(backend, measured));
      const floor = describeFloor(backend, measured);
      if (floor) notes.push(floor);
      const serviceRuns = describeServiceRuns(backend, measured);
      if (serviceRuns) notes.push(serviceRuns);
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
  notes.push(
    `event: background_task_completed (${eventBytes ?? '?'} bytes of JSON) spread over ${AGENTS} agents, appended through the router's EventLog with its default cap; the log starts empty`,
    `run record: claim (already running, leased) + final update (attempt recorded, completed, lease cleared) fenced by lease owner, through the router's RunStore — 2 store calls per run, as the service makes them`,
    'floor: the same event as one XADD to one stream, or one INSERT committed on its own (no log, no script, no lock) — what one round trip, or one commit, allows here',
    `a service run: BackgroundAgentService on the backend (memory and events there, one secret to redact), runNow({ wait: true }) on ${SERVICE_AGENTS} agents in turn, one run at a time, at least ${SERVICE_RUNS} runs after ${SERVICE_WARM_UP_RUNS} of warm-up — the agent read, claim, journal steps, messages, events, final write; the model (instant) asks for the echo tool, then answers. Store calls are the store's and event log's method calls; server round trips are Postgres statements (pg never pipelines) and Redis writes awaiting a reply (a pipeline counts once), counted on the client classes in the measuring process; CPU is that process's user + system time per run (the servers' own not included)`,
    `${warmUpMs} ms warm-up, then ${rounds} rounds in which every figure is measured in turn, ${durationMs} ms per figure in all; ${CONCURRENCY} callers = ${CONCURRENCY} async loops in one process, as overlapping runs of one service; fresh ${options.runtimes[0]} process per backend`,
    `shared servers: ${describeServer('postgres')}, ${describeServer('redis')} (other processes use them too); each in a fresh namespace, removed afterwards`,
  );
  return { figures, notes };
}

/** The backends suite. */
export const backendsSuite: Suite = {
  name: SUITE,
  title: 'backends — events appended and run records written per second, per storage backend',
  run,
};

if (isMainModule(import.meta.url)) {
  const parameters = JSON.parse(process.argv[2] ?? 'null') as BackendParameters | null;
  if (!parameters) {
    console.error(
      'usage: node --import tsx bench/backends.ts \'{"backend":"redis","warmUpMs":500,"durationMs":1500,"rounds":3,"concurrency":8}\' (backend memory, sqlite, postgres or redis)',
    );
    process.exit(2);
  }
  // Never the default namespace on a server others share.
  if (serverOf(parameters.backend)) parameters.namespace ??= freshNamespace(SUITE);
  const measured = await measureBackend(parameters);
  if (!(await sendToParent(measured))) {
    printSuite(backendsSuite.title, {
      figures: figuresOf(parameters.backend, measured),
      notes: [measured.description, describeFloor(parameters.backend, measured) ?? ''].filter(
        (note) => note !== '',
      ),
    });
  }
}
