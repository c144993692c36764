import { describe, expect, it } from 'vitest';
import { REPORTED_AGENT_STATES, RUN_STATUSES } from '../../src/storage/index.js';
import { scriptedAgent, startTestServer, TEST_TOKEN } from './server-fixtures.js';

/** The field paths of a `config_invalid` answer. */
function fieldPaths(body: { error: { fields?: { path: string }[] } }): string[] {
  return (body.error.fields ?? []).map((field) => field.path).sort();
}

describe('HTTP API errors', () => {
  it('answers 400 config_invalid naming every bad field of a definition, and changes nothing', async () => {
    const { api } = await startTestServer();
    const answer = await api('POST', '/api/agents', {
      ...scriptedAgent('bad', { interval: -5 }),
      task_config: {},
      colour: 'red',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('config_invalid');
    expect(fieldPaths(answer.body)).toEqual(['colour', 'interval', 'task_config.query']);
    expect((await api('GET', '/api/agents')).body.agents).toEqual([]);

    await api('POST', '/api/agents', scriptedAgent('good'));
    const patch = await api('PATCH', '/api/agents/good', {
      interval: 0,
      agent_config: { max_steps: -1 },
    });
    expect(patch.status).toBe(400);
    expect(fieldPaths(patch.body)).toEqual(['agent_config.max_steps', 'interval']);
    const rename = await api('PATCH', '/api/agents/good', { agent_id: 'other' });
    expect(fieldPaths(rename.body)).toEqual(['agent_id']);
    expect((await api('GET', '/api/agents/good/definition')).body.interval).toBe(3600);
  });

  it('answers 400 naming the body for malformed JSON or a body of the wrong kind', async () => {
    const { api } = await startTestServer();
    const malformed = await api('POST', '/api/agents', '{"agent_id": "x",');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('config_invalid');
    expect(fieldPaths(malformed.body)).toEqual(['(body)']);
    expect(malformed.body.error.message).toMatch(/valid JSON/);
    expect(fieldPaths((await api('POST', '/api/agents', '[1, 2]')).body)).toEqual(['(body)']);
    expect(fieldPaths((await api('POST', '/api/agents')).body)).toEqual(['(body)']);

    await api('POST', '/api/agents', scriptedAgent('target'));
    expect(fieldPaths((await api('POST', '/api/agents/target/run', '"go"')).body)).toEqual([
      '(body)',
    ]);
    expect(fieldPaths((await api('POST', '/api/agents/target/run', 'nope')).body)).toEqual([
      '(body)',
    ]);
  });

  it('answers 400 naming unknown or bad fields of action bodies', async () => {
    const { api } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('target'));
    const run = await api('POST', '/api/agents/target/run', {
      wait: 'yes',
      query: '',
      force: true,
    });
    expect(run.status).toBe(400);
    expect(fieldPaths(run.body)).toEqual(['force', 'query', 'wait']);
    expect(fieldPaths((await api('POST', '/api/agents/target/stop', { cancel: 1 })).body)).toEqual([
      'cancel',
    ]);
    expect(fieldPaths((await api('POST', '/api/agents/target/pause', { why: 'x' })).body)).toEqual([
      'why',
    ]);
    expect(fieldPaths((await api('POST', '/api/agents/target/start', { now: true })).body)).toEqual(
      ['now'],
    );
    expect((await api('GET', '/api/agents/target')).body.state).toBe('created');
  });

  it('answers 400 naming the bad query parameter or header', async () => {
    const { api } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('target'));
    const cases: [string, string, Record<string, string>?][] = [
      ['/api/agents?state=sleeping', 'state'],
      ['/api/agents/target/runs?limit=0', 'limit'],
      ['/api/agents/target/runs?limit=abc', 'limit'],
      ['/api/agents/target/runs?status=done', 'status'],
      ['/api/agents/target/next-runs?n=1000', 'n'],
      ['/api/agents/target/next-runs?n=-1', 'n'],
      ['/api/agents/target/events?since=yesterday', 'since'],
      ['/api/events', 'Last-Event-ID', { 'Last-Event-ID': 'abc' }],
    ];
    for (const [path, field, headers] of cases) {
      const answer = await api('GET', path, undefined, headers);
      expect({ path, status: answer.status, fields: fieldPaths(answer.body) }).toEqual({
        path,
        status: 400,
        fields: [field],
      });
    }
  });

  it('accepts every word of the vocabulary as a filter, and lists them when refusing one', async () => {
    const { api } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('target'));
    for (const state of REPORTED_AGENT_STATES) {
      expect((await api('GET', `/api/agents?state=${state}`)).status, state).toBe(200);
    }
    expect(
      (await api('GET', `/api/agents/target/runs?status=${RUN_STATUSES.join(',')}`)).status,
    ).toBe(200);
    const badState = await api('GET', '/api/agents?state=sleeping');
    expect(badState.body.error.fields[0].message).toBe(
      `must be one of ${REPORTED_AGENT_STATES.join(', ')}`,
    );
    const badStatus = await api('GET', '/api/agents/target/runs?status=completed,done');
    expect(badStatus.body.error.fields[0].message).toBe(
      `must be one or more of ${RUN_STATUSES.join(', ')}`,
    );
  });

  it('answers 404 agent_not_found on every agent route, run_not_found and not_found', async () => {
    const { api } = await startTestServer();
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/agents/ghost'],
      ['GET', '/api/agents/ghost/definition'],
      ['PATCH', '/api/agents/ghost', { interval: 5 }],
      ['DELETE', '/api/agents/ghost'],
      ['POST', '/api/agents/ghost/start'],
      ['POST', '/api/agents/ghost/pause'],
      ['POST', '/api/agents/ghost/resume'],
      ['POST', '/api/agents/ghost/stop'],
      ['POST', '/api/agents/ghost/run'],
      ['GET', '/api/agents/ghost/next-runs'],
      ['GET', '/api/agents/ghost/runs'],
      ['GET', '/api/agents/ghost/events'],
    ];
    for (const [method, path, body] of routes) {
      const answer = await api(method, path, body);
      expect({ method, path, status: answer.status, code: answer.body.error?.code }).toEqual({
        method,
        path,
        status: 404,
        code: 'agent_not_found',
      });
    }
    const run = await api('GET', '/api/runs/ghost.123');
    expect(run).toMatchObject({ status: 404, body: { error: { code: 'run_not_found' } } });
    const route = await api('GET', '/api/nothing-here');
    expect(route).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('answers 409 agent_exists and invalid_state', async () => {
    const { api } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('taken'));
    const again = await api('POST', '/api/agents', scriptedAgent('taken'));
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'agent_exists' } } });
    const pause = await api('POST', '/api/agents/taken/pause');
    expect(pause).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
    const resume = await api('POST', '/api/agents/taken/resume');
    expect(resume).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
  });

  it('answers 413 payload_too_large for a body over the limit', async () => {
    const { api } = await startTestServer();
    const huge = scriptedAgent('huge', { system_instruction: 'x'.repeat(300 * 1024) });
    const answer = await api('POST', '/api/agents', huge);
    expect(answer).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect((await api('GET', '/api/agents')).body.agents).toEqual([]);

    const small = await startTestServer({ bodyLimitBytes: 1024 });
    const patch = await small.api(
      'POST',
      '/api/agents',
      scriptedAgent('medium', { system_instruction: 'y'.repeat(2048) }),
    );
    expect(patch.status).toBe(413);
  });

  it('answers 500 without leaking internals, and readyz 503 when the stores do not answer', async () => {
    const { api, service, url } = await startTestServer();
    // A store that fails with a message full of internals.
    service.listAgents = () =>
      Promise.reject(new Error('ECONNREFUSED postgres://admin:pw@10.0.0.5/db'));
    const answer = await api('GET', '/api/agents');
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ error: { code: 'internal', message: 'internal server error' } });
    expect(JSON.stringify(answer.body)).not.toContain('postgres');
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).not.toContain('postgres');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(
      (await api('GET', '/metrics', undefined, { Authorization: `Bearer ${TEST_TOKEN}` })).status,
    ).toBe(500);
  });
});
