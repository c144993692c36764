import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import {
  EventRouter,
  MemoryRouter,
  type NightshiftEvent,
  type RunRecord,
  type RunStep,
  type Store,
} from '../../src/storage/index.js';
import type { ToolDefinition } from '../../src/tools/index.js';
import { sanitizeConversation } from '../../src/agent/index.js';
import { toGenerateResult, type MockReply } from '../agent/mock-model.js';
import { waitFor } from '../helpers/wait-for.js';
import { FrozenStore, type FreezePoint } from './frozen-store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Durable runs (promise 9), with a process "killed" at a chosen write: its store freezes there
 * (see FrozenStore), another manager on the same SQLite file recovers the run when the lease
 * expires, and the journal must carry it on without sending a recorded model call again or
 * running a non-idempotent tool twice.
 */

const LEASE_MS = 300;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}
function temporaryDatabase(): string {
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-durable-'));
  onCleanup(() => rmSync(directory, { recursive: true, force: true }));
  return `sqlite:${join(directory, 'nightshift.db')}`;
}

/**
 * The model of every process (one object, so it sees every request): it answers by how far the
 * conversation got — first `lookup` (idempotent), then `archive` (not), then the answer — with
 * tool call ids fixed by that phase, as a real model's reply would be fixed once recorded.
 */
function phasedModel() {
  const requests: number[] = [];
  /** Phases whose request fails (a 400: not retried by the SDK). */
  const failing = new Set<number>();
  const model = new MockLanguageModelV3({
    doGenerate: async (options: LanguageModelV3CallOptions) => {
      const phase = options.prompt.filter((message) => message.role === 'tool').length;
      requests.push(phase);
      if (failing.has(phase)) throw new Error(`the model failed at phase ${phase}`);
      const reply: MockReply =
        phase === 0
          ? { tools: [{ name: 'lookup', args: { key: 'rows' } }] }
          : phase === 1
            ? { tools: [{ name: 'archive', args: { table: 'events' } }] }
            : { text: 'archived 42 rows' };
      const result = toGenerateResult(reply, phase);
      return result;
    },
  });
  return { model, requests, failing };
}

/** The counting tools: how many times each really ran, and a hook into each run. */
function countingTools() {
  const ran = { lookup: 0, archive: 0 };
  const hooks: { onLookup?: () => void; onArchive?: () => void } = {};
  const tools: Record<string, ToolDefinition<never>> = {
    lookup: {
      description: 'Counts rows (reads only).',
      inputSchema: { type: 'object', properties: { key: { type: 'string' } } },
      idempotent: true,
      execute: () => {
        ran.lookup += 1;
        hooks.onLookup?.();
        return { rows: 42 };
      },
    },
    archive: {
      description: 'Moves rows (not idempotent).',
      inputSchema: { type: 'object', properties: { table: { type: 'string' } } },
      idempotent: false,
      execute: () => {
        ran.archive += 1;
        hooks.onArchive?.();
        return { archived: 42 };
      },
    },
  };
  return { ran, hooks, tools };
}

const AGENT: AgentDefinitionInput = {
  agent_id: 'archiver',
  interval: 3600,
  model_config: { provider: 'test', model: 'phased' },
  tools: ['lookup', 'archive'],
  task_config: { query: 'Archive old events.', max_resumes: 3 },
};

interface Fleet {
  url: string;
  model: ReturnType<typeof phasedModel>;
  tools: ReturnType<typeof countingTools>;
  /** The store as the test reads it (never frozen). */
  store: Store;
  /** A manager process on the store; `frozen` (when given) is the store it writes through. */
  manager(
    name: string,
    frozen?: FrozenStore,
  ): Promise<{ service: BackgroundAgentService; events: NightshiftEvent[] }>;
  /** A frozen-capable store of a new process. */
  frozenStore(): Promise<FrozenStore>;
}

