import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runAgent, type AgentEvent } from '../../src/agent/index.js';
import { parseAgentDefinition } from '../../src/config/parse-agent-definition.js';
import type { RunStep } from '../../src/storage/contracts/index.js';
import type { ToolDefinition } from '../../src/tools/index.js';
import { hangUntilAborted, mockModel } from './mock-model.js';

function agent(overrides: Record<string, unknown> = {}) {
  return parseAgentDefinition({
    agent_id: 'tester',
    interval: 60,
    model_config: { provider: 'scripted', script: [{ answer: 'unused' }] },
    task_config: { query: 'Check the thing.' },
    tools: ['echo'],
    ...overrides,
  });
}

const echoTool: ToolDefinition<{ text: string }> = {
  description: 'Echo the text back.',
  inputSchema: z.object({ text: z.string() }),
  execute: ({ text }) => ({ echoed: text }),
};

function tools(extra: Record<string, ToolDefinition<never>> = {}) {
  return new Map<string, ToolDefinition>(
    Object.entries({ echo: echoTool as ToolDefinition<never>, ...extra }) as [
      string,
      ToolDefinition,
    ][],
  );
}

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

describe('runAgent', () => {
  it('runs the tool loop to a final answer, with events in order and per-run usage', async () => {
    const events: AgentEvent[] = [];
    const steps = recorder();
    const model = mockModel([
      { tools: [{ name: 'echo', args: { text: 'hi' } }], text: 'Let me check.', tokens: 30 },
      { text: 'All good.', tokens: 20 },
    ]);
    const result = await runAgent({
      definition: agent(),
      model,
      runId: 'run-1',
      tools: tools(),
      emit: (event) => void events.push(event),
      recorder: steps,
    });
    expect(result).toMatchObject({
      status: 'completed',
      output: 'All good.',
      error: null,
      usage: { requests: 2, input_tokens: 25, output_tokens: 25, total_tokens: 50 },
      steps: 2,
      tool_calls: 1,
    });
    expect(events.map((event) => event.type)).toEqual([
      'user_message',
      'tool_call_started',
      'tool_call_result',
      'agent_message',
      'final_answer',
    ]);
    expect(events[2]?.payload).toMatchObject({
      tool_name: 'echo',
      tool_args: { text: 'hi' },
      result: { echoed: 'hi' },
    });
    const recorded = [...steps.steps.values()];
    expect(recorded.map((step) => [step.kind, step.state, step.outcome])).toEqual([
      ['model_call', 'completed', undefined],
      ['tool_call', 'completed', 'success'],
      ['model_call', 'completed', undefined],
    ]);
    expect(recorded[1]?.args_digest).toMatch(/^[0-9a-f]{64}$/);
    // A second run of another agent does not inherit this run's usage.
    const second = await runAgent({
      definition: agent(),
      model: mockModel([{ text: 'x', tokens: 4 }]),
      runId: 'run-2',
    });
    expect(second.usage).toEqual({
      requests: 1,
      input_tokens: 2,
      output_tokens: 2,
      total_tokens: 4,
    });
  });

  it('records a tool call as started before the tool runs', async () => {
    const steps = recorder();
    let seenWhileRunning: RunStep | undefined;
    const probe: ToolDefinition<Record<string, never>> = {
      description: 'probe',
      inputSchema: z.object({}),
      execute: () => {
        seenWhileRunning = [...steps.steps.values()].find((step) => step.kind === 'tool_call');
        return 'ok';
      },
    };
    await runAgent({
      definition: agent({ tools: ['probe'] }),
      model: mockModel([{ tools: [{ name: 'probe' }] }, { text: 'done' }]),
      runId: 'run-1',
      tools: tools({ probe: probe as ToolDefinition<never> }),
      recorder: steps,
    });
    expect(seenWhileRunning).toMatchObject({ state: 'started', tool_name: 'probe' });
  });

  it('ends budget_exceeded with code max_steps when the loop hits max_steps without an answer', async () => {
    const model = mockModel([{ tools: [{ name: 'echo', args: { text: 'again' } }] }]);
    const result = await runAgent({
      definition: agent({ agent_config: { max_steps: 3 } }),
      model,
      runId: 'r',
      tools: tools(),
    });
    expect(result.status).toBe('budget_exceeded');
    expect(result.error?.code).toBe('max_steps');
    expect(result.output).toBeNull();
    expect(model.doGenerateCalls).toHaveLength(3);
  });

  it('stops before the next model call at request_limit, counting earlier attempts of the run', async () => {
    const model = mockModel([{ tools: [{ name: 'echo', args: { text: 'x' } }] }]);
    const definition = agent({ agent_config: { request_limit: 2 } });
    const result = await runAgent({ definition, model, runId: 'r', tools: tools() });
    expect(result).toMatchObject({ status: 'budget_exceeded', error: { code: 'request_limit' } });
    expect(model.doGenerateCalls).toHaveLength(2);

    const exhausted = mockModel([{ text: 'never' }]);
    const retry = await runAgent({
      definition,
      model: exhausted,
      runId: 'r',
      attempt: 2,
      priorUsage: { requests: 2, input_tokens: 0, output_tokens: 0, total_tokens: 0 },
    });
    expect(retry).toMatchObject({ status: 'budget_exceeded', error: { code: 'request_limit' } });
    expect(exhausted.doGenerateCalls).toHaveLength(0);
  });

  it('lets a request start only while the run total is under total_tokens_limit', async () => {
    const model = mockModel([{ tools: [{ name: 'echo', args: { text: 'x' } }], tokens: 100 }]);
    const result = await runAgent({
      definition: agent({ agent_config: { total_tokens_limit: 250 } }),
      model,
      runId: 'r',
      tools: tools(),
    });
    expect(result).toMatchObject({
      status: 'budget_exceeded',
      error: { code: 'total_tokens_limit' },
    });
    expect(model.doGenerateCalls).toHaveLength(3);
    expect(result.usage.total_tokens).toBe(300);
  });

  it('keeps an answer that arrives even if its tokens cross total_tokens_limit', async () => {
    const model = mockModel([
      { tools: [{ name: 'echo', args: { text: 'x' } }], tokens: 100 },
      { text: 'Answer.', tokens: 100 },
    ]);
    const result = await runAgent({
      definition: agent({ agent_config: { total_tokens_limit: 150 } }),
      model,
      runId: 'r',
      tools: tools(),
    });
    expect(result).toMatchObject({ status: 'completed', output: 'Answer.' });
    expect(result.usage.total_tokens).toBe(200);
  });

  it('times out a tool that ignores its abort signal, tells the model, and goes on', async () => {
    let toolSignal: AbortSignal | undefined;
    const stuck: ToolDefinition<Record<string, never>> = {
      description: 'never returns',
      inputSchema: z.object({}),
      execute: (_input, context) => {
        toolSignal = context.abortSignal;
        return new Promise(() => undefined);
      },
    };
    const events: AgentEvent[] = [];
    const steps = recorder();
    let errorSeenByModel: unknown;
    const model = mockModel((call, options) => {
      if (call === 0) return { tools: [{ name: 'stuck' }] };
      errorSeenByModel = options.prompt.at(-1);
      return { text: 'The tool timed out.' };
    });
    const result = await runAgent({
      definition: agent({ tools: ['stuck'], agent_config: { tool_call_timeout: 0.1 } }),
      model,
      runId: 'r',
      tools: tools({ stuck: stuck as ToolDefinition<never> }),
      emit: (event) => void events.push(event),
      recorder: steps,
    });
    expect(result.status).toBe('completed');
    expect(toolSignal?.aborted).toBe(true);
    const toolError = events.find((event) => event.type === 'tool_call_error');
    expect(toolError?.payload).toMatchObject({ tool_name: 'stuck', timed_out: true });
    expect(JSON.stringify(errorSeenByModel)).toContain('timed out');
    expect([...steps.steps.values()].find((step) => step.kind === 'tool_call')?.outcome).toBe(
      'timeout',
    );
  });

  it('returns a throwing tool’s error to the model and goes on', async () => {
    const broken: ToolDefinition<Record<string, never>> = {
      description: 'throws',
      inputSchema: z.object({}),
      execute: () => {
        throw new Error('disk on fire');
      },
    };
    const events: AgentEvent[] = [];
    const model = mockModel([{ tools: [{ name: 'broken' }] }, { text: 'Reported.' }]);
    const result = await runAgent({
      definition: agent({ tools: ['broken'] }),
      model,
      runId: 'r',
      tools: tools({ broken: broken as ToolDefinition<never> }),
      emit: (event) => void events.push(event),
    });
    expect(result.status).toBe('completed');
    expect(events.find((event) => event.type === 'tool_call_error')?.payload).toMatchObject({
      error: 'disk on fire',
      timed_out: false,
    });
    expect(JSON.stringify(model.doGenerateCalls[1]?.prompt)).toContain('disk on fire');
  });

  it('returns a malformed tool call to the model as an error instead of crashing', async () => {
    const model = mockModel([
      { tools: [{ name: 'echo', args: { wrong: 1 } }] },
      { text: 'Fixed.' },
    ]);
    const events: AgentEvent[] = [];
    const result = await runAgent({
      definition: agent(),
      model,
      runId: 'r',
      tools: tools(),
      emit: (event) => void events.push(event),
    });
    expect(result.status).toBe('completed');
    const toolMessage = model.doGenerateCalls[1]?.prompt.at(-1);
    expect(toolMessage?.role).toBe('tool');
    expect(JSON.stringify(toolMessage)).toMatch(/Invalid input for tool echo.*\\"text\\"/);
    expect(events.find((event) => event.type === 'tool_call_error')?.payload).toMatchObject({
      tool_name: 'echo',
      tool_args: { wrong: 1 },
    });
  });

  it('ends timed_out when the run timeout fires during a model call, aborting the call', async () => {
    let callSignal: AbortSignal | undefined;
    const model = mockModel((_call, options) => {
      callSignal = options.abortSignal;
      return hangUntilAborted(options);
    });
    const result = await runAgent({ definition: agent(), model, runId: 'r', timeoutMs: 100 });
    expect(result).toMatchObject({ status: 'timed_out', output: null, error: { code: 'timeout' } });
    expect(callSignal?.aborted).toBe(true);
  });

  it('ends timed_out even when a tool holds on past the run timeout', async () => {
    const stuck: ToolDefinition<Record<string, never>> = {
      description: 'never returns',
      inputSchema: z.object({}),
      execute: () => new Promise(() => undefined),
    };
    const result = await runAgent({
      definition: agent({ tools: ['stuck'], agent_config: { tool_call_timeout: 60 } }),
      model: mockModel([{ tools: [{ name: 'stuck' }] }]),
      runId: 'r',
      tools: tools({ stuck: stuck as ToolDefinition<never> }),
      timeoutMs: 100,
    });
    expect(result).toMatchObject({ status: 'timed_out', error: { code: 'timeout' } });
  });

  it('ends cancelled when the caller aborts', async () => {
    const controller = new AbortController();
    const model = mockModel((_call, options) => {
      setImmediate(() => controller.abort());
      return hangUntilAborted(options);
    });
    const result = await runAgent({
      definition: agent(),
      model,
      runId: 'r',
      signal: controller.signal,
    });
    expect(result).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
  });

  it('reports a model error as failed, never as a completed run', async () => {
    const model = mockModel(() => {
      throw new Error('upstream exploded');
    });
    const result = await runAgent({ definition: agent(), model, runId: 'r', maxRetries: 0 });
    expect(result.status).toBe('failed');
    expect(result.output).toBeNull();
    expect(result.error).toMatchObject({ code: 'model_error' });
    expect(result.error?.message).toContain('upstream exploded');
  });

  it('reports an empty answer as failed with code no_answer', async () => {
    const result = await runAgent({
      definition: agent(),
      model: mockModel([{ text: '  ' }]),
      runId: 'r',
    });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'no_answer' } });
  });
});
