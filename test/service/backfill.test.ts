/**
 * Backfill through the service, against a real HTTP server speaking the OpenAI wire format with
 * known token counts, on a SQLite store and an injected clock: the ticks of a past range, which
 * of them ran, their price from the agent's recent runs, and which fit its budgets; the ticks
 * that fit run one after another, and the backfill stops where a budget or a person says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import {
  MemoryRouter,
  NightshiftError,
  type BackfillPlan,
  type BackgroundAgentService,
  type BackgroundAgentServiceOptions,
  type RunRecord,
  type ToolDefinition,
} from '../../src/index.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../helpers/fake-openai-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { makeService, temporaryDatabase } from './service-fixtures.js';

let server: FakeOpenAIServer;
beforeEach(async () => {
  server = await startFakeOpenAIServer();
});
afterEach(async () => {
  await server.close();
});

const HOUR = 3_600_000;

const lookup: ToolDefinition<never> = {
  description: 'Looks a key up.',
  inputSchema: { type: 'object', properties: { key: { type: 'string' } } },
  idempotent: true,
  execute: () => ({ value: 42 }),
};

/** $2 per million input tokens, $8 output. */
const PRICING = { input_per_million: 2, output_per_million: 8 };

function agent(
  agentId: string,
  overrides: Partial<AgentDefinitionInput> = {},
): AgentDefinitionInput {
  return {
    agent_id: agentId,
    interval: 3600,
    model_config: {
      provider: 'openai_compatible',
      model: 'gpt-test',
      base_url: server.baseURL,
      pricing: PRICING,
      max_tokens: 100,
    },
    task_config: { query: 'Look up the key, then answer.', max_retries: 0 },
    tools: ['lookup'],
    ...overrides,
  };
}

/**
 * One run's two replies: a tool call, then the answer. By default 1,000 + 100 and 2,000 + 50
 * tokens: (1,000 × $2 + 100 × $8 + 2,000 × $2 + 50 × $8) / 1M = $0.0072, 3,150 tokens.
 */
function enqueueRun(
  first = { input_tokens: 1000, output_tokens: 100 },
  second = { input_tokens: 2000, output_tokens: 50 },
  delayMs = 0,
): void {
  server.enqueue(
    {
      tool_calls: [{ name: 'lookup', args: { key: 'rows' } }],
      usage: first,
      delay_ms: delayMs,
    },
    { text: 'The value is 42.', usage: second, delay_ms: delayMs },
  );
}

/** The messages the service logs, to see when a backfill has ended. */
interface Logged {
  messages: string[];
}

/** A manager on a fresh SQLite file, its clock at 2026-03-10T12:00Z and running on from there. */
async function manager(
  options: BackgroundAgentServiceOptions & { url?: string } = {},
): Promise<{ svc: BackgroundAgentService; url: string; logged: Logged }> {
  const url = options.url ?? temporaryDatabase();
  const logged: Logged = { messages: [] };
  const realStart = Date.now();
  const base = Date.parse('2026-03-10T12:00:00Z');
  const svc = makeService({
    url,
    tools: { lookup },
    now: () => new Date(base + (Date.now() - realStart)),
    logger: {
      info: (_object, message) => logged.messages.push(message ?? ''),
      warn: () => undefined,
      error: (_object, message) => logged.messages.push(`error: ${message ?? ''}`),
    },
    ...options,
  });
  await svc.startManager();
  return { svc, url, logged };
}

/** Where the agent's interval ticks fall: its creation, and whole hours before it. */
async function createdAt(svc: BackgroundAgentService, agentId: string): Promise<number> {
  return Date.parse((await svc.getAgentStatus(agentId)).created_at);
}

/** `hours` hours before `at` (negative: after), as an ISO instant. */
function hoursBefore(at: number, hours: number): string {
  return new Date(at - hours * HOUR).toISOString();
}

