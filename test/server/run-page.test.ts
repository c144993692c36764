import { describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import {
  buildRunReport,
  type RunReport,
  type TimelineEntry,
} from '../../src/server/dashboard/run-report.js';
import {
  RESUMED_ANSWER,
  resumedRun,
  UNKNOWN_OUTCOME_MESSAGE,
  writeResumedRun,
} from './resumed-run-fixture.js';
import { onCleanup, scriptedAgent, startTestServer, TEST_TOKEN } from './server-fixtures.js';

/** A monitor that calls a tool, then answers quoting it: two model calls and a tool call a run. */
const monitor = scriptedAgent('disk_monitor', {
  tools: ['system_stats'],
  model_config: {
    provider: 'scripted',
    script: [
      {
        tool: 'system_stats',
        args: { top_processes: 1 },
        usage: { input_tokens: 120, output_tokens: 30 },
      },
      {
        answer: 'Memory at {{system_stats.memory.used_percent}}%',
        usage: { input_tokens: 200, output_tokens: 25 },
      },
    ],
  },
});

/** What a timeline says in short: `model_call`, `tool_call`, or the event's type. */
const shape = (timeline: readonly TimelineEntry[]) =>
  timeline.map((entry) => (entry.kind === 'event' ? entry.event.type : entry.kind));

describe('the run page and its API', () => {
  it('reports a run: timings, usage, a timeline with replies, tool arguments and results, its events and neighbours', async () => {
    const { api } = await startTestServer();
    await api('POST', '/api/agents', monitor);
    const runs: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      runs.push((await api('POST', '/api/agents/disk_monitor/run', { wait: true })).body.run_id);
    }
    const [first, middle, last] = runs;

    const answer = await api('GET', `/api/runs/${encodeURIComponent(middle ?? '')}/report`);
    expect(answer.status).toBe(200);
    const report = answer.body as RunReport;
    expect(report.run).toMatchObject({
      run_id: middle,
      status: 'completed',
      agent_id: 'disk_monitor',
    });
    expect(report.run.usage).toEqual({
      requests: 2,
      input_tokens: 320,
      output_tokens: 55,
      total_tokens: 375,
    });
    expect(report.previous_run).toMatchObject({ run_id: first, status: 'completed' });
    expect(report.next_run).toMatchObject({ run_id: last, status: 'completed' });
    const { timing } = report;
    expect(timing.duration_ms).toBe(
      Date.parse(report.run.ended_at ?? '') - Date.parse(report.run.started_at ?? ''),
    );
    expect(timing.lateness_ms).toBeGreaterThanOrEqual(0);

    expect(shape(report.timeline)).toEqual([
      'background_task_started',
      'user_message',
      'model_call',
      'tool_call',
      'model_call',
      'background_task_completed',
    ]);
    const [, , ask, tool, reply] = report.timeline;
    expect(ask).toMatchObject({
      kind: 'model_call',
      step_id: '1.0',
      finish_reason: 'tool-calls',
      usage: { input_tokens: 120, output_tokens: 30 },
      reply: null,
      tool_calls: [{ tool_name: 'system_stats' }],
    });
    expect(tool).toMatchObject({
      kind: 'tool_call',
      tool_name: 'system_stats',
      outcome: 'success',
      arguments: { top_processes: 1 },
      error: null,
    });
    expect(tool?.kind === 'tool_call' && tool.result).toMatchObject({ memory: {} });
    expect(reply).toMatchObject({
      kind: 'model_call',
      finish_reason: 'stop',
      reply: report.run.output,
    });

    expect(report.events_complete).toBe(true);
    expect(report.events?.map((event) => event.type)).toEqual([
      'background_task_started',
      'user_message',
      'tool_call_started',
      'tool_call_result',
      'final_answer',
      'background_task_completed',
    ]);
    expect(report.events?.every((event) => event.run_id === middle)).toBe(true);

    const events = await api('GET', `/api/runs/${encodeURIComponent(middle ?? '')}/events`);
    expect(events.body).toEqual({ run_id: middle, events: report.events, complete: true });

    const newest = (await api('GET', `/api/runs/${encodeURIComponent(last ?? '')}/report`)).body;
    expect(newest.next_run).toBeNull();
    expect(newest.previous_run.run_id).toBe(middle);
  });

  it('keeps each attempt of a retried run apart, with its error', async () => {
    const { api } = await startTestServer();
    await api(
      'POST',
      '/api/agents',
      scriptedAgent('flaky', {
        model_config: { provider: 'scripted', script: [{ fail: 'upstream returned 503' }] },
        task_config: { query: 'Try.', max_retries: 1, retry_delay: 0 },
      }),
    );
    const run = (await api('POST', '/api/agents/flaky/run', { wait: true })).body;
    const report = (await api('GET', `/api/runs/${encodeURIComponent(run.run_id)}/report`))
      .body as RunReport;
    expect(report.run.status).toBe('failed');
    expect(report.run.attempts.map((attempt) => attempt.status)).toEqual(['failed', 'failed']);
    expect(report.previous_run).toBeNull();
    const errors = report.timeline.filter(
      (entry) => entry.kind === 'event' && entry.event.type === 'background_task_error',
    );
    expect(
      errors.map((entry) => [entry.attempt, entry.kind === 'event' && entry.event.payload]),
    ).toEqual([
      [1, expect.objectContaining({ will_retry: true })],
      [2, expect.objectContaining({ will_retry: false })],
    ]);
    const calls = report.timeline.filter((entry) => entry.kind === 'model_call');
    expect(
      calls.map((entry) => [entry.attempt, entry.kind === 'model_call' && entry.state]),
    ).toEqual([
      [1, 'started'],
      [2, 'started'],
    ]);
  });

  it('reports a resumed run from its journal: recorded replies and results, the resume, each attempt', async () => {
    const memory = new MemoryRouter('in_memory');
    const log = new EventRouter('in_memory');
    const service = new BackgroundAgentService(memory, log);
    await service.startManager();
    onCleanup(() => service.shutdown({ timeout: 1000 }));
    const fixture = resumedRun('mailer', Date.now() - 120_000);
    await writeResumedRun(fixture, (await memory.connect()).runs, await log.connect());
    const { api } = await startTestServer({}, service);
    const path = `/api/runs/${encodeURIComponent(fixture.run.run_id)}/report`;
    const report = (await api('GET', path)).body as RunReport;

    expect(report.run.attempts.map((attempt) => attempt.resumed_from)).toEqual([undefined, '1.3']);
    expect(shape(report.timeline)).toEqual([
      'background_task_started',
      'user_message',
      'model_call',
      'tool_call',
      'model_call',
      'tool_call',
      'background_task_error',
      'background_task_started',
      'resume',
      'tool_call',
      'model_call',
      'background_task_completed',
    ]);
    const byStep = (stepId: string) =>
      report.timeline.find((entry) => 'step_id' in entry && entry.step_id === stepId);
    // The recorded reply wins, and its message event is not listed again.
    expect(byStep('1.0')).toMatchObject({
      reply: 'Let me look the order up first.',
      tool_calls: [{ tool_call_id: 'call-1', tool_name: 'lookup_order' }],
    });
    expect(byStep('1.2')).toMatchObject({
      reply: null,
      tool_calls: [{ tool_call_id: 'call-2', tool_name: 'send_email' }],
    });
    // The journal's result (cut to its cap) rather than the event's.
    expect(byStep('1.1')).toMatchObject({
      outcome: 'success',
      idempotent: true,
      arguments: { id: 42 },
      result: 'x'.repeat(60),
      result_cut: { cap_chars: 60, original_chars: 5000 },
    });
    expect(byStep('1.3')).toMatchObject({ state: 'started', outcome: null, idempotent: false });
    expect(byStep('2.0')).toEqual({
      kind: 'resume',
      step_id: '2.0',
      attempt: 2,
      at: fixture.events.find((event) => event.type === 'background_task_resumed')?.timestamp,
      resumed_from: '1.3',
      skipped_model_calls: 2,
      unknown_outcome_calls: 1,
    });
    expect(byStep('2.1')).toMatchObject({
      outcome: 'unknown_outcome',
      error: UNKNOWN_OUTCOME_MESSAGE,
      result: { error: 'unknown_outcome' },
    });
    expect(byStep('2.2')).toMatchObject({ reply: RESUMED_ANSWER, finish_reason: 'stop' });

    // Without the events, the steps alone say as much; the marker keeps its own time.
    const bare = await buildRunReport(service, fixture.run.run_id, { events: false });
    const marker = bare.timeline.find((entry) => entry.kind === 'resume');
    expect(marker).toMatchObject({
      at: fixture.steps[4]?.started_at,
      resumed_from: '1.3',
      skipped_model_calls: null,
    });
    expect(
      bare.timeline.find((entry) => 'step_id' in entry && entry.step_id === '1.0'),
    ).toMatchObject({ reply: 'Let me look the order up first.' });
  });

  it('answers 404 for an unknown run, and 401 without the token', async () => {
    const { api } = await startTestServer();
    for (const path of ['/api/runs/ghost.1/report', '/api/runs/ghost.1/events']) {
      const missing = await api('GET', path);
      expect({ path, status: missing.status, code: missing.body.error?.code }).toEqual({
        path,
        status: 404,
        code: 'run_not_found',
      });
      const anonymous = await api('GET', path, undefined, { Authorization: '' });
      expect(anonymous.status).toBe(401);
    }
  });

  it('serves the run page as a shell under the CSP, escaping the run id', async () => {
    const { url } = await startTestServer();
    const page = await fetch(`${url}/runs/${encodeURIComponent('disk.manual-1-abc')}`);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('data-run-id="disk.manual-1-abc"');
    expect(text).toContain('<ol id="timeline"');
    expect(text).not.toContain(TEST_TOKEN);
    const nonce = /<script nonce="([^"]+)">/.exec(text)?.[1];
    expect(page.headers.get('content-security-policy')).toContain(`script-src 'nonce-${nonce}'`);
    // No inline handlers: the policy would refuse them, and the page does not need them.
    expect(text).not.toMatch(/\son[a-z]+="/i);

    const hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const escaped = await (await fetch(`${url}/runs/${encodeURIComponent(hostile)}`)).text();
    expect(escaped).not.toContain('<script>alert(1)');
    expect(escaped).not.toContain('<img src=x');
    expect(escaped).toContain('data-run-id="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
