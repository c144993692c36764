import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { scriptedAgent, startTestServer } from './server-fixtures.js';

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
});