/** The NightshiftError a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<NightshiftError> {
  const error: unknown = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  if (!NightshiftError.isInstance(error)) throw error;
  return error;
}

async function backfillRuns(svc: BackgroundAgentService, agentId: string): Promise<RunRecord[]> {
  return (await svc.listRuns(agentId, { limit: 100 }))
    .filter((run) => run.trigger === 'backfill')
    .sort((a, b) => Date.parse(a.scheduled_at) - Date.parse(b.scheduled_at));
}

/** Resolves once the service has logged the end of a backfill of the agent. */
function backfillEnded(logged: Logged, agentId: string): Promise<string> {
  return waitFor(
    () =>
      logged.messages.find((message) => message.startsWith(`nightshift: backfill of ${agentId} `)),
    { what: `the end of the backfill of ${agentId}` },
  );
}

describe('backfill', () => {
  it('lists the ticks of a past range, marks those that ran, prices them from recent runs, and a dry run changes nothing', async () => {
    const { svc, url, logged } = await manager();
    await svc.create(agent('archiver'));
    // Two runs to price from: $0.0072 and 3,150 tokens; $0.0056 and 2,200 tokens.
    enqueueRun();
    expect((await svc.runNow('archiver', { wait: true })).status).toBe('completed');
    enqueueRun(
      { input_tokens: 1000, output_tokens: 100 },
      { input_tokens: 1000, output_tokens: 100 },
    );
    expect((await svc.runNow('archiver', { wait: true })).status).toBe('completed');
    const created = await createdAt(svc, 'archiver');
    const hours = [5, 4, 3, 2, 1];
    const ticks = hours.map((hour) => created - hour * HOUR);

    const planned = await svc.backfill('archiver', {
      from: hoursBefore(created, 5.5),
      to: hoursBefore(created, 0.5),
      dry_run: true,
    });
    expect(planned).toMatchObject({
      agent_id: 'archiver',
      from: hoursBefore(created, 5.5),
      to: hoursBefore(created, 0.5),
      dry_run: true,
      counts: { already_ran: 0, fits: 5, queued: 0, over_budget: 0 },
      budgets: [],
    });
    expect(planned.ticks).toEqual(
      ticks.map((tick) => ({
        scheduled_at: new Date(tick).toISOString(),
        run_id: `archiver.${tick}`,
        status: 'fits',
        run_status: null,
      })),
    );
    expect(planned.estimate).toEqual({
      runs: 2,
      per_run: { cost_usd: 0.0064, total_tokens: 2675, requests: 2, tool_calls: null },
    });
    expect(planned.notes.join('\n')).toMatch(/no day or month budget applies/);
    // Nothing started, nothing sent.
    expect(await svc.listRuns('archiver')).toHaveLength(2);
    expect(server.requests).toHaveLength(4);

    // The two oldest ticks run (the overlap policy is `skip`: one after another, none skipped).
    enqueueRun();
    enqueueRun();
    const started = await svc.backfill('archiver', {
      from: hoursBefore(created, 5.5),
      to: hoursBefore(created, 3.5),
    });
    expect(started.ticks.map((tick) => tick.status)).toEqual(['queued', 'queued']);
    expect(started.counts).toMatchObject({ queued: 2, over_budget: 0 });
    expect(await backfillEnded(logged, 'archiver')).toMatch(/ended: 2 of 2 runs/);
    const ran = await backfillRuns(svc, 'archiver');
    expect(ran.map((run) => [run.run_id, run.status, run.trigger])).toEqual([
      [`archiver.${ticks[0]}`, 'completed', 'backfill'],
      [`archiver.${ticks[1]}`, 'completed', 'backfill'],
    ]);
    expect(ran.map((run) => run.scheduled_at)).toEqual(
      ticks.slice(0, 2).map((tick) => new Date(tick).toISOString()),
    );
    // A backfilled tick is not the schedule's progress.
    const store = await new MemoryRouter('database', { url }).connect();
    expect((await store.agents.get('archiver'))?.stats.last_scheduled_at).toBeNull();
    expect((await store.agents.get('archiver'))?.stats.run_count).toBe(4);

    const again = await svc.backfill('archiver', {
      from: hoursBefore(created, 5.5),
      to: hoursBefore(created, 0.5),
      dry_run: true,
    });
    expect(again.ticks.map((tick) => [tick.status, tick.run_status])).toEqual([
      ['already_ran', 'completed'],
      ['already_ran', 'completed'],
      ['fits', null],
      ['fits', null],
      ['fits', null],
    ]);
    expect(again.counts).toEqual({ already_ran: 2, fits: 3, queued: 0, over_budget: 0 });
    // Now the mean of four runs: 3 × $0.0072 + $0.0056.
    expect(again.estimate).toMatchObject({ runs: 4, per_run: { cost_usd: 0.0068 } });
  });

  it('starts only the ticks a per_day budget in dollars fits, one after another, the rest over_budget', async () => {
    const { svc, logged } = await manager();
    // $0.0072 a run. After the run that prices them, $0.0174 is left: two runs, not three.
    // `allow` would let runs overlap: that they do not is the backfill's doing.
    await svc.create(
      agent('nightly', { overlap_policy: 'allow', budget_config: { per_day: { usd: 0.0246 } } }),
    );
    enqueueRun();
    expect((await svc.runNow('nightly', { wait: true })).status).toBe('completed');
    const created = await createdAt(svc, 'nightly');
    // Replies for every tick: what stops the third is the plan, not a silent model.
    for (let run = 0; run < 5; run += 1) enqueueRun(undefined, undefined, 25);

    const plan: BackfillPlan = await svc.backfill('nightly', {
      from: hoursBefore(created, 5.5),
      to: hoursBefore(created, 0.5),
    });
    expect(plan.ticks.map((tick) => tick.status)).toEqual([
      'queued',
      'queued',
      'over_budget',
      'over_budget',
      'over_budget',
    ]);
    expect(plan.counts).toEqual({ already_ran: 0, fits: 0, queued: 2, over_budget: 3 });
    // One backfill of an agent at a time: a second, while the first goes on, is refused.
    const twice = await rejection(
      svc.backfill('nightly', { from: hoursBefore(created, 5.5), to: hoursBefore(created, 0.5) }),
    );
    expect(twice.code).toBe('invalid_state');
    expect(twice.message).toMatch(/already going on/);
    expect(plan.estimate).toMatchObject({ runs: 1, per_run: { cost_usd: 0.0072 } });
    expect(plan.budgets).toEqual([
      expect.objectContaining({
        scope: 'agent',
        name: 'nightly',
        window: 'per_day',
        budget: 'agent:nightly:per_day:2026-03-10',
        resets_at: '2026-03-11T00:00:00.000Z',
        left: { usd: 0.0174 },
        runs_that_fit: 2,
      }),
    ]);

    expect(await backfillEnded(logged, 'nightly')).toMatch(/ended: 2 of 2 runs/);
    const ran = await backfillRuns(svc, 'nightly');
    expect(ran.map((run) => run.status)).toEqual(['completed', 'completed']);
    expect(ran.map((run) => run.run_id)).toEqual(plan.ticks.slice(0, 2).map((tick) => tick.run_id));
    // One after another: the second started once the first had ended.
    const [first, second] = ran as [RunRecord, RunRecord];
    expect(Date.parse(second.started_at ?? '')).toBeGreaterThanOrEqual(
      Date.parse(first.ended_at ?? ''),
    );
    // The run that priced them and two more: two requests each.
    expect(server.requests).toHaveLength(6);
    expect(await svc.listRuns('nightly', { limit: 100 })).toHaveLength(3);
  });

  it('stops at a run that ends budget_exceeded, and starts no tick after it', async () => {
    const { svc, logged } = await manager();
    await svc.create(agent('cheap', { budget_config: { per_day: { usd: 0.008 } } }));
    // Priced from a cheap run ($0.00012), every tick seems to fit; the real ones cost $0.0072.
    enqueueRun({ input_tokens: 10, output_tokens: 5 }, { input_tokens: 10, output_tokens: 5 });
    expect((await svc.runNow('cheap', { wait: true })).status).toBe('completed');
    const created = await createdAt(svc, 'cheap');
    for (let run = 0; run < 5; run += 1) enqueueRun();

    const plan = await svc.backfill('cheap', {
      from: hoursBefore(created, 5.5),
      to: hoursBefore(created, 0.5),
    });
    expect(plan.counts.queued).toBe(5);
    expect(await backfillEnded(logged, 'cheap')).toMatch(
      /stopped after 2 of 5 runs: run cheap\.\d+ ended budget_exceeded \(budget\.agent\.per_day\.usd\)/,
    );
    const ran = await backfillRuns(svc, 'cheap');
    expect(ran.map((run) => run.status)).toEqual(['completed', 'budget_exceeded']);
    // The cheap run's two requests and the first backfilled run's: the second sent none.
    expect(server.requests).toHaveLength(4);
  });

  it('stops when the agent is paused, once the run in flight has ended', async () => {
    const { svc, logged } = await manager();
    await svc.create(agent('pausable'));
    // Started (a paused agent is one that was): its hourly ticks count from now.
    await svc.startAgent('pausable');
    enqueueRun();
    expect((await svc.runNow('pausable', { wait: true })).status).toBe('completed');
    const created = await createdAt(svc, 'pausable');
    // The first backfilled run's first request pauses the agent before it is answered.
    let paused: Promise<unknown> | undefined;
    server.enqueue(
      async () => {
        paused = svc.pauseAgent('pausable', { reason: 'enough for today' });
        await paused;
        return { tool_calls: [{ name: 'lookup', args: { key: 'rows' } }] };
      },
      { text: 'The value is 42.' },
    );
    for (let run = 0; run < 3; run += 1) enqueueRun();

    const plan = await svc.backfill('pausable', {
      from: hoursBefore(created, 4.5),
      to: hoursBefore(created, 0.5),
    });
    expect(plan.counts.queued).toBe(4);
    expect(await backfillEnded(logged, 'pausable')).toMatch(
      /stopped after 1 of 4 runs: the agent is paused/,
    );
    expect((await backfillRuns(svc, 'pausable')).map((run) => run.status)).toEqual(['completed']);
    expect(server.requests).toHaveLength(4);
  });

  it('stops when the service shuts down: the run in flight ends, no tick starts after it', async () => {
    const { svc, url } = await manager();
    await svc.create(agent('shutting'));
    enqueueRun();
    expect((await svc.runNow('shutting', { wait: true })).status).toBe('completed');
    const created = await createdAt(svc, 'shutting');
    // The first backfilled run's first request shuts the service down; the run finishes.
    let shutdown: Promise<void> | undefined;
    server.enqueue(
      () => {
        shutdown = svc.shutdown({ timeout: 5000 });
        return { tool_calls: [{ name: 'lookup', args: { key: 'rows' } }] };
      },
      { text: 'The value is 42.' },
    );
    for (let run = 0; run < 3; run += 1) enqueueRun();

    const plan = await svc.backfill('shutting', {
      from: hoursBefore(created, 4.5),
      to: hoursBefore(created, 0.5),
    });
    expect(plan.counts.queued).toBe(4);
    await waitFor(() => shutdown !== undefined, { what: 'the shutdown' });
    await shutdown;
    // Shut down, this process claims no run any more: what the store holds now is final.
    const store = await new MemoryRouter('database', { url }).connect();
    const runs = (await store.runs.list('shutting', { limit: 100 })).filter(
      (run) => run.trigger === 'backfill',
    );
    expect(runs.map((run) => [run.run_id, run.status])).toEqual([
      [plan.ticks[0]?.run_id, 'completed'],
    ]);
    expect(server.requests).toHaveLength(4);
  });

  it('plans without history or budgets in the way: the estimate unknown, every tick taken', async () => {
    const { svc } = await manager();
    await svc.create(agent('fresh', { budget_config: { per_day: { usd: 1 } }, tags: ['nightly'] }));
    const created = await createdAt(svc, 'fresh');
    const plan = await svc.backfill('fresh', {
      from: hoursBefore(created, 3),
      to: hoursBefore(created, 1),
      dry_run: true,
    });
    expect(plan.estimate).toEqual({ runs: 0, per_run: null });
    expect(plan.counts).toEqual({ already_ran: 0, fits: 3, queued: 0, over_budget: 0 });
    expect(plan.budgets).toEqual([
      expect.objectContaining({ scope: 'agent', left: { usd: 1 }, runs_that_fit: null }),
    ]);
    expect(plan.notes.join('\n')).toMatch(/the estimate is unknown/);
    expect(plan.notes.join('\n')).toMatch(/held against every budget when it is made/);
  });

  it('refuses bad input naming the field, and changes nothing', async () => {
    const { svc, url } = await manager();
    await svc.create(agent('strict'));
    await svc.create(agent('ticker', { interval: 1 }));
    const created = await createdAt(svc, 'strict');
    const fieldsOf = async (agentId: string, input: unknown) => {
      const error = await rejection(svc.backfill(agentId, input as never));
      expect(error.code).toBe('config_invalid');
      return error.fields.map((field) => `${field.path}: ${field.message}`);
    };

    expect(
      await fieldsOf('strict', { from: hoursBefore(created, 1), to: hoursBefore(created, 2) }),
    ).toEqual([expect.stringMatching(/^from: must be before to/)]);
    expect(
      await fieldsOf('strict', { from: hoursBefore(created, 1), to: hoursBefore(created, -48) }),
    ).toEqual([expect.stringMatching(/^to: must not be in the future/)]);
    // Two hours of one-second ticks.
    expect(
      await fieldsOf('ticker', { from: hoursBefore(created, 3), to: hoursBefore(created, 1) }),
    ).toEqual([expect.stringMatching(/^to: the range holds 7,20\d ticks .* more than the 1,000/)]);
    expect(await fieldsOf('strict', { from: 'yesterday', to: '2026-03-01' })).toEqual([
      expect.stringMatching(/^from: must be an ISO 8601 instant/),
      expect.stringMatching(/^to: must be an ISO 8601 instant/),
    ]);
    const missing = await fieldsOf('strict', { to: hoursBefore(created, 1), dryrun: true });
    expect(missing).toHaveLength(2);
    expect(missing).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^from: required/),
        expect.stringMatching(/^dryrun: unknown field.*dry_run/),
      ]),
    );
    const unknown = await rejection(
      svc.backfill('nobody', { from: hoursBefore(created, 3), to: hoursBefore(created, 1) }),
    );
    expect(unknown.code).toBe('agent_not_found');

    // A paused agent is planned, not run.
    await svc.startAgent('strict');
    await svc.pauseAgent('strict');
    // Started, its ticks count from then: a few milliseconds after its creation.
    const range = { from: hoursBefore(created, 3.5), to: hoursBefore(created, 0.5) };
    const paused = await rejection(svc.backfill('strict', range));
    expect(paused.code).toBe('invalid_state');
    expect(paused.message).toMatch(/is paused/);
    expect((await svc.backfill('strict', { ...range, dry_run: true })).counts.fits).toBe(3);

    // A process that runs no agents plans, and refuses to run.
    const desk = makeService({ url, now: () => new Date(created + HOUR) });
    await desk.resumeAgent('strict');
    expect((await desk.backfill('strict', { ...range, dry_run: true })).ticks).toHaveLength(3);
    const elsewhere = await rejection(desk.backfill('strict', range));
    expect(elsewhere.code).toBe('invalid_state');
    expect(elsewhere.details.reason).toBe('runs_no_agents');

    expect(await svc.listRuns('strict')).toEqual([]);
    expect(await svc.listRuns('ticker')).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });
});
