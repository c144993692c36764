import { describe, expect, it } from 'vitest';
import { TRACING_OFF, runTracing } from '../../src/service/telemetry/run-tracing.js';
import { startTraceExport } from '../../src/service/telemetry/trace-export.js';
import {
  emptyUsage,
  type AgentRecord,
  type RunRecord,
  type TracedPayload,
} from '../../src/storage/contracts/index.js';
import type { BackgroundAgentServiceOptions } from '../../src/index.js';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../helpers/otlp-receiver.js';
import { waitFor } from '../helpers/wait-for.js';
import { makeService, onCleanup, scriptedAgent } from './service-fixtures.js';

const SECRET = 'sekrit-value-0123456789';
const QUERY = 'Look the weather up for Lisbon.';

/** A receiver, closed after the test's services have shut down (cleanups run last first). */
async function receiver(): Promise<OtlpReceiver> {
  const started = await startOtlpReceiver();
  onCleanup(() => started.close());
  return started;
}

/** A service whose agent `forecaster` calls `lookup` once (its result holds a secret), then answers. */
async function runTraced(options: BackgroundAgentServiceOptions) {
  const service = makeService({
    secrets: [SECRET],
    tools: {
      lookup: {
        description: 'Looks the weather up.',
        inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
        idempotent: true,
        execute: () => ({ forecast: 'sunny', key: SECRET }),
      },
    },
    ...options,
  });
  await service.startManager();
  await service.create(
    scriptedAgent('forecaster', {
      tools: ['lookup'],
      task_config: { query: QUERY },
      model_config: {
        provider: 'scripted',
        model: 'weather-script',
        script: [
          {
            tool: 'lookup',
            args: { city: 'Lisbon' },
            usage: { input_tokens: 21, output_tokens: 4 },
          },
          {
            answer: 'It is {{lookup.forecast}} ({{lookup.key}}).',
            usage: { input_tokens: 30, output_tokens: 7 },
          },
        ],
      },
    }),
  );
  const run = await service.runNow('forecaster', { wait: true });
  expect(run.status).toBe('completed');
  const events = (await service.readEvents({ agent_id: 'forecaster' })).filter(
    (event) => event.run_id === run.run_id,
  );
  // Shutting down flushes the spans.
  await service.shutdown({ timeout: 1000 });
  return { run, events };
}

const named = (spans: ReceivedSpan[], name: string) => spans.filter((span) => span.name === name);
const hasRunSpan = (spans: ReceivedSpan[]) => named(spans, 'nightshift.run').length > 0;

