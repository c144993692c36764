import type { LanguageModelV3CallOptions, LanguageModelV3Prompt } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runAgent, type AgentEvent } from '../../src/agent/index.js';
import { parseAgentDefinition } from '../../src/config/parse-agent-definition.js';
import { thrownError } from '../helpers/thrown-error.js';
import type { RunStep } from '../../src/storage/contracts/index.js';
import type { ToolDefinition } from '../../src/tools/index.js';
import { mockModel, toGenerateResult, type MockReply } from './mock-model.js';

/** The verdict a health check answers with. */
const VERDICT_SCHEMA = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'down'] },
    count: { type: 'integer', minimum: 0 },
  },
  required: ['status', 'count'],
  additionalProperties: false,
};

function agent(task: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
  return parseAgentDefinition({
    agent_id: 'verdict',
    interval: 60,
    model_config: { provider: 'scripted', script: [{ answer: 'unused' }] },
    task_config: { query: 'How is it?', output_schema: VERDICT_SCHEMA, ...task },
    tools: ['echo'],
    ...overrides,
  });
}

const echoTool: ToolDefinition<{ text: string }> = {
  description: 'Echo the text back.',
  inputSchema: z.object({ text: z.string() }),
  execute: ({ text }) => ({ echoed: text }),
};
const tools = new Map<string, ToolDefinition>([['echo', echoTool]]);

function recorder() {
  const steps = new Map<string, RunStep>();
  return {
    steps,
    appendStep: async (step: RunStep) => void steps.set(step.step_id, { ...step }),
    updateStep: async (_runId: string, stepId: string, patch: Partial<RunStep>) => {
      const step = steps.get(stepId);
      if (step) steps.set(stepId, { ...step, ...patch });
    },
  };
}

