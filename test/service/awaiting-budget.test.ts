/**
 * `budget_config.on_exhausted: wait`: a run whose day's or month's budget runs out stops in
 * `awaiting_budget`, held by no process, and goes on from its journal after a grant (from any
 * process) or the window's reset; a person can deny it instead. Against a real HTTP server
 * speaking the OpenAI wire format: its log shows which requests were really sent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import type { BackgroundAgentService } from '../../src/index.js';
import {
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

let lookups = 0;
const lookup: ToolDefinition<never> = {
  description: 'Looks a key up.',
  inputSchema: { type: 'object', properties: { key: { type: 'string' } } },
  idempotent: true,
  execute: () => {
    lookups += 1;
    return { value: 42 };
  },
};

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
      max_tokens: 100,
    },
    task_config: { query: 'Look up the key, then answer.', max_retries: 0 },
    tools: ['lookup'],
    // Three requests a day: one run of two, and the first request of the next.
    budget_config: { per_day: { requests: 3 }, on_exhausted: 'wait' },
    ...overrides,
  };
}

/** One run's two replies: a tool call, then the answer. */
function enqueueRun(): void {
  server.enqueue(
    {
      tool_calls: [{ name: 'lookup', args: { key: 'rows' } }],
      usage: { input_tokens: 100, output_tokens: 10 },
    },
    { text: 'The value is 42.', usage: { input_tokens: 200, output_tokens: 5 } },
  );
}

function serviceOn(url: string, options: BackgroundAgentServiceOptions = {}) {
  return makeService({ url, tools: { lookup }, ...options });
}

async function manager(url: string, options: BackgroundAgentServiceOptions = {}) {
  const svc = serviceOn(url, options);
  await svc.startManager();
  return svc;
}

function ofType<Type extends NightshiftEvent['type']>(
  events: NightshiftEvent[],
  type: Type,
  runId?: string,
): Extract<NightshiftEvent, { type: Type }>[] {
  return events.filter(
    (event): event is Extract<NightshiftEvent, { type: Type }> =>
      event.type === type && (runId === undefined || event.run_id === runId),
  );
}

/** Runs the agent's first run to completion, then starts a second one that waits at its second request. */
async function waitingRun(svc: BackgroundAgentService, agentId: string): Promise<RunRecord> {
  enqueueRun();
  expect((await svc.runNow(agentId, { wait: true })).status).toBe('completed');
  enqueueRun();
  const waiting = await svc.runNow(agentId, { wait: true });
  expect(waiting.status).toBe('awaiting_budget');
  return waiting;
}

const grant = (agentId: string) => ({
  scope: { agent_id: agentId },
  window: 'per_day' as const,
  requests: 1,
  by: 'ops',
  note: 'one more for the report',
});

