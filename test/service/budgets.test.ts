/**
 * Costs and budgets through the service, against a real HTTP server speaking the OpenAI wire
 * format with known token counts: what each call costs, and that a request whose worst case does
 * not fit a budget is never sent (the server's log says so).
 */
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import { budgetLinesOf } from '../../src/service/budgets/budget-lines.js';
import {
  BackgroundAgentService,
  emptyUsage,
  EventRouter,
  MemoryRouter,
  parseAgentDefinition,
  type BackgroundAgentServiceOptions,
  type NightshiftEvent,
  type RunRecord,
  type ToolDefinition,
} from '../../src/index.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../helpers/fake-openai-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { collectEvents, makeService, temporaryDatabase } from './service-fixtures.js';

let server: FakeOpenAIServer;
beforeEach(async () => {
  server = await startFakeOpenAIServer();
});
afterEach(async () => {
  await server.close();
});

const lookup: ToolDefinition<never> = {
  description: 'Looks a key up.',
  inputSchema: { type: 'object', properties: { key: { type: 'string' } } },
  idempotent: true,
  execute: () => ({ value: 42 }),
};

/** $2 per million input tokens, $0.50 cached, $8 output. */
const PRICING = { input_per_million: 2, cached_input_per_million: 0.5, output_per_million: 8 };

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

/** One run's two replies: a tool call, then the answer. */
function enqueueRun(
  first = { input_tokens: 1000, output_tokens: 100 },
  second = { input_tokens: 2000, output_tokens: 50 },
): void {
  server.enqueue(
    { tool_calls: [{ name: 'lookup', args: { key: 'rows' } }], usage: first },
    { text: 'The value is 42.', usage: second },
  );
}

async function service(options: BackgroundAgentServiceOptions = {}) {
  const svc = makeService({ url: temporaryDatabase(), tools: { lookup }, ...options });
  await svc.startManager();
  return svc;
}

async function runOnce(svc: BackgroundAgentService, agentId: string): Promise<RunRecord> {
  return await svc.runNow(agentId, { wait: true });
}

function exhausted(events: NightshiftEvent[]) {
  return events.filter((event) => event.type === 'budget_exhausted');
}

describe('costs', () => {
  it('prices each model call, cached input at its own price, and the run as their sum', async () => {
    const svc = await service();
    await svc.create(agent('priced'));
    enqueueRun({ input_tokens: 1000, output_tokens: 100, cached_input_tokens: 400 } as never);
    const run = await runOnce(svc, 'priced');
    expect(run.status).toBe('completed');
    // (600 × $2 + 400 × $0.50 + 100 × $8) / 1M = $0.0022; (2000 × $2 + 50 × $8) / 1M = $0.0044.
    const calls = (await svc.getRunSteps(run.run_id)).filter((step) => step.kind === 'model_call');
    expect(calls.map((step) => step.usage?.cost_usd)).toEqual([0.0022, 0.0044]);
    expect(calls[0]?.usage?.cached_input_tokens).toBe(400);
    expect(run.usage).toMatchObject({ requests: 2, total_tokens: 3150, cost_usd: 0.0066 });
  });

  it('records no cost for a free model (a local server without a price)', async () => {
    const svc = await service();
    await svc.create(
      agent('free', {
        model_config: {
          provider: 'openai_compatible',
          model: 'gpt-test',
          base_url: server.baseURL,
        },
      }),
    );
    enqueueRun();
    const run = await runOnce(svc, 'free');
    expect(run.status).toBe('completed');
    expect(run.usage.cost_usd).toBeUndefined();
  });
});

