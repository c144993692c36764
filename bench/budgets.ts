/**
 * budgets: what holding each call against the budgets (issue #15) costs a run — CPU time, wall
 * time, store calls and server round trips per `runAgent` run with budgets (a `RunBudget` from
 * `ServiceBudgets`, as the service builds it) and without, on memory, SQLite, Postgres and Redis
 * stores — and whether holds racing on one budget line ever spend past it (SQLite, Postgres,
 * Redis). Each group of backends is measured in a fresh child process, alternating rounds;
 * Postgres and Redis in a namespace of their own that is removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  createMemoryStore,
  createPostgresStore,
  createRedisStore,
  createSqliteStore,
  parseAgentDefinition,
  runAgent,
  type AgentDefinition,
  type BudgetCounter,
  type BudgetLine,
  type RunStep,
  type Store,
} from '../src/index.js';
import { costMicroUsd, type ModelPricing } from '../src/config/pricing.js';
import { budgetLinesOf, type FleetBudgets } from '../src/service/budgets/budget-lines.js';
import { ServiceBudgets } from '../src/service/budgets/service-budgets.js';
import {
  CallCounter,
  EVENT_LOG_CAP,
  newModel,
  RUN_TIMEOUT_MS,
  echoTools,
  publisherAtCap,
} from './echo-run.js';
import { isMainModule, runInChild, sendToParent, type ChildRuntime } from './child-process.js';
import { progress, sleep } from './measure.js';
import { countServerCalls, type ServerCalls } from './server-calls.js';
import { formatNumber, printSuite, type Figure, type SuiteResult } from './report.js';
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

const SUITE = 'budgets';
const AGENT_ID = 'bench-budgets';
const QUERY = 'Echo "ping", then answer.';
/** The agent model's price: every model call's usage has a cost, and the usd budget applies. */
const PRICING: ModelPricing = { input_per_million: 1, output_per_million: 2 };
/** The agent's own budget: one line (its day, in usd), far above what the benchmark spends. */
const AGENT_BUDGET = { per_day: { usd: 1_000 } };
/** The fleet's budget: a second line on every hold, far above what the benchmark spends. */
const FLEET: FleetBudgets = { fleet: { per_day: { requests: 1_000_000_000 } } };
/** Tokens the mock model reports per call (its default), half input and half output. */
const TOKENS_PER_CALL = 10;
/** Model calls and tool calls per run: a tool call (echo), then the answer. */
const MODEL_CALLS_PER_RUN = 2;
const TOOL_CALLS_PER_RUN = 1;
/** Budget store calls a run makes: a hold and a settle per model call and per tool call. */
const EXPECTED_BUDGET_CALLS: Readonly<Record<string, number>> = {
  'budgets.hold': MODEL_CALLS_PER_RUN + TOOL_CALLS_PER_RUN,
  'budgets.settle': MODEL_CALLS_PER_RUN + TOOL_CALLS_PER_RUN,
};

/** Runs racing on one budget line (issue #15: 200 runs racing on one fleet budget). */
const RACE_RUNS = 200;
/** Calls each racing run makes at most, one after another: a hold, then its settle. */
const RACE_CALLS = 5;
/** Stores the racing holds are dealt to, each with its own connection, as processes would. */
const RACE_CLIENTS = 4;
/** Connections of each racing store's Postgres pool (the server is shared with others). */
const RACE_POOL_MAX = 5;
/** The line's limit: about a quarter of what the runs' first calls ask for together. */
const RACE_LIMIT_TOKENS = 25_000;
/** A racing hold asks for 1 to this many tokens, and settles to 0 up to what it held. */
const RACE_MAX_HOLD_TOKENS = 1_000;
/** The longest a racing call stays in flight between its hold and its settle. */
const RACE_MAX_CALL_MS = 3;

/** The backends measured. */
type Backend = 'memory' | 'sqlite' | 'postgres' | 'redis';

/** The backends each measuring process opens: the local ones together, each server apart. */
const GROUPS = {
  local: ['memory', 'sqlite'],
  postgres: ['postgres'],
  redis: ['redis'],
} as const satisfies Record<string, readonly Backend[]>;
type Group = keyof typeof GROUPS;
const GROUP_NAMES = Object.keys(GROUPS) as Group[];

/** The backends whose holds race: every one shared by processes. */
const RACED: ReadonlySet<Backend> = new Set<Backend>(['sqlite', 'postgres', 'redis']);