describe('a run waiting for its budget', () => {
  it('stops in awaiting_budget holding nothing, and a grant from another process wakes it from its journal', async () => {
    lookups = 0;
    const url = temporaryDatabase();
    // The periodic sync is far off: only the grant's event can wake the run in time.
    const svc = await manager(url, { syncIntervalMs: 600_000 });
    const events = collectEvents(svc);
    await svc.create(agent('reporter'));
    const waiting = await waitingRun(svc, 'reporter');

    // The refused request was never sent: two of the first run's, one of the second's.
    expect(server.requests).toHaveLength(3);
    expect(waiting).toMatchObject({
      lease_owner: null,
      lease_expires_at: null,
      ended_at: null,
      error: {
        code: 'budget.agent.per_day.requests',
        budget: {
          budget: expect.stringMatching(/^agent:reporter:per_day:/),
          window: 'per_day',
          dimension: 'requests',
          asked: 1,
        },
      },
    });
    expect(waiting.attempts.map((attempt) => attempt.status)).toEqual(['awaiting_budget']);
    const status = await svc.getAgentStatus('reporter');
    expect(status).toMatchObject({ waiting_runs: 1, running_runs: 0, is_running: false });
    // Ended runs only are counted: the waiting one is not a run yet, nor a failure.
    expect(status).toMatchObject({ run_count: 1, error_count: 0 });
    await waitFor(() => ofType(events, 'background_task_waiting', waiting.run_id).length === 1);
    expect(ofType(events, 'background_task_waiting', waiting.run_id)[0]?.payload).toMatchObject({
      status: 'awaiting_budget',
      attempt: 1,
      until: waiting.error?.budget?.resets_at,
    });
    // The agent's status says which budget ran out, once.
    await waitFor(() =>
      ofType(events, 'background_agent_status').some((event) => event.payload.budget),
    );
    expect(
      ofType(events, 'background_agent_status').filter((event) => event.payload.budget),
    ).toHaveLength(1);

    // A process that runs no agents grants one more request.
    const operator = serviceOn(url);
    await operator.grantBudget(grant('reporter'));
    const done = await waitFor(
      async () => {
        const run = await svc.getRun(waiting.run_id);
        return run.status === 'completed' ? run : undefined;
      },
      { what: 'the waiting run to complete after the grant' },
    );
    expect(done.output).toBe('The value is 42.');
    // One more request only: the first reply came from the journal.
    expect(server.requests).toHaveLength(4);
    expect(lookups).toBe(2);
    expect(done.attempts.map((attempt) => [attempt.status, attempt.resumed_from])).toEqual([
      ['awaiting_budget', undefined],
      ['completed', expect.stringMatching(/^1\./)],
    ]);
    expect(done.usage.requests).toBe(2);
    const steps = await svc.getRunSteps(waiting.run_id);
    expect(steps.filter((step) => step.kind === 'resume')).toHaveLength(1);
    expect(ofType(events, 'background_task_resumed', waiting.run_id)).toHaveLength(1);
    expect(await svc.getAgentStatus('reporter')).toMatchObject({
      waiting_runs: 0,
      run_count: 2,
      error_count: 0,
    });
  });

  it('survives a restart, and the new manager wakes it after a grant', async () => {
    const url = temporaryDatabase();
    const first = await manager(url, { syncIntervalMs: 600_000 });
    await first.create(agent('restarted'));
    const waiting = await waitingRun(first, 'restarted');
    await first.shutdown({ timeout: 1000 });

    // Nobody runs it meanwhile: it is waiting, not interrupted.
    const second = await manager(url, { syncIntervalMs: 600_000 });
    expect((await second.getRun(waiting.run_id)).status).toBe('awaiting_budget');
    await serviceOn(url).grantBudget(grant('restarted'));
    await waitFor(async () => (await second.getRun(waiting.run_id)).status === 'completed', {
      what: 'the run to complete in the new manager',
    });
    expect(server.requests).toHaveLength(4);
  });

  it('goes on by itself once its window resets (an injected clock)', async () => {
    let now = new Date('2026-12-02T23:59:00Z');
    const svc = await manager(temporaryDatabase(), { now: () => now, syncIntervalMs: 50 });
    await svc.create(agent('overnight'));
    const waiting = await waitingRun(svc, 'overnight');
    expect(waiting.error?.budget?.resets_at).toBe('2026-12-03T00:00:00.000Z');
    now = new Date('2026-12-03T00:00:05Z');
    const done = await waitFor(
      async () => {
        const run = await svc.getRun(waiting.run_id);
        return run.status === 'completed' ? run : undefined;
      },
      { what: 'the run to complete in the new day' },
    );
    // Woken once, into room: no refused attempt that waited again. (That a sweep leaves a run
    // with no room waiting is the restart case below: it wakes only after its grant.)
    expect(done.attempts.map((attempt) => attempt.status)).toEqual([
      'awaiting_budget',
      'completed',
    ]);
    expect(server.requests).toHaveLength(4);
  });

  it('ends budget_exceeded when a person denies it, once, saying who and why', async () => {
    const svc = await manager(temporaryDatabase(), { syncIntervalMs: 600_000 });
    const events = collectEvents(svc);
    await svc.create(agent('denied'));
    const waiting = await waitingRun(svc, 'denied');
    // Under overlap_policy skip (the default) the waiting run counts as running.
    const meanwhile = await svc.runNow('denied', { wait: true });
    expect(meanwhile).toMatchObject({
      status: 'skipped',
      skip_reason: `overlap: the previous run (${waiting.run_id}) is awaiting_budget`,
    });

    await expect(svc.denyBudget(waiting.run_id, { by: 'ops' })).rejects.toMatchObject({
      code: 'config_invalid',
      fields: [expect.objectContaining({ path: 'note' })],
    });
    expect((await svc.getRun(waiting.run_id)).status).toBe('awaiting_budget');

    const ended = await svc.denyBudget(waiting.run_id, { by: 'ops', note: 'not today' });
    expect(ended).toMatchObject({
      status: 'budget_exceeded',
      error: {
        code: 'budget.agent.per_day.requests',
        message: expect.stringMatching(/denied by ops: not today$/),
      },
    });
    expect(ended.ended_at).not.toBeNull();
    await expect(
      svc.denyBudget(waiting.run_id, { by: 'someone else', note: 'me too' }),
    ).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(svc.denyBudget('no-such-run', { by: 'ops', note: 'x' })).rejects.toMatchObject({
      code: 'run_not_found',
    });
    expect(await svc.getAgentStatus('denied')).toMatchObject({
      waiting_runs: 0,
      run_count: 2,
      error_count: 1,
    });
    await waitFor(() =>
      ofType(events, 'background_task_error', waiting.run_id).some(
        (event) => event.payload.status === 'budget_exceeded',
      ),
    );
    // A grant now wakes nothing: the run has ended.
    await svc.grantBudget(grant('denied'));
    expect((await svc.getRun(waiting.run_id)).status).toBe('budget_exceeded');
    expect(server.requests).toHaveLength(3);
  });

  it('ends cancelled when its agent is stopped while it waits', async () => {
    const svc = await manager(temporaryDatabase(), { syncIntervalMs: 600_000 });
    await svc.create(agent('stopped'));
    const waiting = await waitingRun(svc, 'stopped');
    await svc.stopAgent('stopped');
    expect(await svc.getRun(waiting.run_id)).toMatchObject({
      status: 'cancelled',
      error: { code: 'cancelled' },
    });
  });

  it('fails rather than waits on a run’s own budget, which waiting cannot refill', async () => {
    const svc = await manager(temporaryDatabase());
    await svc.create(
      agent('per-run', { budget_config: { per_run: { requests: 1 }, on_exhausted: 'wait' } }),
    );
    enqueueRun();
    const run = await svc.runNow('per-run', { wait: true });
    expect(run).toMatchObject({
      status: 'budget_exceeded',
      error: { code: 'budget.run.requests' },
    });
    expect(server.requests).toHaveLength(1);
  });

  it('refuses an unknown on_exhausted, naming the field', async () => {
    const svc = serviceOn(temporaryDatabase());
    await expect(
      svc.create(agent('bad', { budget_config: { on_exhausted: 'later' as never } })),
    ).rejects.toMatchObject({
      code: 'config_invalid',
      fields: [{ path: 'budget_config.on_exhausted', message: 'must be fail or wait' }],
    });
  });
});
