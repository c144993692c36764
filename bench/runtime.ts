/**
 * runtime: agent runs per second through `runAgent` (in-memory memory, events and step
 * records, wired as the service wires them) against bare `generateText` calls doing the same
 * model ↔ tool exchange — in one fresh process, alternating rounds.
 */
import { generateText, stepCountIs, tool } from 'ai';
import { createMemoryStore, parseAgentDefinition, runAgent } from '../src/index.js';
import {
  echo,
  echoInput,
  EVENT_LOG_CAP,
  newModel,
  RUN_TIMEOUT_MS,
  echoTools,
  publisherAtCap,
} from './echo-run.js';
import { isMainModule, runInChild, sendToParent, type ChildRuntime } from './child-process.js';
import { progress } from './measure.js';
import { printSuite, type Figure, type SuiteResult } from './report.js';
import type { BenchOptions, Suite } from './suite.js';

const SUITE = 'runtime';
const AGENT_ID = 'bench-runtime';
const QUERY = 'Echo "ping", then answer.';

type Path = () => Promise<void>;

async function agentPath(): Promise<Path> {
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
  const store = createMemoryStore();
  const publisher = await publisherAtCap(AGENT_ID, QUERY);
  const tools = echoTools();
  let sequence = 0;
  return async () => {
    const runId = `${AGENT_ID}.${sequence++}`;
    const result = await runAgent({
      definition,
      model: newModel(),
      runId,
      tools,
      messages: store.messages,
      recorder: store.runs,
      timeoutMs: RUN_TIMEOUT_MS,
      emit: async (event) => {
        await publisher.publish(event.type, AGENT_ID, runId, event.payload);
      },
    });
    if (result.status !== 'completed' || result.tool_calls !== 1 || result.output !== 'done') {
      throw new Error(`runAgent did not do the expected work: ${JSON.stringify(result)}`);
    }
  };
}

function barePath(): Path {
  const { system_instruction: system } = parseAgentDefinition(
    {
      agent_id: AGENT_ID,
      interval: 60,
      model_config: { provider: 'mock' },
      task_config: { query: QUERY },
    },
    { providers: ['mock'] },
  );
  const tools = {
    echo: tool({
      description: echo.description,
      inputSchema: echoInput,
      execute: (input) => echo.execute(input, undefined as never),
    }),
  };
  return async () => {
    const result = await generateText({
      model: newModel(),
      system,
      messages: [{ role: 'user', content: QUERY }],
      tools,
      stopWhen: stepCountIs(5),
    });
    if (result.steps.length !== 2 || result.text !== 'done') {
      throw new Error(`generateText did not do the expected work: ${result.steps.length} steps`);
    }
  };
}

/** Runs done, and the wall-clock and CPU milliseconds they took. */
interface Tally {
  runs: number;
  ms: number;
  cpuMs: number;
}

/** Runs the path back to back for about `ms`. */
async function runFor(path: Path, ms: number): Promise<Tally> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let runs = 0;
  let elapsed: number;
  do {
    await path();
    runs += 1;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  const used = process.cpuUsage(cpu);
  return { runs, ms: elapsed, cpuMs: (used.user + used.system) / 1000 };
}

/** What one measuring process finds. */
interface RuntimeMeasurement {
  agent: Tally;
  bare: Tally;
  warmUpMs: number;
  rounds: number;
}

async function measureRuntime(quick: boolean): Promise<RuntimeMeasurement> {
  const durationMs = quick ? 1_000 : 3_000;
  const warmUpMs = quick ? 300 : 1_000;
  const rounds = quick ? 4 : 10;
  const paths = { agent: await agentPath(), bare: barePath() };
  const totals = { agent: { runs: 0, ms: 0, cpuMs: 0 }, bare: { runs: 0, ms: 0, cpuMs: 0 } };

  progress(`runtime: warm-up ${warmUpMs} ms per path, then ${rounds} alternating rounds`);
  await runFor(paths.agent, warmUpMs);
  await runFor(paths.bare, warmUpMs);
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? (['agent', 'bare'] as const) : (['bare', 'agent'] as const);
    for (const name of order) {
      const slice = await runFor(paths[name], durationMs / rounds);
      totals[name].runs += slice.runs;
      totals[name].ms += slice.ms;
      totals[name].cpuMs += slice.cpuMs;
    }
  }
  return { ...totals, warmUpMs, rounds };
}

function figuresOf(measured: RuntimeMeasurement, runtime: ChildRuntime, judged: boolean): Figure[] {
  const rate = (tally: Tally) => (tally.runs / tally.ms) * 1000;
  const cpuRate = (tally: Tally) => (tally.runs / tally.cpuMs) * 1000;
  const agentRate = rate(measured.agent);
  const bareRate = rate(measured.bare);
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
  return [
    figure('runAgent (memory, events, steps)', agentRate, 'runs/s', { key: judged }),
    figure('bare generateText', bareRate, 'runs/s', { key: judged }),
    figure('runAgent overhead per run', (1 / agentRate - 1 / bareRate) * 1e6, 'µs', {
      key: judged,
    }),
    figure(
      'ratio runAgent / generateText',
      agentRate / bareRate,
      '',
      judged
        ? { goal: { comparison: 'at_least', target: 0.8 }, issueGoal: 'runtime ratio, memory' }
        : { key: true },
    ),
    figure('ratio by CPU time', cpuRate(measured.agent) / cpuRate(measured.bare), ''),
  ];
}

async function run(options: BenchOptions): Promise<SuiteResult> {
  const argument = options.quick ? 'quick' : 'full';
  const figures: Figure[] = [];
  let first: RuntimeMeasurement | undefined;
  for (const [index, runtime] of options.runtimes.entries()) {
    const measured = await runInChild<RuntimeMeasurement>(import.meta.url, [argument], runtime);
    first ??= measured;
    figures.push(...figuresOf(measured, runtime, index === 0));
  }
  return {
    figures,
    notes: [
      'each run: the mock model answers a tool call (echo), then text; a fresh model per run on both paths',
      `runAgent: session_policy per_run (no history), one memory store for all runs, events through the service's EventPublisher (one secret to redact) into a memory event log kept at its ${EVENT_LOG_CAP.toLocaleString('en-US')}-event cap, recorder = store.runs, timeoutMs as the service passes`,
      `generateText: same model, same zod tool, stopWhen stepCountIs(5); ${first?.rounds} alternating rounds after a ${first?.warmUpMs} ms warm-up, in a fresh process`,
      `runs measured: runAgent ${first?.agent.runs}, generateText ${first?.bare.runs}; "ratio by CPU time" is less sensitive to other load on the machine`,
    ],
  };
}

/** The runtime suite. */
export const runtimeSuite: Suite = {
  name: SUITE,
  title: 'runtime — runAgent vs bare generateText on a mock model',
  run,
};

if (isMainModule(import.meta.url)) {
  const measured = await measureRuntime(process.argv[2] === 'quick');
  if (!(await sendToParent(measured))) {
    const runtime = import.meta.url.endsWith('.ts') ? 'tsx' : 'compiled';
    printSuite(runtimeSuite.title, { figures: figuresOf(measured, runtime, true), notes: [] });
  }
}
