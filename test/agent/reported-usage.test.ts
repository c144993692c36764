import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TOKENS_PER_CALL } from '../../src/agent/reported-usage.js';
import { startServer } from '../../src/server/index.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../helpers/fake-openai-server.js';
import { makeService } from '../service/service-fixtures.js';

let model: FakeOpenAIServer | undefined;
afterEach(async () => {
  await model?.close();
  model = undefined;
});

describe('token counts from a provider are not trusted blindly', () => {
  it('clamps negative and absurd counts, warns, and keeps limits and metrics working', async () => {
    model = await startFakeOpenAIServer({
      defaultReply: { text: 'done', usage: { input_tokens: -5_000, output_tokens: 1e15 } },
    });
    const service = makeService({
      env: { OPENAI_API_KEY: 'sk-test-usage-0123456789' },
      tools: {
        noop: {
          description: 'Does nothing.',
          inputSchema: { type: 'object', properties: {} },
          idempotent: true,
          execute: () => ({ ok: true }),
        },
      },
    });
    await service.startManager();
    await service.create({
      agent_id: 'liar',
      interval: 3600,
      model_config: { provider: 'openai', model: 'gpt-4o-mini', base_url: model.baseURL },
      task_config: { query: 'q' },
    });
    const run = await service.runNow('liar', { wait: true });
    expect(run.usage.input_tokens).toBe(0);
    expect(run.usage.output_tokens).toBe(MAX_TOKENS_PER_CALL);
    expect(run.usage.total_tokens).toBeGreaterThanOrEqual(MAX_TOKENS_PER_CALL);
    const warnings = (await service.readEvents({ agent_id: 'liar' })).filter(
      (event) => event.type === 'run_warning',
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.payload).toMatchObject({ code: 'usage_clamped' });
    expect((await service.getAgentStatus('liar')).total_tokens).toBeGreaterThan(0);

    // A count that would have driven the run's total negative no longer lets calls past the limit.
    model.enqueue(
      {
        tool_calls: [{ name: 'noop', args: {} }],
        usage: { input_tokens: -1e15, output_tokens: 5_000 },
      },
      { text: 'should never be asked for' },
    );
    await service.create({
      agent_id: 'negative',
      interval: 3600,
      model_config: { provider: 'openai', model: 'gpt-4o-mini', base_url: model.baseURL },
      task_config: { query: 'q' },
      tools: ['noop'],
      agent_config: { total_tokens_limit: 1_000 },
    });
    const requestsBefore = model.requests.length;
    const limited = await service.runNow('negative', { wait: true });
    expect(limited.status).toBe('budget_exceeded');
    expect(limited.usage.input_tokens).toBe(0);
    expect(model.requests.length - requestsBefore).toBe(1);

    const server = await startServer(service, { port: 0 });
    try {
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).not.toMatch(/nightshift_tokens_total\{[^}]*\} -/);
    } finally {
      await server.close();
    }
  });
});
