import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createModel, runAgent, type AgentEvent } from '../../src/agent/index.js';
import { parseAgentDefinition } from '../../src/config/parse-agent-definition.js';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { BUILT_IN_TOOLS, type ToolDefinition } from '../../src/tools/index.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../helpers/fake-openai-server.js';

const SECRET = 'sk-nightshift-test-secret-0123456789';
let server: FakeOpenAIServer;
beforeEach(async () => {
  server = await startFakeOpenAIServer();
});
afterEach(async () => {
  await server.close();
});

function definition(
  provider: 'openai' | 'openai_compatible' | 'ollama',
  overrides: Record<string, unknown> = {},
) {
  return parseAgentDefinition(
    {
      agent_id: 'wire',
      interval: 60,
      model_config: {
        provider,
        model: 'gpt-test',
        base_url: server.baseURL,
        api_key_env: 'TEST_OPENAI_KEY',
      },
      task_config: { query: 'How is the machine?' },
      tools: ['system_stats'],
      ...overrides,
    },
    { env: { TEST_OPENAI_KEY: SECRET } },
  );
}

const env = { TEST_OPENAI_KEY: SECRET };
const tools = new Map<string, ToolDefinition>(
  Object.entries(BUILT_IN_TOOLS) as [string, ToolDefinition][],
);

describe.each(['openai', 'openai_compatible', 'ollama'] as const)(
  'runAgent over real HTTP (%s)',
  (provider) => {
    it('runs the tool loop against the wire format and counts the usage the server reports', async () => {
      server.enqueue(
        {
          tool_calls: [{ name: 'system_stats', args: {} }],
          usage: { input_tokens: 40, output_tokens: 10 },
        },
        { text: 'Memory is fine.', usage: { input_tokens: 60, output_tokens: 5 } },
      );
      const agent = definition(provider);
      const result = await runAgent({
        definition: agent,
        model: createModel(agent.model_config, { env }),
        runId: 'r',
        tools,
      });
      expect(result).toMatchObject({
        status: 'completed',
        output: 'Memory is fine.',
        usage: { requests: 2, input_tokens: 100, output_tokens: 15, total_tokens: 115 },
      });
      expect(server.requests).toHaveLength(2);
      expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(JSON.stringify(server.requests[1]?.body)).toContain('memory');
    });

    it('aborts the HTTP request in flight when the run times out: the server sees the client hang up', async () => {
      server.enqueue({ hang: true });
      const agent = definition(provider);
      const result = await runAgent({
        definition: agent,
        model: createModel(agent.model_config, { env }),
        runId: 'r',
        timeoutMs: 200,
      });
      expect(result).toMatchObject({ status: 'timed_out', error: { code: 'timeout' } });
      const aborted = await server.waitForAbort();
      expect(aborted.aborted).toBe(true);
    });

    it('retries a 429 with Retry-After inside the run without counting a new request', async () => {
      server.enqueue(
        { error: { status: 429, message: 'slow down', retry_after: 0 } },
        { text: 'after the retry' },
      );
      const agent = definition(provider);
      const result = await runAgent({
        definition: agent,
        model: createModel(agent.model_config, { env }),
        runId: 'r',
      });
      expect(result).toMatchObject({
        status: 'completed',
        output: 'after the retry',
        usage: { requests: 1 },
      });
      expect(server.requests).toHaveLength(2);
    });

    it('reports a model that keeps failing as failed with the status, never as completed', async () => {
      server.enqueue(
        { error: { status: 500, message: 'boom', retry_after: 0 } },
        { error: { status: 500, message: 'boom', retry_after: 0 } },
        { error: { status: 500, message: 'boom', retry_after: 0 } },
      );
      const agent = definition(provider);
      const result = await runAgent({
        definition: agent,
        model: createModel(agent.model_config, { env }),
        runId: 'r',
      });
      expect(result).toMatchObject({
        status: 'failed',
        output: null,
        error: { code: 'model_error' },
      });
      expect(result.error?.message).toMatch(/500/);
    });
  },
);

describe('secrets', () => {
  it('never puts the API key in events, run records, steps or messages (promise 8)', async () => {
    server.enqueue({ tool_calls: [{ name: 'system_stats', args: {} }] }, { text: 'done' });
    const memory = new MemoryRouter('in_memory');
    const events = new EventRouter('in_memory');
    const service = new BackgroundAgentService(memory, events, { env });
    try {
      await service.startManager();
      await service.create(definition('openai'));
      const run = await service.runNow('wire', { wait: true });
      expect(run.status).toBe('completed');
      expect(server.requests[0]?.headers.authorization).toContain(SECRET);
      const store = await memory.connect();
      const stored = JSON.stringify([
        await service.readEvents({ limit: 10_000 }),
        await service.getRun(run.run_id),
        await service.getRunSteps(run.run_id),
        await store.messages.list('wire'),
        await store.agents.list(),
        await service.getAgentStatus('wire'),
      ]);
      expect(stored).toContain('system_stats');
      expect(stored).not.toContain(SECRET);
    } finally {
      await service.shutdown();
    }
  });

  it('emits events that never carry the key even when a tool errors', async () => {
    server.enqueue(
      { tool_calls: [{ name: 'system_stats', args: { paths: ['/definitely/not/here'] } }] },
      { text: 'ok' },
    );
    const agent = definition('openai');
    const seen: AgentEvent[] = [];
    await runAgent({
      definition: agent,
      model: createModel(agent.model_config, { env }),
      runId: 'r',
      tools,
      emit: (event) => void seen.push(event),
    });
    expect(JSON.stringify(seen)).not.toContain(SECRET);
  });
});
