import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import type { BackgroundAgentService } from '../../src/service/index.js';
import { MemoryRouter, type NightshiftEvent, type RunRecord } from '../../src/storage/index.js';
import type { ToolDefinition } from '../../src/tools/index.js';
import { toGenerateResult, type MockReply } from '../agent/mock-model.js';
import { waitFor } from '../helpers/wait-for.js';
import { collectEvents, makeService, temporaryDatabase } from './service-fixtures.js';

/**
 * Replay of a run from its journal (`replayRun`): with recorded replies and tools it reproduces
 * the run without a request or a side effect; a changed definition shows where the replay
 * would send something else; a live model with recorded tools runs no tool.
 */

/** Every system text the model was sent, per request. */
function systemOf(options: LanguageModelV3CallOptions): string {
  return options.prompt
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .join('\n');
}

/**
 * A model answering by how far the conversation got: `lookup`, then `archive`, then an answer
 * that quotes the first word of its system instruction (so a changed instruction changes it).
 * `extraTool`: after the archive it calls `lookup` once more (a changed behaviour).
 */
function phasedModel() {
  const requests: LanguageModelV3CallOptions[] = [];
  const behaviour = { extraTool: false };
  const model = new MockLanguageModelV3({
    doGenerate: async (options: LanguageModelV3CallOptions) => {
      requests.push(options);
      // This run's turn: what follows the last user message (the history comes before it).
      const lastUser = options.prompt.map((message) => message.role).lastIndexOf('user');
      const phase = options.prompt
        .slice(lastUser)
        .filter((message) => message.role === 'tool').length;
      const word = systemOf(options).split(/\s+/)[0] ?? '';
      const reply: MockReply =
        phase === 0
          ? { tools: [{ name: 'lookup', args: { key: 'rows' } }] }
          : phase === 1
            ? { tools: [{ name: 'archive', args: { table: 'events' } }] }
            : phase === 2 && behaviour.extraTool
              ? { tools: [{ name: 'lookup', args: { key: 'left' } }] }
              : { text: `${word}: archived 42 rows` };
      return toGenerateResult(reply, requests.length);
    },
  });
  return { model, requests, behaviour };
}

function countingTools() {
  const ran = { lookup: 0, archive: 0 };
  const tools: Record<string, ToolDefinition<never>> = {
    lookup: {
      description: 'Counts rows (reads only).',
      inputSchema: { type: 'object', properties: { key: { type: 'string' } } },
      idempotent: true,
      execute: () => {
        ran.lookup += 1;
        return { rows: 42 };
      },
    },
    archive: {
      description: 'Moves rows (not idempotent).',
      inputSchema: { type: 'object', properties: { table: { type: 'string' } } },
      idempotent: false,
      execute: () => {
        ran.archive += 1;
        return { archived: 42 };
      },
    },
  };
  return { ran, tools };
}

const AGENT: AgentDefinitionInput = {
  agent_id: 'archiver',
  system_instruction: 'Archivist. Archive old events carefully.',
  interval: 3600,
  model_config: { provider: 'test', model: 'phased' },
  tools: ['lookup', 'archive'],
  task_config: { query: 'Archive old events.' },
};

async function setup(options: { url?: string; definition?: AgentDefinitionInput } = {}) {
  const model = phasedModel();
  const tools = countingTools();
  const service = makeService({
    ...(options.url ? { url: options.url } : {}),
    providers: { test: () => model.model },
    tools: tools.tools,
  });
  await service.startManager();
  await service.create(options.definition ?? AGENT);
  const original = await service.runNow('archiver', { wait: true });
  expect(original.status).toBe('completed');
  return { service, model, tools, original };
}

async function replayed(
  service: BackgroundAgentService,
  runId: string,
  options: { model?: 'recorded' | 'live'; tools?: 'recorded' | 'live' } = {},
): Promise<RunRecord> {
  return service.replayRun(runId, { ...options, wait: true });
}