/** The shared server a backend needs, if any. */
function serverOf(backend: Backend): SharedServer | undefined {
  return backend === 'postgres' || backend === 'redis' ? backend : undefined;
}

/** The shared server a group needs, if any. */
function serverOfGroup(group: Group): SharedServer | undefined {
  return group === 'local' ? undefined : group;
}

/** The paths measured: each backend's runs with budgets and without. */
type PathKey = `${Backend}.${'budgets' | 'bare'}`;

function pathKey(backend: Backend, budgets: boolean): PathKey {
  return `${backend}.${budgets ? 'budgets' : 'bare'}`;
}

function pathsOf(backends: readonly Backend[]): PathKey[] {
  return backends.flatMap((backend) => [pathKey(backend, true), pathKey(backend, false)]);
}

/** What a measuring process is asked to measure. */
interface GroupParameters {
  group: Group;
  /** Postgres schema or Redis key prefix (shared servers only). */
  namespace?: string;
  quick: boolean;
}

function agentDefinition(): AgentDefinition {
  return parseAgentDefinition(
    {
      agent_id: AGENT_ID,
      interval: 60,
      model_config: { provider: 'mock', model: 'm', pricing: PRICING },
      task_config: { query: QUERY, session_policy: 'per_run' },
      tools: ['echo'],
      budget_config: AGENT_BUDGET,
    },
    { providers: ['mock'] },
  );
}

/** The service's budgets: the agent's own and the fleet's, priced from the definition. */
function serviceBudgets(): ServiceBudgets {
  return new ServiceBudgets({
    fleet: FLEET,
    pricing: {},
    now: () => new Date(),
    publish: async () => undefined,
  });
}

/** One path: a run, and what it has done so far. */
interface Path {
  run: () => Promise<void>;
  counter: CallCounter;
  /** Runs done, warm-up included. */
  runs: number;
  lastRunId: string | undefined;
}

