import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/service/retry-delay.js';
import { parseAgentDefinition } from '../../src/index.js';
import { hangUntilAborted, mockModel } from '../agent/mock-model.js';
import { waitFor } from '../helpers/wait-for.js';
import { collectEvents, makeService, testAgent, testProvider } from './service-fixtures.js';

describe('retries, timeouts and failures', () => {
  it('retries a failed attempt and records every attempt; usage sums the attempts', async () => {
    const model = mockModel((call) => {
      if (call === 0) throw new Error('flaky upstream');
      return { text: 'recovered', tokens: 8 };
    });
    const service = makeService({ providers: testProvider(model) });
    await service.startManager();
    const events = collectEvents(service);
    await service.create(
      testAgent('flaky', { task_config: { query: 'q', max_retries: 2, retry_delay: 0.01 } }),
    );
    const run = await service.runNow('flaky', { wait: true });
    expect(run).toMatchObject({ status: 'completed', output: 'recovered', error: null });
    expect(
      run.attempts.map((attempt) => [attempt.attempt, attempt.status, attempt.error?.code ?? null]),
    ).toEqual([
      [1, 'failed', 'model_error'],
      [2, 'completed', null],
    ]);
    expect(run.usage).toMatchObject({ requests: 2, total_tokens: 8 });
    await waitFor(() => events.some((event) => event.type === 'background_task_completed'));
    const lifecycle = events.filter(
      (event) => event.run_id === run.run_id && event.type.startsWith('background_task'),
    );
    expect(
      lifecycle.map((event) => [
        event.type,
        'attempt' in event.payload ? event.payload.attempt : null,
      ]),
    ).toEqual([
      ['background_task_started', 1],
      ['background_task_error', 1],
      ['background_task_started', 2],
      ['background_task_completed', null],
    ]);
    expect(lifecycle[1]?.payload).toMatchObject({
      will_retry: true,
      error: { code: 'model_error' },
    });
    const status = await service.getAgentStatus('flaky');
    expect(status).toMatchObject({ run_count: 1, error_count: 0, last_run_status: 'completed' });
  });

  it('a run whose retries run out ends failed, never completed (promise 5)', async () => {
    const model = mockModel(() => {
      throw new Error('down for good');
    });
    const service = makeService({ providers: testProvider(model) });
    await service.startManager();
    await service.create(
      testAgent('doomed', { task_config: { query: 'q', max_retries: 1, retry_delay: 0.01 } }),
    );
    const run = await service.runNow('doomed', { wait: true });
    expect(run).toMatchObject({ status: 'failed', output: null, error: { code: 'model_error' } });
    expect(run.attempts).toHaveLength(2);
    expect(await service.getAgentStatus('doomed')).toMatchObject({
      error_count: 1,
      consecutive_failures: 1,
      last_run_status: 'failed',
      last_error: { code: 'model_error' },
    });
  });

  it('bounds each attempt by task_config.timeout and retries timed_out attempts', async () => {
    const model = mockModel((_call, options) => hangUntilAborted(options));
    const service = makeService({ providers: testProvider(model) });
    await service.startManager();
    await service.create(
      testAgent('slowpoke', {
        task_config: { query: 'q', timeout: 0.1, max_retries: 1, retry_delay: 0 },
      }),
    );
    const run = await service.runNow('slowpoke', { wait: true });
    expect(run).toMatchObject({ status: 'timed_out', error: { code: 'timeout' } });
    expect(run.attempts.map((attempt) => attempt.status)).toEqual(['timed_out', 'timed_out']);
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('does not retry budget_exceeded, and says which limit ended the run', async () => {
    const model = mockModel([{ tools: [{ name: 'system_stats' }] }]);
    const service = makeService({ providers: testProvider(model) });
    await service.startManager();
    await service.create(
      testAgent('spender', {
        tools: ['system_stats'],
        agent_config: { max_steps: 2 },
        task_config: { query: 'q', max_retries: 3 },
      }),
    );
    const run = await service.runNow('spender', { wait: true });
    expect(run).toMatchObject({ status: 'budget_exceeded', error: { code: 'max_steps' } });
    expect(run.attempts).toHaveLength(1);
  });

  it('counts request_limit across the attempts of one run', async () => {
    const failing = mockModel((call) => {
      if (call === 1) throw new Error('second call fails');
      return { tools: [{ name: 'system_stats' }] };
    });
    const service = makeService({ providers: testProvider(failing) });
    await service.startManager();
    await service.create(
      testAgent('budgeted', {
        tools: ['system_stats'],
        agent_config: { request_limit: 3 },
        task_config: { query: 'q', max_retries: 5, retry_delay: 0 },
      }),
    );
    const run = await service.runNow('budgeted', { wait: true });
    // Attempt 1: call 0 (tool), call 1 fails → retry; attempt 2: call 2 (tool) → 3 requests: limit.
    expect(run).toMatchObject({ status: 'budget_exceeded', error: { code: 'request_limit' } });
    expect(failing.doGenerateCalls).toHaveLength(3);
  });

  it('auto-pauses after N consecutive failed runs, saying why', async () => {
    const model = mockModel(() => {
      throw new Error('always failing');
    });
    const service = makeService({ providers: testProvider(model) });
    await service.startManager();
    const events = collectEvents(service);
    await service.create(testAgent('fragile', { interval: 0.05, auto_pause_after_failures: 2 }));
    await service.startAgent('fragile');
    const status = await waitFor(async () => {
      const current = await service.getAgentStatus('fragile');
      return current.state === 'paused' ? current : undefined;
    });
    expect(status.pause_reason).toMatch(/auto-paused after 2 consecutive failed runs/);
    expect(status.consecutive_failures).toBe(2);
    await waitFor(() =>
      events.some(
        (event) =>
          event.type === 'background_agent_status' && event.payload.reason === 'auto_paused',
      ),
    );
  });
});

describe('side effects', () => {
  function sideEffectModel() {
    return mockModel((call) => {
      if (call % 2 === 0) return { tools: [{ name: 'send_email' }] };
      throw new Error('the model fell over after the tool ran');
    });
  }
  const sendEmail = {
    description: 'Sends an email (not idempotent).',
    inputSchema: { type: 'object' as const, properties: {} },
    execute: () => 'sent',
  };

  it('does not retry a run that failed after a non-idempotent tool started, and says why', async () => {
    const model = sideEffectModel();
    const service = makeService({
      providers: testProvider(model),
      tools: { send_email: sendEmail },
    });
    await service.startManager();
    await service.create(
      testAgent('mailer', {
        tools: ['send_email'],
        task_config: { query: 'q', max_retries: 3, retry_delay: 0 },
      }),
    );
    const run = await service.runNow('mailer', { wait: true });
    expect(run).toMatchObject({
      status: 'failed',
      error: { code: 'model_error', retry_blocked: 'side_effects' },
    });
    expect(run.error?.message).toContain('not retried');
    expect(run.attempts).toHaveLength(1);
  });

  it('retries anyway when the agent opts in, and always after idempotent tools only', async () => {
    const service = makeService({
      providers: testProvider(sideEffectModel()),
      tools: { send_email: sendEmail },
    });
    await service.startManager();
    await service.create(
      testAgent('bold', {
        tools: ['send_email'],
        task_config: { query: 'q', max_retries: 1, retry_delay: 0, retry_side_effects: true },
      }),
    );
    expect((await service.runNow('bold', { wait: true })).attempts).toHaveLength(2);

    const reader = makeService({
      providers: testProvider(
        mockModel((call) => {
          if (call % 2 === 0) return { tools: [{ name: 'system_stats' }] };
          throw new Error('fell over');
        }),
      ),
    });
    await reader.startManager();
    await reader.create(
      testAgent('reader', {
        tools: ['system_stats'],
        task_config: { query: 'q', max_retries: 1, retry_delay: 0 },
      }),
    );
    const run = await reader.runNow('reader', { wait: true });
    expect(run.attempts).toHaveLength(2);
    expect(run.error?.retry_blocked).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  const task = (overrides: Record<string, unknown>) =>
    parseAgentDefinition({
      agent_id: 'a',
      interval: 1,
      model_config: { provider: 'scripted', script: [{ answer: 'x' }] },
      task_config: { query: 'q', ...overrides },
    }).task_config;

  it('waits retry_delay between attempts, doubling under exponential backoff up to the cap', () => {
    expect([2, 3, 4].map((attempt) => retryDelayMs(task({ retry_delay: 2 }), attempt))).toEqual([
      2000, 2000, 2000,
    ]);
    const exponential = task({ retry_delay: 2, retry_backoff: 'exponential', max_retry_delay: 10 });
    expect([2, 3, 4, 5].map((attempt) => retryDelayMs(exponential, attempt))).toEqual([
      2000, 4000, 8000, 10000,
    ]);
  });
});