describe.each([
  ['memory', (): string | undefined => undefined],
  ['sqlite', (): string | undefined => temporaryDatabase()],
] as const)('replayRun (%s)', (_backend, url) => {
  it('reproduces a run exactly from recorded replies and results: no request, no tool run', async () => {
    const { service, model, tools, original } = await setup({ url: url() });
    const requestsBefore = model.requests.length;
    const before = await service.getAgentStatus('archiver');

    const replay = await replayed(service, original.run_id);

    expect(replay).toMatchObject({
      trigger: 'replay',
      replay_of: original.run_id,
      replay_mode: { model: 'recorded', tools: 'recorded' },
      status: 'completed',
      output: original.output,
      query: original.query,
    });
    expect(replay.run_id).not.toBe(original.run_id);
    expect(model.requests.length).toBe(requestsBefore);
    expect(tools.ran).toEqual({ lookup: 1, archive: 1 });
    expect(replay.usage.requests).toBe(0);
    // Read back from the store, it is still a replay of the original.
    expect(await service.getRun(replay.run_id)).toMatchObject({ replay_of: original.run_id });

    const diff = await service.replayDiff(replay.run_id);
    expect(diff.first_divergence).toBeNull();
    expect(diff.steps.map((row) => [row.kind, row.same])).toEqual([
      ['model_call', true],
      ['tool_call', true],
      ['model_call', true],
      ['tool_call', true],
      ['model_call', true],
    ]);
    expect(diff.answer).toEqual({ original: original.output, replay: original.output, same: true });

    // Not one of the agent's runs: its counts are as they were.
    const after = await service.getAgentStatus('archiver');
    expect(after.run_count).toBe(before.run_count);
    expect(after.error_count).toBe(before.error_count);
  });
});