async function openPath(
  backend: Backend,
  budgets: boolean,
  store: Store,
  definition: AgentDefinition,
): Promise<Path> {
  const name = pathKey(backend, budgets);
  const publisher = await publisherAtCap(AGENT_ID, QUERY);
  const tools = echoTools();
  const counter = new CallCounter();
  const messages = counter.wrap('messages', store.messages);
  const recorder = counter.wrap('runs', store.runs);
  const budgetStore = counter.wrap('budgets', store.budgets);
  const gate = serviceBudgets();
  const pricing = gate.recordedPricing(definition);
  if (!pricing) throw new Error(`${name}: the agent's model has no price`);
  let expectedCalls: number | undefined;
  const path: Path = {
    counter,
    runs: 0,
    lastRunId: undefined,
    run: async () => {
      const runId = `${AGENT_ID}.${name}.${path.runs}`;
      const callsBefore = counter.total;
      const holdsBefore = counter.byMethod.get('budgets.hold') ?? 0;
      const settlesBefore = counter.byMethod.get('budgets.settle') ?? 0;
      const budgetCallsBefore = counter.callsOf('budgets');
      // As the service does for each run: the gate of this run's calls, if a budget applies.
      const budget = budgets ? gate.forRun(definition, runId, budgetStore) : undefined;
      if (budgets && !budget) throw new Error(`${name}: no budget applies to the agent`);
      const result = await runAgent({
        definition,
        model: newModel(),
        runId,
        tools,
        messages,
        recorder,
        pricing,
        budget,
        timeoutMs: RUN_TIMEOUT_MS,
        emit: async (event) => {
          await publisher.publish(event.type, AGENT_ID, runId, event.payload);
        },
      });
      if (result.status !== 'completed' || result.tool_calls !== 1 || result.output !== 'done') {
        throw new Error(`runAgent did not do the expected work: ${JSON.stringify(result)}`);
      }
      // With budgets, a hold and a settle per call; without, no budget call at all.
      const holds = (counter.byMethod.get('budgets.hold') ?? 0) - holdsBefore;
      const settles = (counter.byMethod.get('budgets.settle') ?? 0) - settlesBefore;
      const budgetCalls = counter.callsOf('budgets') - budgetCallsBefore;
      const expectedHolds = budgets ? (EXPECTED_BUDGET_CALLS['budgets.hold'] ?? 0) : 0;
      const expectedSettles = budgets ? (EXPECTED_BUDGET_CALLS['budgets.settle'] ?? 0) : 0;
      if (
        holds !== expectedHolds ||
        settles !== expectedSettles ||
        budgetCalls !== holds + settles
      ) {
        throw new Error(
          `run ${runId} made ${holds} holds, ${settles} settles and ${budgetCalls} budget store calls in all; expected ${expectedHolds} holds and ${expectedSettles} settles only`,
        );
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
 * Checks what the path's last run left in its store: its three steps (model call, tool call,
 * model call), completed, the model calls priced; and its conversation. Returns a description.
 */
async function checkStored(name: PathKey, path: Path, store: Store): Promise<string> {
  const runId = path.lastRunId;
  if (runId === undefined) throw new Error(`${name}: no run was made`);
  const steps = await store.runs.listSteps(runId);
  const stored = await store.messages.list(runId);
  if (stored.length === 0) throw new Error(`${name}: run ${runId} stored no conversation`);
  const describe = (step: RunStep) => `${step.kind} ${step.state}`;
  const [first, tool, last] = steps;
  const priced = (step: RunStep | undefined) =>
    step?.kind === 'model_call' &&
    step.state === 'completed' &&
    step.reply !== undefined &&
    step.usage?.cost_usd !== undefined &&
    step.usage.cost_usd > 0;
  const ok =
    steps.length === 3 &&
    priced(first) &&
    tool?.kind === 'tool_call' &&
    tool.state === 'completed' &&
    tool.outcome === 'success' &&
    priced(last) &&
    last?.reply?.text === 'done';
  if (!ok) {
    throw new Error(
      `${name}: run ${runId} recorded unexpected steps: ${JSON.stringify(steps.map(describe))}`,
    );
  }
  return `${stored.length} messages, ${steps.length} steps, model calls priced`;
}

/** The keys of the agent's day line and the fleet's at `at`. */
function dayKeys(definition: AgentDefinition, at: Date): { agent: string; fleet: string } {
  const lines = budgetLinesOf(definition, 'probe', FLEET, at);
  const agent = lines.find((line) => line.scope.kind === 'agent' && line.window === 'per_day');
  const fleet = lines.find((line) => line.scope.kind === 'fleet' && line.window === 'per_day');
  if (!agent || !fleet) throw new Error(`the agent's lines are not as expected: ${lines.length}`);
  return { agent: agent.key, fleet: fleet.key };
}

/** Sums counters' spent and held (a window that changed during the benchmark has two). */
function sumCounters(counters: readonly BudgetCounter[]) {
  const spent = { micro_usd: 0, tokens: 0, requests: 0, tool_calls: 0 };
  let held = 0;
  for (const counter of counters) {
    for (const dimension of Object.keys(spent) as (keyof typeof spent)[]) {
      spent[dimension] += counter.spent[dimension];
      held += counter.held[dimension];
    }
  }
  return { spent, held };
}

/**
 * Checks the counters the budget path's runs spent on: on the agent's day line, per run, two
 * requests, one tool call, the mock's tokens and their price; on the fleet's, two requests;
 * nothing left held. (The bare path, on the same store, must not have added anything.)
 */
async function checkSpend(
  backend: Backend,
  store: Store,
  runs: number,
  keys: { agent: ReadonlySet<string>; fleet: ReadonlySet<string> },
): Promise<string> {
  const agent = sumCounters(await store.budgets.counters([...keys.agent]));
  const fleet = sumCounters(await store.budgets.counters([...keys.fleet]));
  const half = TOKENS_PER_CALL / 2;
  const costPerCall = costMicroUsd({ input_tokens: half, output_tokens: half }, PRICING);
  const expected = {
    requests: MODEL_CALLS_PER_RUN * runs,
    tool_calls: TOOL_CALLS_PER_RUN * runs,
    tokens: MODEL_CALLS_PER_RUN * TOKENS_PER_CALL * runs,
    micro_usd: MODEL_CALLS_PER_RUN * costPerCall * runs,
  };
  const ok =
    agent.spent.requests === expected.requests &&
    agent.spent.tool_calls === expected.tool_calls &&
    agent.spent.tokens === expected.tokens &&
    agent.spent.micro_usd === expected.micro_usd &&
    agent.held === 0 &&
    fleet.spent.requests === expected.requests &&
    fleet.held === 0;
  if (!ok) {
    throw new Error(
      `${backend}: after ${runs} runs with budgets the counters read agent ${JSON.stringify(agent)}, fleet ${JSON.stringify(fleet)}; expected spent ${JSON.stringify(expected)} on the agent's line, ${expected.requests} requests on the fleet's, nothing held`,
    );
  }
  return `${runs.toLocaleString('en-US')} runs: agent day line spent ${agent.spent.requests.toLocaleString('en-US')} requests, ${agent.spent.tool_calls.toLocaleString('en-US')} tool calls, ${agent.spent.tokens.toLocaleString('en-US')} tokens, $${(agent.spent.micro_usd / 1_000_000).toFixed(6)}; fleet day line ${fleet.spent.requests.toLocaleString('en-US')} requests; nothing held`;
}

/** Runs done, the wall-clock and CPU milliseconds they took, and the calls they made. */
interface Tally {
  runs: number;
  ms: number;
  cpuMs: number;
  storeCalls: number;
  budgetCalls: number;
  serverCommands: number;
  serverRoundTrips: number;
}

function emptyTally(): Tally {
  return {
    runs: 0,
    ms: 0,
    cpuMs: 0,
    storeCalls: 0,
    budgetCalls: 0,
    serverCommands: 0,
    serverRoundTrips: 0,
  };
}

/** Runs the path back to back for about `ms`. */
async function runFor(path: Path, server: ServerCalls, ms: number): Promise<Tally> {
  const calls = path.counter.total;
  const budgetCalls = path.counter.callsOf('budgets');
  const { commands, roundTrips } = server;
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
    budgetCalls: path.counter.callsOf('budgets') - budgetCalls,
    serverCommands: server.commands - commands,
    serverRoundTrips: server.roundTrips - roundTrips,
  };
}

/** A small seeded generator (mulberry32), so every race asks the same amounts. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What one race on one budget line ended with. */
interface RaceResult {
  granted: number;
  refused: number;
  /** Tokens spent on the line at the end (the settled actuals, summed). */
  spent: number;
  /** The most spent + held read on the line while the holds raced. */
  mostSeen: number;
  /** Reads of the line while racing: the watcher's, and one after each hold's answer. */
  samples: number;
  ms: number;
}

/**
 * `RACE_RUNS` runs at once on one line, dealt round-robin to the racing stores: each holds its
 * first call, waits a moment (the call in flight), settles to a random actual up to what it
 * held, and goes on to its next call, up to `RACE_CALLS`, until a hold is refused (a run ends
 * `budget_exceeded`). The line is read after each hold's answer and by a watcher again and
 * again. Checks the end: nothing held, spent the sum of the settled actuals, and the limit
 * contested (some holds refused, some granted).
 */
async function race(
  backend: Backend,
  clients: readonly Store[],
  watcher: Store,
  index: number,
): Promise<RaceResult> {
  const line: BudgetLine = {
    key: `race:${backend}:${index}`,
    limits: { tokens: RACE_LIMIT_TOKENS },
    resets_at: new Date(Date.now() + 86_400_000).toISOString(),
  };
  // Every connection open (and a Postgres schema migrated) before the runs start together.
  for (const store of [...clients, watcher]) await store.budgets.counters([line.key]);
  const random = seededRandom(1_000 + index);
  const runs = Array.from({ length: RACE_RUNS }, () =>
    Array.from({ length: RACE_CALLS }, () => {
      const tokens = 1 + Math.floor(random() * RACE_MAX_HOLD_TOKENS);
      return {
        tokens,
        actual: Math.floor(random() * (tokens + 1)),
        callMs: Math.floor(random() * (RACE_MAX_CALL_MS + 1)),
      };
    }),
  );
  let racing = true;
  let mostSeen = 0;
  let samples = 0;
  const observe = async (store: Store) => {
    const [counter] = await store.budgets.counters([line.key]);
    if (counter) mostSeen = Math.max(mostSeen, counter.spent.tokens + counter.held.tokens);
    samples += 1;
  };
  const watching = (async () => {
    while (racing) {
      await observe(watcher);
      await nextTurn();
    }
  })();
  const started = performance.now();
  let granted = 0;
  let refused = 0;
  let expectedSpent = 0;
  try {
    await Promise.all(
      runs.map(async (calls, run) => {
        const store = clients[run % clients.length]!;
        const runId = `race-run-${index}-${run}`;
        for (const [call, { tokens, actual, callMs }] of calls.entries()) {
          const holdId = `${runId}/${call}`;
          const outcome = await store.budgets.hold(
            holdId,
            runId,
            [line],
            { tokens, requests: 1 },
            new Date(),
          );
          // Read at the moments that matter too: right after a hold is granted or refused.
          await observe(store);
          if (!outcome.held) {
            const { refusal } = outcome;
            if (refusal.key !== line.key || refusal.dimension !== 'tokens')
              throw new Error(`${backend}: hold ${holdId} refused as ${JSON.stringify(refusal)}`);
            refused += 1;
            return;
          }
          granted += 1;
          await sleep(callMs);
          if (!(await store.budgets.settle(holdId, { tokens: actual, requests: 1 })))
            throw new Error(`${backend}: hold ${holdId} was not open when settled`);
          expectedSpent += actual;
        }
      }),
    );
  } finally {
    racing = false;
    await watching;
  }
  const ms = performance.now() - started;
  const [counter] = await watcher.budgets.counters([line.key]);
  if (!counter) throw new Error(`${backend}: no counter read for ${line.key}`);
  const held = Object.values(counter.held).reduce((sum, amount) => sum + amount, 0);
  if (counter.spent.tokens !== expectedSpent || counter.spent.requests !== granted) {
    throw new Error(
      `${backend}: race ${index} spent ${counter.spent.tokens} tokens and ${counter.spent.requests} requests; the ${granted} settled holds spent ${expectedSpent} tokens`,
    );
  }
  if (held !== 0) throw new Error(`${backend}: race ${index} left ${held} held`);
  if (granted === 0 || refused === 0) {
    throw new Error(
      `${backend}: race ${index} did not contest the limit (${granted} granted, ${refused} refused)`,
    );
  }
  return { granted, refused, spent: counter.spent.tokens, mostSeen, samples, ms };
}

/** A store on the backend; `own` gives it a connection (or pool) of its own, as a process has. */
function openStore(
  backend: Backend,
  directory: string,
  namespace: string | undefined,
  file: string,
  own: boolean,
): Store {
  switch (backend) {
    case 'memory':
      return createMemoryStore();
    case 'sqlite':
      return createSqliteStore({ path: join(directory, file), sharedConnection: !own });
    case 'postgres':
      return createPostgresStore({
        url: postgresUrl(),
        namespace,
        ...(own ? { pool: { shared: false, max: RACE_POOL_MAX } } : {}),
      });
    case 'redis':
      return createRedisStore({ url: redisUrl(), namespace });
  }
}

/** What one measuring process finds. */
interface GroupMeasurement {
  backends: Backend[];
  /** Each backend's store, as it describes itself. */
  descriptions: Partial<Record<Backend, string>>;
  tallies: Partial<Record<PathKey, Tally>>;
  /** Store calls per run, by `store.method` (every run counted, warm-up included). */
  callsByMethod: Partial<Record<PathKey, Record<string, number>>>;
  /** What each path's last run left in its store. */
  stored: Partial<Record<PathKey, string>>;
  /** What the budget path's runs spent, as each backend's counters read. */
  spend: Partial<Record<Backend, string>>;
  races: Partial<Record<Backend, RaceResult[]>>;
  warmUpMs: number;
  rounds: number;
}

async function measureGroup(parameters: GroupParameters): Promise<GroupMeasurement> {
  const { group, namespace, quick } = parameters;
  const backends: readonly Backend[] = GROUPS[group];
  const durationMs = quick ? 1_000 : 3_000;
  const warmUpMs = quick ? 300 : 1_000;
  // A multiple of the paths: each path takes each place in the order equally often.
  const rounds = quick ? 4 : 8;
  const races = quick ? 1 : 3;
  const server = countServerCalls();
  const definition = agentDefinition();
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-bench-budgets-'));
  const opened: Store[] = [];
  const open = (backend: Backend, file: string, own: boolean) => {
    const store = openStore(backend, directory, namespace, file, own);
    opened.push(store);
    return store;
  };
  try {
    const stores = new Map<Backend, Store>();
    const paths = new Map<PathKey, Path>();
    for (const backend of backends) {
      // Both paths of a backend share its store: their runs grow the same tables alike.
      const store = open(backend, 'runs.db', false);
      stores.set(backend, store);
      for (const budgets of [true, false])
        paths.set(pathKey(backend, budgets), await openPath(backend, budgets, store, definition));
    }
    const names = pathsOf(backends);
    const pathOf = (name: PathKey) => paths.get(name)!;
    const tallies: Partial<Record<PathKey, Tally>> = {};
    for (const name of names) tallies[name] = emptyTally();
    const keysAtStart = dayKeys(definition, new Date());

    progress(
      `budgets ${group}: warm-up ${warmUpMs} ms per path, then ${rounds} rounds of ${names.length} paths, ${Math.round(durationMs / rounds)} ms each`,
    );
    for (const name of names) await runFor(pathOf(name), server, warmUpMs);
    for (let round = 0; round < rounds; round += 1) {
      const order = names.map((_, index) => names[(index + round) % names.length]!);
      for (const name of order) {
        const slice = await runFor(pathOf(name), server, durationMs / rounds);
        const total = tallies[name]!;
        for (const field of Object.keys(slice) as (keyof Tally)[]) total[field] += slice[field];
      }
    }

    const keysAtEnd = dayKeys(definition, new Date());
    const keys = {
      agent: new Set([keysAtStart.agent, keysAtEnd.agent]),
      fleet: new Set([keysAtStart.fleet, keysAtEnd.fleet]),
    };
    const callsByMethod: Partial<Record<PathKey, Record<string, number>>> = {};
    const stored: Partial<Record<PathKey, string>> = {};
    const spend: Partial<Record<Backend, string>> = {};
    const descriptions: Partial<Record<Backend, string>> = {};
    for (const backend of backends) {
      const store = stores.get(backend)!;
      descriptions[backend] = store.description;
      for (const budgets of [true, false]) {
        const name = pathKey(backend, budgets);
        const path = pathOf(name);
        callsByMethod[name] = Object.fromEntries(
          [...path.counter.byMethod].map(([method, calls]) => [method, calls / path.runs]),
        );
        stored[name] = await checkStored(name, path, store);
      }
      spend[backend] = await checkSpend(backend, store, pathOf(pathKey(backend, true)).runs, keys);
    }

    const raceResults: Partial<Record<Backend, RaceResult[]>> = {};
    for (const backend of backends.filter((candidate) => RACED.has(candidate))) {
      progress(
        `budgets ${backend}: ${races} race(s) of ${RACE_RUNS} runs over ${RACE_CLIENTS} connections on one line`,
      );
      const clients = Array.from({ length: RACE_CLIENTS }, () => open(backend, 'race.db', true));
      const watcher = open(backend, 'race.db', true);
      const results: RaceResult[] = [];
      for (let index = 0; index < races; index += 1)
        results.push(await race(backend, clients, watcher, index));
      raceResults[backend] = results;
    }
    return {
      backends: [...backends],
      descriptions,
      tallies,
      callsByMethod,
      stored,
      spend,
      races: raceResults,
      warmUpMs,
      rounds,
    };
  } finally {
    for (const store of opened) await store.close();
    rmSync(directory, { recursive: true, force: true });
    const shared = serverOfGroup(group);
    if (shared && namespace !== undefined) await removeNamespace(shared, namespace);
  }
}

function figuresOf(measured: GroupMeasurement): Figure[] {
  const { tallies } = measured;
  const tally = (backend: Backend, budgets: boolean) => tallies[pathKey(backend, budgets)]!;
  const perRun = (backend: Backend, budgets: boolean, field: keyof Tally) =>
    tally(backend, budgets)[field] / tally(backend, budgets).runs;
  const cpuPerRun = (backend: Backend, budgets: boolean) =>
    perRun(backend, budgets, 'cpuMs') * 1000;
  const figure = (
    name: string,
    value: number,
    unit: string,
    extra: Partial<Figure> = {},
  ): Figure => ({ suite: SUITE, name, value, unit, ...extra });
  const figures: Figure[] = [];
  const label = (budgets: boolean) => (budgets ? 'with budgets' : 'without budgets');
  for (const backend of measured.backends) {
    for (const budgets of [true, false])
      figures.push(
        figure(`${backend} · ${label(budgets)} · CPU per run`, cpuPerRun(backend, budgets), 'µs'),
      );
    for (const budgets of [true, false])
      figures.push(
        figure(
          `${backend} · ${label(budgets)} · wall time per run`,
          perRun(backend, budgets, 'ms'),
          'ms',
        ),
      );
    for (const budgets of [true, false])
      figures.push(
        figure(
          `${backend} · ${label(budgets)} · store calls per run`,
          perRun(backend, budgets, 'storeCalls'),
          '',
        ),
      );
    figures.push(
      figure(`${backend} · budget store calls per run`, perRun(backend, true, 'budgetCalls'), ''),
    );
    if (serverOf(backend)) {
      for (const budgets of [true, false])
        figures.push(
          figure(
            `${backend} · ${label(budgets)} · server round trips per run`,
            perRun(backend, budgets, 'serverRoundTrips'),
            '',
          ),
        );
    }
    const withBudgets = cpuPerRun(backend, true);
    const without = cpuPerRun(backend, false);
    figures.push(figure(`holds' CPU per run (${backend})`, withBudgets - without, 'µs'));
    figures.push(
      figure(
        `holds' wall time per run (${backend})`,
        perRun(backend, true, 'ms') - perRun(backend, false, 'ms'),
        'ms',
      ),
    );
    figures.push(
      figure(
        `holds' share of a run's CPU (${backend})`,
        ((withBudgets - without) / withBudgets) * 100,
        '%',
        { key: true },
      ),
    );
  }
  for (const backend of measured.backends) {
    const results = measured.races[backend];
    if (!results || results.length === 0) continue;
    const overshoot = Math.max(0, ...results.map((result) => result.spent - RACE_LIMIT_TOKENS));
    const over = Math.max(0, ...results.map((result) => result.mostSeen - RACE_LIMIT_TOKENS));
    figures.push(
      figure(`race · ${backend} · overshoot (spent − limit)`, overshoot, 'tokens', {
        goal: { comparison: 'at_most', target: 0 },
      }),
      figure(`race · ${backend} · spent + held over the limit, most seen`, over, 'tokens', {
        key: true,
      }),
    );
  }
  return figures;
}

function describeCalls(calls: Record<string, number> | undefined): string {
  const entries = Object.entries(calls ?? {});
  if (entries.length === 0) return 'none';
  return entries.map(([method, count]) => `${method} ${formatNumber(count)}`).join(', ');
}

/** Notes on what one group measured: runs, calls by method, round trips, checks, races. */
function notesOf(measured: GroupMeasurement): string[] {
  const notes: string[] = [];
  const { tallies, callsByMethod, stored, spend, races } = measured;
  for (const backend of measured.backends) {
    const withBudgets = tallies[pathKey(backend, true)]!;
    const without = tallies[pathKey(backend, false)]!;
    notes.push(
      `${backend} (${measured.descriptions[backend] ?? '?'}): runs measured with budgets ${withBudgets.runs.toLocaleString('en-US')}, without ${without.runs.toLocaleString('en-US')}`,
      `${backend} calls per run: with budgets ${describeCalls(callsByMethod[pathKey(backend, true)])}; without ${describeCalls(callsByMethod[pathKey(backend, false)])}`,
    );
    if (serverOf(backend)) {
      const per = (value: number, t: Tally) => formatNumber(value / t.runs);
      const trips = withBudgets.serverRoundTrips / withBudgets.runs;
      const bare = without.serverRoundTrips / without.runs;
      const holds = (EXPECTED_BUDGET_CALLS['budgets.hold'] ?? 0) * 2;
      notes.push(
        `${backend} server traffic per run: with budgets ${per(withBudgets.serverCommands, withBudgets)} ${backend === 'postgres' ? 'statements' : 'commands'} in ${per(withBudgets.serverRoundTrips, withBudgets)} round trips, without ${per(without.serverCommands, without)} in ${per(without.serverRoundTrips, without)}: the holds add ${formatNumber(trips - bare)} round trips, ${formatNumber((trips - bare) / holds)} per hold or settle`,
      );
    }
    notes.push(
      `${backend} checked after measuring: last runs ${stored[pathKey(backend, true)]} (with budgets), ${stored[pathKey(backend, false)]} (without); counters ${spend[backend]}`,
    );
    const results = races[backend];
    if (results) {
      notes.push(
        `${backend} races: ${results
          .map(
            (result) =>
              `${result.granted} granted / ${result.refused} refused, spent ${result.spent.toLocaleString('en-US')} of ${RACE_LIMIT_TOKENS.toLocaleString('en-US')}, most spent + held seen ${result.mostSeen.toLocaleString('en-US')} in ${result.samples} reads, ${Math.round(result.ms)} ms`,
          )
          .join('; ')}`,
      );
    }
  }
  return notes;
}

async function run(options: BenchOptions): Promise<SuiteResult> {
  const runtime: ChildRuntime = options.runtimes[0];
  const figures: Figure[] = [];
  const notes: string[] = [];
  let first: GroupMeasurement | undefined;
  for (const group of GROUP_NAMES) {
    const server = serverOfGroup(group);
    if (server) {
      const reason = await unavailableReason(server);
      if (reason) {
        progress(`budgets ${group}: FAILED (${reason})`);
        notes.push(`${group}: FAILED — ${reason}`);
        continue;
      }
    }
    const namespace = server ? freshNamespace(SUITE) : undefined;
    const parameters: GroupParameters = {
      group,
      ...(namespace === undefined ? {} : { namespace }),
      quick: options.quick,
    };
    try {
      const measured = await runInChild<GroupMeasurement>(
        import.meta.url,
        [JSON.stringify(parameters)],
        runtime,
      );
      first ??= measured;
      figures.push(...figuresOf(measured));
      notes.push(...notesOf(measured));
    } catch (error) {
      notes.push(`${group}: FAILED — ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      // The child removes its namespace; this covers a child that died first.
      if (server && namespace !== undefined)
        await removeNamespace(server, namespace).catch((error: unknown) =>
          notes.push(`${group}: namespace ${namespace} not removed: ${String(error)}`),
        );
    }
  }
  notes.push(
    'each run: runAgent on the mock model, which answers a tool call (echo), then text (10 tokens a call); a fresh model per run on every path',
    `every path: session_policy per_run, the journal on (recorder = store.runs) and conversation memory in the backend's store, the model priced ($${PRICING.input_per_million} / $${PRICING.output_per_million} per million tokens in / out), events through the service's EventPublisher into a memory event log of its own kept at its ${EVENT_LOG_CAP.toLocaleString('en-US')}-event cap, timeoutMs as the service passes`,
    `with budgets: per run, ServiceBudgets.forRun (as the service) over the agent's per_day budget ($${AGENT_BUDGET.per_day.usd.toLocaleString('en-US')}) and the fleet's (${(FLEET.fleet?.per_day?.requests ?? 0).toLocaleString('en-US')} requests a day): each hold is checked and added on both lines; never refused. Without: no budget (the calls are not held)`,
    `store calls: method calls on the run store (the journal), the message store and the budget store, counted by a forwarding proxy; every run was checked to make exactly ${EXPECTED_BUDGET_CALLS['budgets.hold']} holds and ${EXPECTED_BUDGET_CALLS['budgets.settle']} settles with budgets (2 model calls + 1 tool call), none without`,
    'server round trips: Postgres statements (pg Client.query; pg never pipelines) and Redis commands (ioredis sendCommand, a pipeline counted once), counted in the measuring process; CPU is that process’s user + system time (the servers’ own is not counted)',
    `race: ${RACE_RUNS} runs at once on one line limited to ${RACE_LIMIT_TOKENS.toLocaleString('en-US')} tokens, dealt to ${RACE_CLIENTS} stores with a connection (Postgres: a pool of ${RACE_POOL_MAX}) of their own, as processes would; each run makes up to ${RACE_CALLS} calls one after another, each held (1–${RACE_MAX_HOLD_TOKENS.toLocaleString('en-US')} tokens), then after 0–${RACE_MAX_CALL_MS} ms settled to a random actual up to what it held, and stops at its first refused hold. The line is read after each hold's answer and by a fifth store over and over (most spent + held seen). Overshoot = max(0, final spent − limit); checked: nothing held at the end, spent = the settled actuals summed, requests spent = holds granted, some holds refused`,
    `${first?.rounds ?? '?'} rounds after a ${first?.warmUpMs ?? '?'} ms warm-up per path, the order of the paths rotated each round; a fresh ${runtime} process per group (memory + SQLite, Postgres, Redis); SQLite on files in a temp folder, removed afterwards`,
    `shared servers: ${describeServer('postgres')}, ${describeServer('redis')} (other processes use them too); each in a fresh namespace, removed afterwards`,
  );
  return { figures, notes };
}

/** The budgets suite. */
export const budgetsSuite: Suite = {
  name: SUITE,
  title:
    'budgets — runAgent with and without budget holds, per backend, and holds racing on one line',
  run,
};

if (isMainModule(import.meta.url)) {
  const parameters = JSON.parse(process.argv[2] ?? 'null') as GroupParameters | null;
  if (!parameters || !GROUP_NAMES.includes(parameters.group)) {
    console.error(
      'usage: node --import tsx bench/budgets.ts \'{"group":"postgres","quick":true}\' (group local, postgres or redis)',
    );
    process.exit(2);
  }
  const server = serverOfGroup(parameters.group);
  // Never the default namespace on a server others share.
  if (server) parameters.namespace ??= freshNamespace(SUITE);
  const measured = await measureGroup(parameters);
  if (!(await sendToParent(measured))) {
    printSuite(budgetsSuite.title, { figures: figuresOf(measured), notes: notesOf(measured) });
  }
}