async function fleet(definition: AgentDefinitionInput = AGENT): Promise<Fleet> {
  const url = temporaryDatabase();
  const model = phasedModel();
  const tools = countingTools();
  const reader = new MemoryRouter('database', { url });
  onCleanup(() => reader.close());
  const store = await reader.connect();
  const options = {
    leaseTtlMs: LEASE_MS,
    syncIntervalMs: 100,
    providers: { test: () => model.model },
    tools: tools.tools,
  };
  const setup = new BackgroundAgentService(
    new MemoryRouter('database', { url }),
    new EventRouter('in_memory'),
    options,
  );
  await setup.create(definition);
  await setup.shutdown({ timeout: 1000 });
  const routers: MemoryRouter[] = [];
  onCleanup(async () => {
    for (const router of routers) await router.close().catch(() => undefined);
  });
  return {
    url,
    model,
    tools,
    store,
    async frozenStore() {
      const router = new MemoryRouter('database', { url });
      routers.push(router);
      return new FrozenStore(await router.connect());
    },
    async manager(name, frozen) {
      const memory = new MemoryRouter('database', { url });
      if (frozen) memory.connect = () => Promise.resolve(frozen.store);
      const service = new BackgroundAgentService(memory, new EventRouter('in_memory'), {
        ...options,
        instanceId: name,
      });
      onCleanup(async () => {
        frozen?.bury();
        await service.shutdown({ timeout: 500 }).catch(() => undefined);
      });
      const events: NightshiftEvent[] = [];
      const controller = new AbortController();
      onCleanup(() => controller.abort());
      await service.startManager();
      void (async () => {
        for await (const event of service.streamAgentEvents(undefined, {
          since: '0',
          signal: controller.signal,
        }))
          events.push(event);
      })().catch(() => undefined);
      return { service, events };
    },
  };
}

async function ended(store: Store, runId: string): Promise<RunRecord> {
  return waitFor(
    async () => {
      const run = await store.runs.get(runId);
      return run && run.status !== 'running' && run.status !== 'pending' ? run : undefined;
    },
    { timeoutMs: 15_000, what: `run ${runId} ended` },
  );
}

const isWrite =
  (kind: RunStep['kind'], field?: keyof RunStep): FreezePoint =>
  (method, args) => {
    if (method === 'appendStep') return !field && (args[0] as RunStep).kind === kind;
    if (method === 'updateStep') return !!field && field in (args[2] as object);
    return false;
  };

/** The stored conversation is valid to send again: nothing sanitising would drop, the run's turn once. */
async function expectValidConversation(store: Store): Promise<void> {
  const messages = await store.messages.list('archiver');
  expect(sanitizeConversation(messages as never)).toHaveLength(messages.length);
  expect(messages.filter((message) => message.role === 'user')).toHaveLength(1);
  expect(messages.map((message) => message.role)).toEqual([
    'user',
    'assistant',
    'tool',
    'assistant',
    'tool',
    'assistant',
  ]);
}