describe('budgets held before each call', () => {
  it('does not send a request whose worst case would cross the run’s budget in dollars', async () => {
    const svc = await service();
    const events = collectEvents(svc);
    // 100 output tokens at $8 per million is $0.0008 at worst, before the prompt: over $0.0005.
    await svc.create(agent('thrifty', { budget_config: { per_run: { usd: 0.0005 } } }));
    const run = await runOnce(svc, 'thrifty');
    expect(run.status).toBe('budget_exceeded');
    expect(run.error?.code).toBe('budget.run.usd');
    expect(run.error?.message).toMatch(/budget_config\.per_run/);
    expect(server.requests).toHaveLength(0);
    expect(run.usage).toMatchObject({ requests: 0, total_tokens: 0 });
    await waitFor(() => exhausted(events).length === 1);
    expect(exhausted(events)[0]?.payload).toMatchObject({
      code: 'budget.run.usd',
      budget: `run:${run.run_id}`,
      limit: 0.0005,
      spent: 0,
      resets_at: null,
    });
  });

  it('stops a run at the request that would cross the agent’s day, skips its ticks, and says which budget and when it resets', async () => {
    const svc = await service();
    const events = collectEvents(svc);
    await svc.create(agent('daily', { budget_config: { per_day: { requests: 3 } } }));
    enqueueRun();
    expect((await runOnce(svc, 'daily')).status).toBe('completed');
    enqueueRun();
    const second = await runOnce(svc, 'daily');
    expect(second.status).toBe('budget_exceeded');
    expect(second.error?.code).toBe('budget.agent.per_day.requests');
    // Its first request fit (the third of the day); the one after the tool call was never sent.
    expect(server.requests).toHaveLength(3);
    expect(second.usage.requests).toBe(1);

    // Scheduled ticks while the day is spent are skipped, with nothing spent.
    await svc.updateAgent('daily', { interval: 0.2 });
    await svc.startAgent('daily');
    const skipped = await waitFor(async () => {
      const runs = await svc.listRuns('daily', { status: 'skipped' });
      return runs.find((run) => run.skip_reason?.startsWith('budget:'));
    });
    expect(skipped.skip_reason).toMatch(/the agent's per_day budget .* is spent until /);
    expect(server.requests).toHaveLength(3);
    const onSkip = await waitFor(() =>
      exhausted(events).find((event) => event.run_id === skipped.run_id),
    );
    expect(onSkip.payload).toMatchObject({
      code: 'budget.agent.per_day.requests',
      limit: 3,
      spent: 3,
      asked: 0,
    });
    const nextMidnight = new Date();
    nextMidnight.setUTCHours(24, 0, 0, 0);
    expect(onSkip.payload.resets_at).toBe(nextMidnight.toISOString());
  });

  it('starts each day afresh at midnight in the agent’s zone (an injected clock)', async () => {
    // 23:59 in Tokyo.
    let now = new Date('2026-12-02T14:59:00Z');
    const svc = await service({ now: () => now });
    const events = collectEvents(svc);
    await svc.create(
      agent('tokyo', { timezone: 'Asia/Tokyo', budget_config: { per_day: { requests: 2 } } }),
    );
    enqueueRun();
    expect((await runOnce(svc, 'tokyo')).status).toBe('completed');
    const refused = await runOnce(svc, 'tokyo');
    expect(refused.error?.code).toBe('budget.agent.per_day.requests');
    await waitFor(() => exhausted(events).length === 1);
    expect(exhausted(events)[0]?.payload).toMatchObject({
      budget: 'agent:tokyo:per_day:2026-12-02',
      resets_at: '2026-12-02T15:00:00.000Z',
    });
    // Past midnight in Tokyo, still 2 December in UTC.
    now = new Date('2026-12-02T15:00:30Z');
    enqueueRun();
    expect((await runOnce(svc, 'tokyo')).status).toBe('completed');
    expect(server.requests).toHaveLength(4);
  });

  it('caps the fleet and a tag across agents', async () => {
    const svc = await service({
      budgets: {
        fleet: { per_day: { requests: 5 } },
        tags: { nightly: { per_day: { tool_calls: 1 } } },
      },
    });
    await svc.create(agent('first', { tags: ['nightly'] }));
    await svc.create(agent('second', { tags: ['nightly'] }));
    await svc.create(agent('untagged'));
    enqueueRun();
    expect((await runOnce(svc, 'first')).status).toBe('completed');
    // The tag's one tool call is spent: the second agent's is refused before it runs.
    server.enqueue({ tool_calls: [{ name: 'lookup', args: { key: 'rows' } }] });
    const second = await runOnce(svc, 'second');
    expect(second.error?.code).toBe('budget.tag.per_day.tool_calls');
    expect(
      (await svc.getRunSteps(second.run_id)).filter((step) => step.kind === 'tool_call'),
    ).toEqual([]);
    // Three requests so far; the untagged agent's run takes the fleet's last two.
    enqueueRun();
    expect((await runOnce(svc, 'untagged')).status).toBe('completed');
    enqueueRun();
    const over = await runOnce(svc, 'untagged');
    expect(over.error?.code).toBe('budget.fleet.per_day.requests');
    expect(server.requests).toHaveLength(5);
  });

  it('releases what a dead run held when recovery takes it over', async () => {
    const url = temporaryDatabase();
    const memory = new MemoryRouter('database', { url });
    const svc = new BackgroundAgentService(memory, new EventRouter('database', { url }), {
      tools: { lookup },
      leaseTtlMs: 200,
    });
    onTestFinished(() => svc.shutdown({ timeout: 1000 }));
    const definition = agent('orphan', { budget_config: { per_day: { requests: 10 } } });
    await svc.create(definition);
    const store = await memory.connect();
    const past = new Date(Date.now() - 60_000).toISOString();
    const runId = `orphan.${Date.parse(past)}`;
    await store.runs.claim({
      run_id: runId,
      agent_id: 'orphan',
      trigger: 'manual',
      scheduled_at: past,
      created_at: past,
      started_at: past,
      ended_at: null,
      status: 'running',
      query: 'Look up the key, then answer.',
      attempts: [],
      output: null,
      output_json: null,
      error: null,
      usage: emptyUsage(),
      skip_reason: null,
      lease_owner: 'a-process-that-died',
      lease_expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    // It had sent a request (a started step) and held for it when it died.
    await store.runs.appendStep({
      run_id: runId,
      step_id: '1.0',
      attempt: 1,
      index: 0,
      kind: 'model_call',
      state: 'started',
      started_at: past,
      ended_at: null,
    });
    const parsed = parseAgentDefinition(definition, { providers: [], tools: ['lookup'] });
    const lines = budgetLinesOf(parsed, runId, {}, new Date());
    const held = await store.budgets.hold(
      `${runId}/1.0`,
      runId,
      lines,
      { requests: 1, tokens: 5000 },
      new Date(),
    );
    expect(held.held).toBe(true);
    enqueueRun();
    await svc.startManager();
    const done = await waitFor(async () => {
      const run = await svc.getRun(runId);
      return run.status === 'completed' ? run : undefined;
    });
    expect(done.attempts.map((attempt) => attempt.status)).toEqual(['interrupted', 'completed']);
    expect(await store.budgets.holdsOf(runId)).toEqual([]);
    const [counter] = await store.budgets.counters([lines[0]!.key]);
    // The dead request counts; its tokens were never known. Then the resumed run's two.
    expect(counter?.held).toMatchObject({ requests: 0, tokens: 0 });
    expect(counter?.spent).toMatchObject({ requests: 3, tokens: 3150 });
  });
});
