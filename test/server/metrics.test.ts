import { describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  type RunRecord,
} from '../../src/index.js';
import { FleetMetrics } from '../../src/server/metrics/fleet-metrics.js';
import { waitFor } from '../helpers/wait-for.js';
import { onCleanup, scriptedAgent, startTestServer } from './server-fixtures.js';

/** The value of one sample line of Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('counts runs, durations, tokens and model requests by agent after runs end', async () => {
    const { api } = await startTestServer();
    await api(
      'POST',
      '/api/agents',
      scriptedAgent('worker', {
        model_config: {
          provider: 'scripted',
          script: [{ answer: 'done', usage: { input_tokens: 30, output_tokens: 12 } }],
        },
      }),
    );
    await api(
      'POST',
      '/api/agents',
      scriptedAgent('broken', {
        model_config: { provider: 'scripted', script: [{ fail: 'the model is down' }] },
      }),
    );
    await api('POST', '/api/agents/worker/run', { wait: true });
    await api('POST', '/api/agents/worker/run', { wait: true });
    await api('POST', '/api/agents/broken/run', { wait: true });

    const text = await waitFor(
      async () => {
        const body = (await api('GET', '/metrics')).body as string;
        return sample(body, 'nightshift_runs_total{agent_id="broken",status="failed"}') === 1
          ? body
          : undefined;
      },
      { what: 'the failed run to be counted' },
    );
    expect(sample(text, 'nightshift_runs_total{agent_id="worker",status="completed"}')).toBe(2);
    expect(sample(text, 'nightshift_tokens_total{agent_id="worker"}')).toBe(84);
    expect(sample(text, 'nightshift_model_requests_total{agent_id="worker"}')).toBe(2);
    expect(sample(text, 'nightshift_model_requests_total{agent_id="broken"}')).toBe(1);
    expect(
      sample(text, 'nightshift_run_duration_seconds_count{agent_id="worker",status="completed"}'),
    ).toBe(2);
    expect(
      sample(text, 'nightshift_run_duration_seconds_count{agent_id="broken",status="failed"}'),
    ).toBe(1);
    expect(sample(text, 'nightshift_agents{state="created"}')).toBe(2);
    for (const name of [
      'nightshift_runs_total',
      'nightshift_run_duration_seconds',
      'nightshift_run_lateness_seconds',
      'nightshift_tokens_total',
      'nightshift_model_requests_total',
      'nightshift_cost_usd_total',
      'nightshift_skipped_ticks_total',
      'nightshift_missed_ticks_total',
      'nightshift_runs_in_flight',
      'nightshift_agents',
      'nightshift_http_event_streams',
    ]) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S.+$`, 'm'));
    }
    // Its own registry: none of prom-client's process-wide default metrics.
    expect(text).not.toContain('process_cpu');
  });

  it('counts skipped ticks and shows runs in flight', async () => {
    const { api } = await startTestServer();
    await api(
      'POST',
      '/api/agents',
      scriptedAgent('slow', {
        model_config: { provider: 'scripted', script: [{ delay: 0.4, answer: 'slow' }] },
      }),
    );
    const first = await api('POST', '/api/agents/slow/run');
    await waitFor(async () => (await api('GET', '/api/agents/slow')).body.is_running, {
      what: 'the slow run to start',
    });
    const inFlight = (await api('GET', '/metrics')).body as string;
    expect(sample(inFlight, 'nightshift_runs_in_flight{agent_id="slow"}')).toBe(1);
    const second = await api('POST', '/api/agents/slow/run');
    expect(second.body.status).toBe('skipped');
    await waitFor(async () => (await api('GET', `/api/runs/${first.body.run_id}`)).body.ended_at);
    const text = await waitFor(async () => {
      const body = (await api('GET', '/metrics')).body as string;
      return sample(body, 'nightshift_runs_total{agent_id="slow",status="completed"}') === 1
        ? body
        : undefined;
    });
    expect(sample(text, 'nightshift_skipped_ticks_total{agent_id="slow"}')).toBe(1);
    expect(sample(text, 'nightshift_runs_in_flight{agent_id="slow"}')).toBe(0);
  });

  it('measures the lateness of scheduled runs and counts missed ticks', async () => {
    const { api } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('ticker', { interval: 0.1 }));
    await api('POST', '/api/agents/ticker/start');
    await waitFor(
      async () => {
        const body = (await api('GET', '/metrics')).body as string;
        return (sample(body, 'nightshift_run_lateness_seconds_count{agent_id="ticker"}') ?? 0) >= 1;
      },
      { what: 'a scheduled run to start' },
    );
    const paused = Date.now();
    await api('POST', '/api/agents/ticker/pause');
    // Let a few ticks fall due while paused; resuming counts them as missed.
    await waitFor(() => Date.now() - paused > 350, { intervalMs: 50 });
    await api('POST', '/api/agents/ticker/resume');
    const text = await waitFor(
      async () => {
        const body = (await api('GET', '/metrics')).body as string;
        return (sample(body, 'nightshift_missed_ticks_total{agent_id="ticker"}') ?? 0) >= 2
          ? body
          : undefined;
      },
      { what: 'missed ticks to be counted' },
    );
    expect(sample(text, 'nightshift_run_lateness_seconds_sum{agent_id="ticker"}')).toBeLessThan(5);
    await api('POST', '/api/agents/ticker/stop');
  });

  it('adds up what runs cost by agent, provider and model, from completed and failed runs', async () => {
    // Runs with a cost are written straight into the stores (the runtime prices its calls
    // elsewhere): a completed run's event, and a failed run's record and event.
    const memory = new MemoryRouter('in_memory');
    const events = new EventRouter('in_memory');
    const service = new BackgroundAgentService(memory, events);
    await service.startManager();
    onCleanup(() => service.shutdown({ timeout: 1000 }));
    const { api } = await startTestServer({}, service);
    await api(
      'POST',
      '/api/agents',
      scriptedAgent('digest', {
        model_config: {
          provider: 'scripted',
          model: 'digest-model',
          script: [{ answer: 'done' }],
          pricing: { input_per_million: 1, output_per_million: 2 },
        },
      }),
    );
    // A first run, counted once the metrics follow the event stream (priced by the runtime when
    // it prices calls, else free).
    const first = (await api('POST', '/api/agents/digest/run', { wait: true })).body as RunRecord;
    const firstCost = first.usage.cost_usd ?? 0;
    await waitFor(
      async () =>
        sample(
          (await api('GET', '/metrics')).body as string,
          'nightshift_runs_total{agent_id="digest",status="completed"}',
        ) === 1,
      { what: 'the metrics to follow the events' },
    );

    const log = await events.connect();
    const store = await memory.connect();
    const priced = (cost: number) => ({
      requests: 1,
      input_tokens: 300,
      output_tokens: 50,
      total_tokens: 350,
      cost_usd: cost,
    });
    const at = new Date().toISOString();
    await log.append({
      type: 'background_task_completed',
      agent_id: 'digest',
      run_id: 'digest.priced-1',
      timestamp: at,
      payload: { output: 'done', duration_ms: 20, usage: priced(0.0004) },
    });
    const failed: RunRecord = {
      run_id: 'digest.priced-2',
      agent_id: 'digest',
      trigger: 'manual',
      scheduled_at: at,
      created_at: at,
      started_at: at,
      ended_at: at,
      status: 'failed',
      query: 'Check the disk.',
      attempts: [],
      output: null,
      output_json: null,
      error: { code: 'model_error', message: 'upstream said no' },
      usage: priced(0.0002),
      skip_reason: null,
      lease_owner: null,
      lease_expires_at: null,
    };
    await store.runs.claim(failed);
    await log.append({
      type: 'background_task_error',
      agent_id: 'digest',
      run_id: failed.run_id,
      timestamp: at,
      payload: {
        error: { code: 'model_error', message: 'upstream said no' },
        attempt: 1,
        will_retry: false,
        status: 'failed',
      },
    });

    const series =
      'nightshift_cost_usd_total{agent_id="digest",provider="scripted",model="digest-model"}';
    const text = await waitFor(
      async () => {
        const body = (await api('GET', '/metrics')).body as string;
        return sample(body, 'nightshift_runs_total{agent_id="digest",status="failed"}') === 1
          ? body
          : undefined;
      },
      { what: 'the priced runs to be counted' },
    );
    expect(sample(text, series)).toBeCloseTo(firstCost + 0.0006, 9);
    expect(text).toMatch(/^# HELP nightshift_cost_usd_total \S.+$/m);
    expect(text).toMatch(/^# TYPE nightshift_cost_usd_total counter$/m);
  });

  it('counts no cost for runs without one', async () => {
    const metrics = new FleetMetrics();
    const used = { requests: 1, input_tokens: 3, output_tokens: 1, total_tokens: 4 };
    metrics.recordRunEnded('free', 'completed', 10, used);
    metrics.recordRunEnded(
      'priced',
      'completed',
      10,
      { ...used, cost_usd: 1.25 },
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
      },
    );
    const { text } = await metrics.render();
    expect(text).not.toContain('nightshift_cost_usd_total{agent_id="free"');
    expect(
      sample(
        text,
        'nightshift_cost_usd_total{agent_id="priced",provider="openai",model="gpt-4o-mini"}',
      ),
    ).toBe(1.25);
  });
});