describe('durable runs: a run whose process died goes on from its journal', () => {
  it('records each reply with its usage before any tool of it runs, and each tool result', async () => {
    const f = await fleet();
    let seenAtLookup: RunStep[] = [];
    const { service } = await f.manager('only');
    const run = await service.runNow('archiver');
    f.tools.hooks.onLookup = () =>
      void f.store.runs.listSteps(run.run_id).then((steps) => (seenAtLookup = steps));
    const done = await ended(f.store, run.run_id);
    expect(done.status).toBe('completed');
    await waitFor(() => seenAtLookup.length > 0);
    // When the first tool ran, the reply that asked for it was on the record, with its usage.
    expect(seenAtLookup[0]).toMatchObject({
      kind: 'model_call',
      state: 'completed',
      usage: { requests: 1, total_tokens: 10 },
      reply: {
        tool_calls: [{ tool_name: 'lookup', args: { key: 'rows' } }],
        finish_reason: 'tool-calls',
      },
    });
    const steps = await f.store.runs.listSteps(run.run_id);
    expect(steps.find((step) => step.tool_name === 'archive')).toMatchObject({
      state: 'completed',
      outcome: 'success',
      idempotent: false,
      args: { table: 'events' },
      result: { archived: 42 },
    });
    expect(steps.at(-1)).toMatchObject({
      kind: 'model_call',
      reply: { text: 'archived 42 rows', tool_calls: [] },
    });
  });

  it('killed after a reply was recorded, before its tool started: the reply is not asked for again', async () => {
    const f = await fleet();
    const frozen = await f.frozenStore();
    const { service } = await f.manager('doomed', frozen);
    frozen.arm(isWrite('tool_call'));
    const run = await service.runNow('archiver');
    await waitFor(() => frozen.frozen);
    expect(f.tools.ran.lookup).toBe(0);
    const { events } = await f.manager('heir');
    const done = await ended(f.store, run.run_id);
    expect(done).toMatchObject({ status: 'completed', output: 'archived 42 rows' });
    expect(f.model.requests).toEqual([0, 1, 2]);
    expect(f.tools.ran).toEqual({ lookup: 1, archive: 1 });
    expect(done.usage).toMatchObject({ requests: 3, total_tokens: 30 });
    expect(done.attempts).toMatchObject([
      { attempt: 1, status: 'interrupted', usage: { requests: 1, total_tokens: 10 } },
      { attempt: 2, status: 'completed', resumed_from: '1.0', usage: { requests: 2 } },
    ]);
    await waitFor(() => events.some((event) => event.type === 'background_task_completed'));
    expect(events.find((event) => event.type === 'background_task_resumed')?.payload).toEqual({
      attempt: 2,
      from_step: '1.0',
      skipped_model_calls: 1,
      unknown_outcome_calls: 0,
    });
    await expectValidConversation(f.store);
  });

  it('killed mid non-idempotent tool: the tool is not run again and the model is told the outcome is unknown', async () => {
    const f = await fleet();
    const frozen = await f.frozenStore();
    const { service } = await f.manager('doomed', frozen);
    f.tools.hooks.onArchive = () => frozen.freezeNow();
    const run = await service.runNow('archiver');
    await waitFor(() => frozen.frozen);
    f.tools.hooks.onArchive = undefined;
    const { events } = await f.manager('heir');
    const done = await ended(f.store, run.run_id);
    expect(done.status).toBe('completed');
    expect(f.tools.ran).toEqual({ lookup: 1, archive: 1 });
    // The answer to the archive call was never recorded, so the last request is sent (once).
    expect(f.model.requests).toEqual([0, 1, 2]);
    const steps = await f.store.runs.listSteps(run.run_id);
    expect(steps.filter((step) => step.tool_name === 'archive')).toMatchObject([
      { attempt: 1, state: 'started' },
      {
        attempt: 2,
        state: 'completed',
        outcome: 'unknown_outcome',
        result: { error: 'unknown_outcome' },
      },
    ]);
    await waitFor(() => events.some((event) => event.type === 'background_task_completed'));
    expect(events.find((event) => event.type === 'tool_call_error')?.payload).toMatchObject({
      tool_name: 'archive',
      unknown_outcome: true,
    });
    expect(events.find((event) => event.type === 'background_task_resumed')?.payload).toMatchObject(
      {
        skipped_model_calls: 2,
        unknown_outcome_calls: 1,
      },
    );
    const messages = await f.store.messages.list('archiver');
    expect(JSON.stringify(messages[4])).toContain('unknown_outcome');
  });

  it('killed mid idempotent tool: the tool runs again under the same tool_call_id', async () => {
    const f = await fleet();
    const frozen = await f.frozenStore();
    const { service } = await f.manager('doomed', frozen);
    f.tools.hooks.onLookup = () => frozen.freezeNow();
    const run = await service.runNow('archiver');
    await waitFor(() => frozen.frozen);
    f.tools.hooks.onLookup = undefined;
    await f.manager('heir');
    const done = await ended(f.store, run.run_id);
    expect(done.status).toBe('completed');
    expect(f.tools.ran).toEqual({ lookup: 2, archive: 1 });
    expect(f.model.requests).toEqual([0, 1, 2]);
    const lookups = (await f.store.runs.listSteps(run.run_id)).filter(
      (step) => step.tool_name === 'lookup',
    );
    expect(lookups.map((step) => [step.attempt, step.state])).toEqual([
      [1, 'started'],
      [2, 'completed'],
    ]);
    expect(new Set(lookups.map((step) => step.tool_call_id)).size).toBe(1);
    await expectValidConversation(f.store);
  });

  it('killed before a reply was recorded: that request is sent again, and counted both times', async () => {
    const f = await fleet();
    const frozen = await f.frozenStore();
    const { service } = await f.manager('doomed', frozen);
    frozen.arm(isWrite('model_call', 'reply'));
    const run = await service.runNow('archiver');
    await waitFor(() => frozen.frozen);
    await f.manager('heir');
    const done = await ended(f.store, run.run_id);
    expect(done.status).toBe('completed');
    expect(f.model.requests).toEqual([0, 0, 1, 2]);
    // The lost reply's request was made (and may have been billed): it counts, its tokens unknown.
    expect(done.usage).toMatchObject({ requests: 4, total_tokens: 30 });
  });

  it('a resumed run that fails is not retried from the start when a non-idempotent tool ran before the crash', async () => {
    const f = await fleet({
      ...AGENT,
      task_config: { ...AGENT.task_config, max_retries: 2, retry_delay: 0 },
    });
    const frozen = await f.frozenStore();
    const { service } = await f.manager('doomed', frozen);
    let modelCalls = 0;
    // Dies as the third model call is recorded: archive has run and its result is on the record.
    frozen.arm(
      (method, args) =>
        method === 'appendStep' && (args[0] as RunStep).kind === 'model_call' && ++modelCalls === 3,
    );
    const run = await service.runNow('archiver');
    await waitFor(() => frozen.frozen);
    f.model.failing.add(2);
    await f.manager('heir');
    const done = await ended(f.store, run.run_id);
    expect(done).toMatchObject({
      status: 'failed',
      error: { code: 'model_error', retry_blocked: 'side_effects' },
    });
    expect(done.attempts).toHaveLength(2);
    expect(f.tools.ran.archive).toBe(1);
  });

  it('on_interrupt: restart does not start again a run whose non-idempotent tool had started', async () => {
    const f = await fleet({
      ...AGENT,
      task_config: { ...AGENT.task_config, on_interrupt: 'restart', max_retries: 2 },
    });
    const frozen = await f.frozenStore();
    const { service } = await f.manager('doomed', frozen);
    f.tools.hooks.onArchive = () => frozen.freezeNow();
    const run = await service.runNow('archiver');
    await waitFor(() => frozen.frozen);
    await f.manager('heir');
    const done = await ended(f.store, run.run_id);
    expect(done).toMatchObject({
      status: 'interrupted',
      error: { code: 'interrupted', retry_blocked: 'side_effects' },
    });
    expect(f.tools.ran.archive).toBe(1);
  });

  it('a resumed run keeps its limits: steps and requests before the crash count', async () => {
    for (const [limits, code] of [
      [{ max_steps: 2 }, 'max_steps'],
      [{ request_limit: 2 }, 'request_limit'],
    ] as const) {
      const f = await fleet({ ...AGENT, agent_config: limits });
      const frozen = await f.frozenStore();
      const { service } = await f.manager('doomed', frozen);
      let toolCalls = 0;
      // Dies as archive (the second tool call, after the second model call) is recorded.
      frozen.arm(
        (method, args) =>
          method === 'appendStep' && (args[0] as RunStep).kind === 'tool_call' && ++toolCalls === 2,
      );
      const run = await service.runNow('archiver');
      await waitFor(() => frozen.frozen);
      await f.manager('heir');
      const done = await ended(f.store, run.run_id);
      expect(done, code).toMatchObject({ status: 'budget_exceeded', error: { code } });
      // No third request: the two before the crash used the limit up.
      expect(f.model.requests, code).toEqual([0, 1]);
      expect(done.usage.requests, code).toBe(2);
    }
  });

  it('on_interrupt: fail ends the run interrupted; over max_resumes it ends resume_limit', async () => {
    for (const [task, code, attempts] of [
      [{ on_interrupt: 'fail' }, 'interrupted', 1],
      [{ max_resumes: 1 }, 'resume_limit', 2],
    ] as const) {
      const f = await fleet({ ...AGENT, task_config: { ...AGENT.task_config, ...task } });
      let runId = '';
      for (let kill = 0; kill < attempts; kill += 1) {
        const frozen = await f.frozenStore();
        const { service } = await f.manager(`doomed-${kill}`, frozen);
        frozen.arm(isWrite('tool_call'));
        if (kill === 0) runId = (await service.runNow('archiver')).run_id;
        await waitFor(() => frozen.frozen, { timeoutMs: 10_000 });
      }
      await f.manager('heir');
      const done = await ended(f.store, runId);
      expect(done).toMatchObject({ status: 'interrupted', error: { code } });
      expect(done.attempts).toHaveLength(attempts);
      expect(f.tools.ran.archive).toBe(0);
    }
  });

  it('killed at random writes many times in a row: never a recorded request sent again, never a side effect twice', async () => {
    // A fixed seed, so a failure repeats; NIGHTSHIFT_TEST_SEED tries others.
    let seed = Number(process.env.NIGHTSHIFT_TEST_SEED ?? 20261202);
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let scenario = 0; scenario < 12; scenario += 1) {
      const f = await fleet();
      const kills = 1 + Math.floor(random() * 3);
      const trail: string[] = [];
      for (let kill = 0; kill < kills; kill += 1) {
        const frozen = await f.frozenStore();
        const { service } = await f.manager(`doomed-${kill}`, frozen);
        // The first process dies after its claim (writes 1 and 2: the agent's overlap lease, the
        // run): one dead before would leave the lease held and nothing to resume.
        const at = (kill === 0 ? 3 : 1) + Math.floor(random() * 12);
        frozen.arm((_method, _args, write) => write >= at);
        if (kill === 0) void service.runNow('archiver').catch(() => undefined);
        await waitFor(
          async () =>
            frozen.frozen || (await f.store.runs.list('archiver'))[0]?.status === 'completed',
          { timeoutMs: 10_000, what: `kill ${kill} at write ${at} after ${trail.join(', ')}` },
        );
        trail.push(`${at}:${frozen.frozenAt?.method ?? 'none'}`);
      }
      await f.manager('heir');
      const runId = (await f.store.runs.list('archiver'))[0]!.run_id;
      const done = await ended(f.store, runId).catch(async (error: unknown) => {
        const run = await f.store.runs.get(runId);
        const steps = await f.store.runs.listSteps(runId);
        throw new Error(
          `${String(error)} after kills at ${trail.join(', ')}: ${JSON.stringify({ run, steps }, null, 1)}`,
        );
      });
      expect(await f.store.runs.list('archiver')).toHaveLength(1);
      const context = `seed ${process.env.NIGHTSHIFT_TEST_SEED ?? 'default'}, scenario ${scenario}, kills at ${trail.join(', ')}`;
      expect(done.status, context).toBe('completed');
      expect(done.output, context).toBe('archived 42 rows');
      expect(f.tools.ran.archive, context).toBeLessThanOrEqual(1);
      const steps = await f.store.runs.listSteps(runId);
      const replies = steps.filter((step) => step.kind === 'model_call' && step.reply);
      // Every request the model saw is on the record (write-ahead), and none was answered twice.
      expect(
        steps.filter((step) => step.kind === 'model_call'),
        context,
      ).toHaveLength(f.model.requests.length);
      expect(new Set(replies.map((step) => JSON.stringify(step.reply))).size, context).toBe(
        replies.length,
      );
      expect(done.usage.requests, context).toBe(f.model.requests.length);
      await expectValidConversation(f.store);
    }
  });
});