describe('replayRun', () => {
  it('a changed system instruction diverges at step 1, on the record and as a warning', async () => {
    const { service, original } = await setup();
    await service.updateAgent('archiver', {
      system_instruction: 'Librarian. Archive old events.',
    });
    const events = collectEvents(service);

    const replay = await replayed(service, original.run_id);

    // The recorded replies still answer: the run is the original's, marked where it differs.
    expect(replay.status).toBe('completed');
    expect(replay.output).toBe(original.output);
    const diff = await service.replayDiff(replay.run_id);
    expect(diff.first_divergence).toMatchObject({ index: 0 });
    expect(diff.first_divergence?.reason).toMatch(/request differs/);
    const steps = await service.getRunSteps(replay.run_id);
    expect(steps[0]).toMatchObject({
      kind: 'model_call',
      replay: { source_step_id: '1.0', diverged: expect.stringMatching(/request differs/) },
    });
    const warning = await waitFor(() =>
      events.find(
        (event: NightshiftEvent) =>
          event.run_id === replay.run_id &&
          event.type === 'run_warning' &&
          (event.payload as { code: string }).code === 'replay_diverged',
      ),
    );
    expect((warning.payload as { message: string }).message).toMatch(/^step 1\.0: /);
  });

  it('a live model with recorded tools asks the model afresh and runs no tool', async () => {
    const { service, model, tools, original } = await setup();
    await service.updateAgent('archiver', {
      system_instruction: 'Librarian. Archive old events.',
    });
    const requestsBefore = model.requests.length;

    const replay = await replayed(service, original.run_id, { model: 'live' });

    expect(replay.status).toBe('completed');
    expect(replay.output).toBe('Librarian.: archived 42 rows');
    expect(model.requests.length).toBe(requestsBefore + 3);
    expect(tools.ran).toEqual({ lookup: 1, archive: 1 });
    const steps = await service.getRunSteps(replay.run_id);
    const toolSteps = steps.filter((step) => step.kind === 'tool_call');
    expect(toolSteps.map((step) => [step.tool_name, step.result, step.replay?.diverged])).toEqual([
      ['lookup', { rows: 42 }, undefined],
      ['archive', { archived: 42 }, undefined],
    ]);
    const diff = await service.replayDiff(replay.run_id);
    expect(diff.answer.same).toBe(false);
    expect(diff.first_divergence).not.toBeNull();
  });

  it('a live model calling a tool the original did not is told it was not run', async () => {
    const { service, model, tools, original } = await setup();
    model.behaviour.extraTool = true;

    const replay = await replayed(service, original.run_id, { model: 'live' });

    expect(replay.status).toBe('completed');
    expect(tools.ran).toEqual({ lookup: 1, archive: 1 });
    const steps = await service.getRunSteps(replay.run_id);
    const extra = steps.filter((step) => step.kind === 'tool_call')[2];
    expect(extra).toMatchObject({
      tool_name: 'lookup',
      result: { error: 'not_recorded' },
      replay: { source_step_id: null, diverged: expect.stringMatching(/no call of lookup/) },
    });
  });

  it('recorded replies with live tools run the tools again, as asked', async () => {
    const { service, tools, original } = await setup();
    const replay = await replayed(service, original.run_id, { tools: 'live' });
    expect(replay.status).toBe('completed');
    expect(tools.ran).toEqual({ lookup: 2, archive: 2 });
  });

  it('a guardrail added since screens the recorded results as it would live ones', async () => {
    const { service, tools, original } = await setup();
    await service.updateAgent('archiver', {
      agent_config: {
        guardrails: [{ name: 'tiny_results', max_chars: 5, action: 'block' }],
      },
    });
    const replay = await replayed(service, original.run_id);
    expect(replay.status).toBe('failed');
    expect(replay.error).toMatchObject({ code: 'guardrail' });
    expect(replay.error?.message).toMatch(/tiny_results blocked the result of tool lookup/);
    expect(tools.ran).toEqual({ lookup: 1, archive: 1 });
    const steps = await service.getRunSteps(replay.run_id);
    expect(steps.filter((step) => step.kind === 'tool_call').at(-1)).toMatchObject({
      tool_name: 'lookup',
      outcome: 'error',
      replay: { source_step_id: '1.1' },
    });
  });

  it('a replay that needs a reply the original never got ends replay_diverged', async () => {
    const { service, original } = await setup();
    // The answer is not JSON: a schema now asks for a repair the original never made.
    await service.updateAgent('archiver', {
      task_config: {
        query: 'Archive old events.',
        output_schema: { type: 'object', properties: { rows: { type: 'integer' } } },
      },
    });
    const replay = await replayed(service, original.run_id);
    expect(replay.status).toBe('failed');
    expect(replay.error).toMatchObject({ code: 'replay_diverged' });
    expect(replay.error?.message).toMatch(/model call 4/);
  });

  it('sends the history the original was sent, and leaves the conversation as it was', async () => {
    const url = temporaryDatabase();
    const { service, original: first, model } = await setup({ url });
    const second = await service.runNow('archiver', { wait: true });
    // A third run moves the session on: the second's history is no longer the session's tail.
    await service.runNow('archiver', { wait: true });
    // The second run's first request carried the first run's turn as history.
    expect(model.requests[3]?.prompt.length).toBeGreaterThan(2);
    const before = await messagesOf(url);

    const replay = await replayed(service, second.run_id);

    const diff = await service.replayDiff(replay.run_id);
    expect(diff.first_divergence).toBeNull();
    expect(await messagesOf(url)).toEqual(before);
    expect(first.run_id).not.toBe(second.run_id);
  });

  it('says so when the history the original was sent was over the journal cap', async () => {
    const { service } = await setup();
    // The first turn, with its long query, is the second run's history: over the 32,000 cap.
    await service.runNow('archiver', { wait: true, query: 'x'.repeat(40_000) });
    const second = await service.runNow('archiver', { wait: true });
    const [first] = await service.getRunSteps(second.run_id);
    expect(first?.input_history).toBeUndefined();
    expect(first?.input_history_cut?.original_chars).toBeGreaterThan(40_000);
    const events = collectEvents(service);

    const replay = await replayed(service, second.run_id);

    const warning = await waitFor(() =>
      events.find(
        (event) =>
          event.run_id === replay.run_id &&
          event.type === 'run_warning' &&
          (event.payload as { code: string }).code === 'replay_history_missing',
      ),
    );
    expect((warning.payload as { message: string }).message).toMatch(/over the journal's cap/);
  });

  it('refuses what cannot be replayed, naming why, and changes nothing', async () => {
    const { service, original } = await setup();
    await expect(service.replayRun('archiver.nope')).rejects.toMatchObject({
      code: 'run_not_found',
    });
    await expect(
      service.replayRun(original.run_id, { model: 'cached' as never }),
    ).rejects.toMatchObject({ code: 'config_invalid', fields: [{ path: 'model' }] });
    await expect(service.replayDiff(original.run_id)).rejects.toMatchObject({
      code: 'invalid_state',
    });
    const runs = await service.listRuns('archiver');
    expect(runs.map((run) => run.trigger)).toEqual(['manual']);
  });

  it('a run still going cannot be replayed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const model = new MockLanguageModelV3({
      doGenerate: async () => {
        await gate;
        return toGenerateResult({ text: 'done' }, 1);
      },
    });
    const service = makeService({ providers: { test: () => model } });
    await service.startManager();
    await service.create({ ...AGENT, tools: [] });
    const running = await service.runNow('archiver');
    await waitFor(async () => (await service.getRun(running.run_id)).status === 'running');
    await expect(service.replayRun(running.run_id)).rejects.toMatchObject({
      code: 'invalid_state',
    });
    release();
  });
});

/** The agent's stored conversation, read from its database by another connection. */
async function messagesOf(url: string): Promise<unknown[]> {
  const router = new MemoryRouter('database', { url });
  try {
    const store = await router.connect();
    return await store.messages.list('archiver');
  } finally {
    await router.close();
  }
}
