import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { openEventStream, scriptedAgent, startTestServer, TEST_TOKEN } from './server-fixtures.js';

describe('HTTP API routes', () => {
  it('creates, lists, reads, updates and deletes agents', async () => {
    const { api } = await startTestServer();
    const created = await api('POST', '/api/agents', scriptedAgent('disk_check'));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/agents/disk_check');
    expect(created.body).toMatchObject({ agent_id: 'disk_check', state: 'created', run_count: 0 });
    await api('POST', '/api/agents', scriptedAgent('news_digest'));
    await api('POST', '/api/agents/news_digest/start');

    const all = await api('GET', '/api/agents');
    expect(all.status).toBe(200);
    expect(all.body.agents.map((agent: { agent_id: string }) => agent.agent_id)).toEqual([
      'disk_check',
      'news_digest',
    ]);
    const active = await api('GET', '/api/agents?state=active');
    expect(active.body.agents.map((agent: { agent_id: string }) => agent.agent_id)).toEqual([
      'news_digest',
    ]);

    const status = await api('GET', '/api/agents/disk_check');
    expect(status).toMatchObject({
      status: 200,
      body: { agent_id: 'disk_check', state: 'created' },
    });

    const definition = await api('GET', '/api/agents/disk_check/definition');
    expect(definition.status).toBe(200);
    expect(definition.body).toMatchObject({
      agent_id: 'disk_check',
      interval: 3600,
      task_config: { query: 'Check the disk.', max_retries: 0 },
    });

    const updated = await api('PATCH', '/api/agents/disk_check', { interval: 120 });
    expect(updated).toMatchObject({ status: 200, body: { schedule: { interval: 120 } } });
    expect((await api('GET', '/api/agents/disk_check/definition')).body.interval).toBe(120);

    const deleted = await api('DELETE', '/api/agents/disk_check');
    expect(deleted.status).toBe(204);
    expect((await api('GET', '/api/agents/disk_check')).status).toBe(404);
  });

  it('hides credentials in a definition', async () => {
    const { api } = await startTestServer();
    await api(
      'POST',
      '/api/agents',
      scriptedAgent('with_mcp', {
        mcp_tools: [
          {
            name: 'files',
            transport_type: 'streamable_http',
            url: 'https://user:hunter2pass@mcp.example.com/mcp',
            headers: { Authorization: 'Bearer sk-live-abcdef' },
            env: { API_KEY: 'sk-live-123456' },
          },
        ],
      }),
    );
    const definition = await api('GET', '/api/agents/with_mcp/definition');
    const text = JSON.stringify(definition.body);
    expect(text).not.toContain('sk-live');
    expect(text).not.toContain('hunter2pass');
    expect(definition.body.mcp_tools[0]).toMatchObject({
      headers: { Authorization: '[redacted]' },
      env: { API_KEY: '[redacted]' },
    });
  });

  it('starts, pauses, resumes and stops an agent', async () => {
    const { api } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('cycle'));
    expect((await api('POST', '/api/agents/cycle/start')).body).toMatchObject({ state: 'active' });
    expect(
      (await api('POST', '/api/agents/cycle/pause', { reason: 'maintenance window' })).body,
    ).toMatchObject({ state: 'paused', pause_reason: 'maintenance window' });
    expect((await api('POST', '/api/agents/cycle/resume', {})).body).toMatchObject({
      state: 'active',
      pause_reason: null,
    });
    const stopped = await api('POST', '/api/agents/cycle/stop', { cancel: true });
    expect(stopped).toMatchObject({ status: 200, body: { state: 'stopped' } });
  });

  it('runs an agent now, reports the run with its steps, and lists runs and next fire times', async () => {
    const { api } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('runner'));
    const waited = await api('POST', '/api/agents/runner/run', {
      wait: true,
      query: 'Check /tmp.',
    });
    expect(waited).toMatchObject({
      status: 200,
      body: {
        agent_id: 'runner',
        trigger: 'manual',
        status: 'completed',
        query: 'Check /tmp.',
        output: 'runner says ok',
      },
    });

    const dispatched = await api('POST', '/api/agents/runner/run');
    expect(dispatched.status).toBe(202);
    expect(dispatched.body.ended_at).toBeNull();
    await waitFor(
      async () => (await api('GET', `/api/runs/${dispatched.body.run_id}`)).body.ended_at,
    );

    const run = await api('GET', `/api/runs/${waited.body.run_id}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ run_id: waited.body.run_id, status: 'completed' });
    expect(run.body.steps).toEqual([
      expect.objectContaining({ kind: 'model_call', state: 'completed', attempt: 1 }),
    ]);

    const runs = await api('GET', '/api/agents/runner/runs?limit=1');
    expect(runs.body.runs).toHaveLength(1);
    const completed = await api('GET', '/api/agents/runner/runs?status=completed,failed');
    expect(completed.body.runs).toHaveLength(2);
    expect((await api('GET', '/api/agents/runner/runs?status=failed')).body.runs).toEqual([]);

    const next = await api('GET', '/api/agents/runner/next-runs?n=3');
    expect(next.status).toBe(200);
    expect(next.body.agent_id).toBe('runner');
    expect(next.body.next_runs).toHaveLength(3);
    expect(Date.parse(next.body.next_runs[1]) - Date.parse(next.body.next_runs[0])).toBe(3_600_000);
    expect((await api('GET', '/api/agents/runner/next-runs')).body.next_runs).toHaveLength(5);
  });

  it("streams an agent's events and the fleet's as server-sent events", async () => {
    const { api, url } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('one'));
    await api('POST', '/api/agents', scriptedAgent('two'));
    const auth = { Authorization: `Bearer ${TEST_TOKEN}` };
    const agentStream = await openEventStream(`${url}/api/agents/one/events`, auth);
    const fleetStream = await openEventStream(`${url}/api/events`, auth);
    expect(agentStream.status).toBe(200);
    await api('POST', '/api/agents/two/run', { wait: true });
    await api('POST', '/api/agents/one/run', { wait: true });

    const first = await agentStream.next();
    expect(first.event).toMatchObject({ agent_id: 'one', type: 'background_task_started' });
    expect(first.id).toBe(first.event.id);
    const fleetAgents = new Set<string>();
    while (fleetAgents.size < 2) fleetAgents.add((await fleetStream.next()).event.agent_id);
    expect([...fleetAgents].sort()).toEqual(['one', 'two']);
  });

  it('answers the health probes and serves its OpenAPI document without a token', async () => {
    const { url } = await startTestServer();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const openapi = await fetch(`${url}/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { openapi: string }).openapi).toBe('3.1.0');
  });
});