describe('OpenTelemetry traces', () => {
  it('makes a run a trace: run, attempt, model call and tool call spans', async () => {
    const otlp = await receiver();
    const { run, events } = await runTraced({ telemetry: { otlp_endpoint: otlp.endpoint } });
    const spans = await otlp.waitForSpans(
      (received) => hasRunSpan(received) && named(received, 'ai.toolCall').length > 0,
    );
    expect(otlp.requests.every((request) => request.path === '/v1/traces')).toBe(true);

    const [runSpan] = named(spans, 'nightshift.run');
    expect(runSpan!.parentSpanId).toBeUndefined();
    expect(runSpan!.resource['service.name']).toBe('nightshift');
    expect(runSpan!.attributes).toMatchObject({
      'nightshift.agent_id': 'forecaster',
      'nightshift.run_id': run.run_id,
      'nightshift.trigger': 'manual',
      'nightshift.status': 'completed',
      'nightshift.usage.input_tokens': 51,
      'nightshift.usage.output_tokens': 11,
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'forecaster',
    });
    expect(runSpan!.status.code).toBe(1);
    const trace = spans.filter((span) => span.traceId === runSpan!.traceId);

    const [attempt] = named(trace, 'nightshift.attempt');
    expect(attempt!.parentSpanId).toBe(runSpan!.spanId);
    expect(attempt!.attributes).toMatchObject({
      'nightshift.attempt': 1,
      'nightshift.run_id': run.run_id,
      'nightshift.status': 'completed',
    });

    // The AI SDK's spans, under the attempt: the generation, then one span per model request.
    const [generation] = named(trace, 'ai.generateText');
    expect(generation!.parentSpanId).toBe(attempt!.spanId);
    const calls = named(trace, 'ai.generateText.doGenerate');
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call.parentSpanId).toBe(generation!.spanId);
    expect(calls.map((call) => call.attributes)).toEqual([
      expect.objectContaining({
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'weather-script',
        'gen_ai.system': 'scripted',
        'gen_ai.provider.name': 'scripted',
        'gen_ai.usage.input_tokens': 21,
        'gen_ai.usage.output_tokens': 4,
      }),
      expect.objectContaining({
        'gen_ai.usage.input_tokens': 30,
        'gen_ai.usage.output_tokens': 7,
      }),
    ]);
    const [tool] = named(trace, 'ai.toolCall');
    expect(tool!.parentSpanId).toBe(generation!.spanId);
    expect(tool!.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'lookup',
      'ai.toolCall.name': 'lookup',
    });

    // No content without capture_content: no prompt, reply, tool arguments or result.
    const everything = JSON.stringify(spans);
    for (const content of [QUERY, 'Lisbon', 'sunny', SECRET]) {
      expect(everything).not.toContain(content);
    }

    // Every event of the run carries the trace's id.
    expect(events.length).toBeGreaterThan(3);
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining(['background_task_started', 'tool_call_result', 'final_answer']),
    );
    for (const event of events) {
      expect((event.payload as TracedPayload).trace_id, event.type).toBe(runSpan!.traceId);
    }
  });

  it('records content, redacted, only with capture_content: true', async () => {
    const otlp = await receiver();
    await runTraced({
      telemetry: { otlp_endpoint: otlp.endpoint, capture_content: true, service_name: 'fleet' },
    });
    const spans = await otlp.waitForSpans(
      (received) => hasRunSpan(received) && named(received, 'ai.toolCall').length > 0,
    );
    expect(spans[0]!.resource['service.name']).toBe('fleet');
    const [first] = named(spans, 'ai.generateText.doGenerate');
    expect(String(first!.attributes['ai.prompt.messages'])).toContain(QUERY);
    const [tool] = named(spans, 'ai.toolCall');
    expect(String(tool!.attributes['ai.toolCall.args'])).toContain('Lisbon');
    expect(String(tool!.attributes['ai.toolCall.result'])).toContain('sunny');
    expect(String(tool!.attributes['ai.toolCall.result'])).toContain('[redacted]');
    const [generation] = named(spans, 'ai.generateText');
    expect(String(generation!.attributes['ai.response.text'])).toBe('It is sunny ([redacted]).');
    expect(JSON.stringify(spans)).not.toContain(SECRET);
  });

  it('exports to OTEL_EXPORTER_OTLP_ENDPOINT when no endpoint is configured', async () => {
    const otlp = await receiver();
    const { run } = await runTraced({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint } });
    const spans = await otlp.waitForSpans(hasRunSpan);
    expect(named(spans, 'nightshift.run')[0]!.attributes['nightshift.run_id']).toBe(run.run_id);
    expect(otlp.requests[0]!.path).toBe('/v1/traces');
  });

  it('traces a run that waits as one trace per active stretch, linked and with the same run_id', async () => {
    const otlp = await receiver();
    const service = makeService({
      telemetry: { otlp_endpoint: otlp.endpoint },
      tools: {
        publish: {
          description: 'Publishes the forecast.',
          inputSchema: { type: 'object', properties: {} },
          execute: () => ({ published: true }),
        },
      },
    });
    await service.startManager();
    await service.create(
      scriptedAgent('publisher', {
        tools: ['publish'],
        agent_config: { approvals: [{ tools: ['publish'] }] },
        model_config: {
          provider: 'scripted',
          script: [{ tool: 'publish' }, { answer: 'Published.' }],
        },
      }),
    );
    const waiting = await service.runNow('publisher', { wait: true });
    expect(waiting.status).toBe('awaiting_approval');
    const first = await otlp.waitForSpans(hasRunSpan, { what: 'the first stretch' });
    const [stretch] = named(first, 'nightshift.run');
    expect(stretch!.attributes).toMatchObject({
      'nightshift.run_id': waiting.run_id,
      'nightshift.status': 'awaiting_approval',
    });
    // Waiting is no error: the span's status is left unset.
    expect(stretch!.status.code).toBe(0);

    const [approval] = await service.listApprovals({ state: 'pending' });
    await service.decideApproval(approval!.approval_id, { decision: 'approve', by: 'ana' });
    const done = await waitFor(async () => {
      const run = await service.getRun(waiting.run_id);
      return run.status === 'completed' ? run : undefined;
    });
    const events = (await service.readEvents({ agent_id: 'publisher' })).filter(
      (event) => event.run_id === done.run_id,
    );
    await service.shutdown({ timeout: 1000 });
    const spans = await otlp.waitForSpans(
      (received) => named(received, 'nightshift.run').length === 2,
      { what: 'the second stretch' },
    );
    const [, second] = named(spans, 'nightshift.run');
    expect(second!.traceId).not.toBe(stretch!.traceId);
    expect(second!.attributes).toMatchObject({
      'nightshift.run_id': waiting.run_id,
      'nightshift.status': 'completed',
      'nightshift.first_attempt': 2,
    });
    expect(second!.links).toEqual([
      expect.objectContaining({ traceId: stretch!.traceId, spanId: stretch!.spanId }),
    ]);
    const [resumed] = named(spans, 'nightshift.attempt').filter(
      (span) => span.traceId === second!.traceId,
    );
    expect(resumed!.attributes).toMatchObject({
      'nightshift.attempt': 2,
      'nightshift.resumed': true,
    });
    // Each event carries the trace of the stretch it was published in.
    const completed = events.find((event) => event.type === 'background_task_completed');
    expect((completed!.payload as TracedPayload).trace_id).toBe(second!.traceId);
    const requested = events.find((event) => event.type === 'approval_requested');
    expect((requested!.payload as TracedPayload).trace_id).toBe(stretch!.traceId);
  });

  it('puts the trace id on log lines about a run being traced, and only then', async () => {
    const otlp = await receiver();
    const exported = await startTraceExport(
      {
        tracesUrl: `${otlp.endpoint}/v1/traces`,
        serviceName: 'logs',
        captureContent: false,
        headers: {},
      },
      (value) => value,
    );
    const tracing = runTracing(exported, false);
    const agent = { agent_id: 'logger' } as AgentRecord;
    const run = {
      run_id: 'run-1',
      trigger: 'manual',
      scheduled_at: '2026-12-03T00:00:00.000Z',
      attempts: [],
    };
    const traced = tracing.startRun(agent, run as unknown as RunRecord);
    expect(tracing.logFields({ run_id: 'run-1', err: 'x' })).toEqual({
      run_id: 'run-1',
      err: 'x',
      trace_id: traced.traceId,
    });
    expect(tracing.logFields({ run_id: 'run-2' })).toEqual({ run_id: 'run-2' });
    // Logged inside the run's model or tool calls (the AI SDK's spans active): that trace.
    const attempt = traced.startAttempt(1);
    const tracer = attempt.telemetry!.tracer!;
    const inside = tracer.startActiveSpan('ai.toolCall', (span) => {
      span.end();
      return tracing.logFields({ tool: 'lookup' });
    });
    expect(inside).toEqual({ tool: 'lookup', trace_id: traced.traceId });
    attempt.end('completed', null);
    traced.end({
      ...run,
      status: 'completed',
      error: null,
      usage: emptyUsage(),
    } as unknown as RunRecord);
    expect(tracing.logFields({ run_id: 'run-1' })).toEqual({ run_id: 'run-1' });
    expect(TRACING_OFF.logFields({ run_id: 'run-1' })).toEqual({ run_id: 'run-1' });
    await tracing.shutdown();
    const spans = await otlp.waitForSpans((received) => received.length === 3);
    const [toolCall] = named(spans, 'ai.toolCall');
    expect(toolCall!.parentSpanId).toBe(named(spans, 'nightshift.attempt')[0]!.spanId);
  });

  it('traces nothing without an endpoint: no export, no trace ids', async () => {
    const otlp = await receiver();
    const { events } = await runTraced({ env: {} });
    expect(events.length).toBeGreaterThan(3);
    for (const event of events) expect(event.payload).not.toHaveProperty('trace_id');
    // The service has shut down (nothing buffered is left): nothing was ever sent.
    expect(otlp.requests).toEqual([]);
  });
});