/** The text of the last user message of a prompt (the query, or a repair request). */
function lastUserText(prompt: LanguageModelV3Prompt): string {
  const user = prompt.filter((message) => message.role === 'user').at(-1);
  return (user?.content ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** A mock model that remembers every call's options. */
function recordingModel(replies: MockReply[], provider?: string) {
  const calls: LanguageModelV3CallOptions[] = [];
  const model = new MockLanguageModelV3({
    ...(provider ? { provider } : {}),
    doGenerate: async (options) => {
      const call = calls.length;
      calls.push(options);
      return toGenerateResult(replies[Math.min(call, replies.length - 1)]!, call);
    },
  });
  return { model, calls };
}

describe('structured answers (task_config.output_schema)', () => {
  it('keeps a valid answer parsed: output_json on the result and the final_answer event', async () => {
    const events: AgentEvent[] = [];
    const { model, calls } = recordingModel([
      { tools: [{ name: 'echo', args: { text: 'x' } }] },
      { text: '{"status": "ok", "count": 3}' },
    ]);
    const result = await runAgent({
      definition: agent(),
      model,
      runId: 'r',
      tools,
      emit: (event) => void events.push(event),
    });
    expect(result).toMatchObject({
      status: 'completed',
      output: '{"status": "ok", "count": 3}',
      output_json: { status: 'ok', count: 3 },
      error: null,
    });
    expect(events.find((event) => event.type === 'final_answer')?.payload).toEqual({
      message: '{"status": "ok", "count": 3}',
      output_json: { status: 'ok', count: 3 },
    });
    // A provider without native structured output is told the schema in the system prompt.
    const system = calls[0]?.prompt.find((message) => message.role === 'system');
    expect(system?.content).toContain(JSON.stringify(VERDICT_SCHEMA));
    expect(calls[0]?.responseFormat).toBeUndefined();
  });

  it('reads an answer in a JSON code fence, as prompted models often write it', async () => {
    const result = await runAgent({
      definition: agent(),
      model: mockModel([{ text: '```json\n{"status": "down", "count": 0}\n```' }]),
      runId: 'r',
    });
    expect(result).toMatchObject({
      status: 'completed',
      output_json: { status: 'down', count: 0 },
    });
  });

  it('gives a native provider the schema as its response format (AI SDK Output.object)', async () => {
    const { model, calls } = recordingModel(
      [{ text: '{"status": "ok", "count": 1}' }],
      'openai.responses',
    );
    const result = await runAgent({ definition: agent(), model, runId: 'r' });
    expect(result).toMatchObject({ status: 'completed', output_json: { status: 'ok', count: 1 } });
    expect(calls[0]?.responseFormat).toMatchObject({
      type: 'json',
      name: 'answer',
      schema: VERDICT_SCHEMA,
    });
    expect(calls[0]?.providerOptions).toMatchObject({ openai: { strictJsonSchema: false } });
  });

  it('asks for a repair of an invalid answer, naming the failing paths, and completes with the corrected one', async () => {
    const events: AgentEvent[] = [];
    const { model, calls } = recordingModel([
      { text: '{"status": "fine", "count": -1}' },
      { text: '{"status": "ok", "count": 2}' },
    ]);
    const result = await runAgent({
      definition: agent(),
      model,
      runId: 'r',
      emit: (event) => void events.push(event),
    });
    expect(result).toMatchObject({
      status: 'completed',
      output: '{"status": "ok", "count": 2}',
      output_json: { status: 'ok', count: 2 },
      usage: { requests: 2 },
      steps: 2,
    });
    expect(calls).toHaveLength(2);
    const repair = lastUserText(calls[1]!.prompt);
    expect(repair).toContain('status:');
    expect(repair).toContain('count:');
    // The repair sees the answer it corrects.
    expect(JSON.stringify(calls[1]!.prompt)).toContain('\\"fine\\"');
    expect(events.find((event) => event.type === 'run_warning')?.payload).toMatchObject({
      code: 'output_invalid',
    });
  });

  it('repairs an answer that is not JSON at all', async () => {
    const result = await runAgent({
      definition: agent(),
      model: mockModel([{ text: 'Everything is fine.' }, { text: '{"status":"ok","count":0}' }]),
      runId: 'r',
    });
    expect(result).toMatchObject({ status: 'completed', output_json: { status: 'ok', count: 0 } });
  });

  it('fails output_invalid, listing the paths, when the answer is still invalid after its repairs', async () => {
    const { model, calls } = recordingModel([{ text: '{"status": "ok", "count": "many"}' }]);
    const result = await runAgent({
      definition: agent({ output_repairs: 2 }),
      model,
      runId: 'r',
    });
    expect(calls).toHaveLength(3);
    expect(result.status).toBe('failed');
    expect(result.output).toBeNull();
    expect(result.output_json).toBeUndefined();
    expect(result.error?.code).toBe('output_invalid');
    expect(result.error?.message).toContain('after 2 repairs');
    expect(result.error?.message).toMatch(/count: /);
  });

  it('with output_repairs 0, fails at the first invalid answer without another call', async () => {
    const { model, calls } = recordingModel([{ text: '{"status": "ok"}' }]);
    const result = await runAgent({ definition: agent({ output_repairs: 0 }), model, runId: 'r' });
    expect(calls).toHaveLength(1);
    expect(result.error).toMatchObject({ code: 'output_invalid' });
    expect(result.error?.message).toContain('count: ');
  });

  it('a repair that would cross request_limit is not asked: the run ends with that limit', async () => {
    const { model, calls } = recordingModel([{ text: 'not json' }]);
    const result = await runAgent({
      definition: agent({ output_repairs: 3 }, { agent_config: { request_limit: 2 } }),
      model,
      runId: 'r',
    });
    expect(calls).toHaveLength(2);
    expect(result.status).toBe('budget_exceeded');
    expect(result.error?.code).toBe('request_limit');
    expect(result.error?.message).toContain('the answer was invalid');
  });

  it('a resumed run answers from its journal: the recorded repair is not asked again', async () => {
    const steps = recorder();
    const first = await runAgent({
      definition: agent(),
      model: mockModel([{ text: '{"status": 1}' }, { text: '{"status":"ok","count":5}' }]),
      runId: 'r',
      recorder: steps,
    });
    expect(first).toMatchObject({ status: 'completed', output_json: { status: 'ok', count: 5 } });
    const journal = [...steps.steps.values()];
    expect(journal.filter((step) => step.kind === 'model_call')).toHaveLength(2);

    // All of it from the journal: no model call at all.
    const silent = recordingModel([{ text: 'never' }]);
    const resumed = await runAgent({
      definition: agent(),
      model: silent.model,
      runId: 'r',
      attempt: 2,
      journal,
      firstStepIndex: 1,
      priorUsage: first.usage,
    });
    expect(silent.calls).toHaveLength(0);
    expect(resumed).toMatchObject({ status: 'completed', output_json: { status: 'ok', count: 5 } });

    // Only the invalid answer recorded (the process died before the repair): one live call,
    // the repair, and the first answer is not asked again.
    const partial = recordingModel([{ text: '{"status":"down","count":1}' }]);
    const halfway = await runAgent({
      definition: agent(),
      model: partial.model,
      runId: 'r',
      attempt: 2,
      journal: journal.filter((step) => step.step_id === journal[0]!.step_id),
      firstStepIndex: 1,
    });
    expect(partial.calls).toHaveLength(1);
    expect(lastUserText(partial.calls[0]!.prompt)).toContain('not valid against');
    expect(halfway).toMatchObject({ output_json: { status: 'down', count: 1 } });
  });

  it('runs without a schema as before: no output_json, no instruction', async () => {
    const { model, calls } = recordingModel([{ text: 'All good.' }]);
    const definition = parseAgentDefinition({
      agent_id: 'plain',
      interval: 60,
      model_config: { provider: 'scripted', script: [{ answer: 'unused' }] },
      task_config: { query: 'How is it?' },
    });
    const result = await runAgent({ definition, model, runId: 'r' });
    expect(result).toMatchObject({ status: 'completed', output: 'All good.' });
    expect('output_json' in result).toBe(false);
    expect(JSON.stringify(calls[0]?.prompt)).not.toContain('JSON Schema');
  });
});

describe('task_config.output_schema validation', () => {
  const fieldsOf = (task: Record<string, unknown>) =>
    (
      thrownError(() => agent(task)) as { fields?: { path: string; message: string }[] }
    ).fields?.map((field) => field.path);

  it('refuses what is not a JSON Schema object, naming the field', () => {
    expect(fieldsOf({ output_schema: 'an object' })).toEqual(['task_config.output_schema']);
    expect(fieldsOf({ output_schema: [] })).toEqual(['task_config.output_schema']);
    expect(fieldsOf({ output_schema: { type: 'objekt' } })).toEqual([
      'task_config.output_schema.type',
    ]);
    expect(
      fieldsOf({ output_schema: { type: 'object', properties: { n: { minimum: 'x' } } } }),
    ).toEqual(['task_config.output_schema.properties.n.minimum']);
    expect(fieldsOf({ output_schema: { type: 'object', required: 'n' } })).toEqual([
      'task_config.output_schema.required',
    ]);
    expect(fieldsOf({ output_schema: { type: 'string', pattern: '[' } })).toEqual([
      'task_config.output_schema.pattern',
    ]);
  });

  it('bounds output_repairs to 0…5, default 1', () => {
    expect(agent().task_config.output_repairs).toBe(1);
    expect(fieldsOf({ output_repairs: 6 })).toEqual(['task_config.output_repairs']);
    expect(fieldsOf({ output_repairs: -1 })).toEqual(['task_config.output_repairs']);
    expect(fieldsOf({ output_repairs: 1.5 })).toEqual(['task_config.output_repairs']);
  });

  it('takes a zod schema in code and keeps its JSON Schema', () => {
    const definition = agent({
      output_schema: z.object({ status: z.enum(['ok', 'down']), count: z.number().int() }),
    });
    expect(definition.task_config.output_schema).toMatchObject({
      type: 'object',
      properties: { status: { type: 'string', enum: ['ok', 'down'] } },
      required: ['status', 'count'],
    });
    // Stored and sent as JSON: nothing of zod is left in it.
    expect(JSON.parse(JSON.stringify(definition))).toEqual(definition);
    expect(fieldsOf({ output_schema: z.object({ when: z.date() }) })).toEqual([
      'task_config.output_schema',
    ]);
  });
});
