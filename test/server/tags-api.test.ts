import { describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { schemaProblems, type Schema } from './json-schema-check.js';
import { onCleanup, scriptedAgent, startTestServer, type ApiAnswer } from './server-fixtures.js';

interface Document {
  components: { schemas: Record<string, Schema> };
}

const NOW = Date.parse('2031-03-01T08:00:00.000Z');

/** A managing service on in-memory stores at a fixed time, its server, and a tagged fleet. */
async function taggedServer() {
  const service = new BackgroundAgentService(
    new MemoryRouter('in_memory'),
    new EventRouter('in_memory'),
    { now: () => new Date(NOW) },
  );
  await service.startManager();
  onCleanup(() => service.shutdown({ timeout: 1000 }));
  const server = await startTestServer({}, service);
  const define = async (agentId: string, tags: string[]) => {
    expect((await server.api('POST', '/api/agents', scriptedAgent(agentId, { tags }))).status).toBe(
      201,
    );
    expect((await server.api('POST', `/api/agents/${agentId}/start`)).status).toBe(200);
  };
  await define('loader', ['nightly']);
  await define('reporter', ['nightly', 'reports']);
  await define('watcher', []);
  const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as Document;
  const conforms = (answer: ApiAnswer, component: string) =>
    expect(
      schemaProblems(answer.body, { $ref: `#/components/schemas/${component}` }, document),
      component,
    ).toEqual([]);
  return { ...server, conforms };
}

const fieldsOf = (answer: ApiAnswer): string[] =>
  (answer.body.error.fields as { path: string }[]).map((field) => field.path);

describe('pause notes over the API', () => {
  it('pauses with why, who and until when, shown in the status; resume clears them', async () => {
    const { api, conforms } = await taggedServer();
    const paused = await api('POST', '/api/agents/loader/pause', {
      reason: 'warehouse migration',
      by: 'ana',
      until: '2031-03-01T20:00:00+01:00',
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({
      state: 'paused',
      pause_reason: 'warehouse migration',
      paused_by: 'ana',
      paused_until: '2031-03-01T19:00:00.000Z',
      tags: ['nightly'],
    });
    conforms(paused, 'AgentStatus');
    const status = await api('GET', '/api/agents/loader');
    expect(status.body).toMatchObject({
      paused_by: 'ana',
      paused_until: '2031-03-01T19:00:00.000Z',
    });
    conforms(status, 'AgentStatus');
    const resumed = await api('POST', '/api/agents/loader/resume');
    expect(resumed.body).toMatchObject({ state: 'active', paused_by: null, paused_until: null });
  });

  it('refuses a bad or past until, and unknown fields, naming them', async () => {
    const { api } = await taggedServer();
    for (const [body, field] of [
      [{ until: 'soon' }, 'until'],
      [{ until: '2031-03-01T07:59:59Z' }, 'until'],
      [{ until: 1_900_000_000_000 }, 'until'],
      [{ by: '' }, 'by'],
      [{ who: 'ana' }, 'who'],
    ] as const) {
      const refused = await api('POST', '/api/agents/loader/pause', body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error.code).toBe('config_invalid');
      expect(fieldsOf(refused)).toEqual([field]);
    }
    const past = await api('POST', '/api/agents/loader/pause', { until: '2031-03-01T07:00:00Z' });
    expect(past.body.error.message).toContain('must be in the future');
    expect((await api('GET', '/api/agents/loader')).body.state).toBe('active');
  });
});

describe('tags over the API', () => {
  it('lists the agents with a tag, and refuses a bad one naming it', async () => {
    const { api } = await taggedServer();
    const nightly = await api('GET', '/api/agents?tag=nightly');
    expect(nightly.status).toBe(200);
    expect(nightly.body.agents.map((agent: { agent_id: string }) => agent.agent_id)).toEqual([
      'loader',
      'reporter',
    ]);
    const both = await api('GET', '/api/agents?tag=nightly&state=active');
    expect(both.body.agents).toHaveLength(2);
    expect((await api('GET', '/api/agents?tag=nobody')).body.agents).toEqual([]);
    const bad = await api('GET', `/api/agents?tag=${encodeURIComponent('no spaces')}`);
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad)).toEqual(['tag']);
  });

  it('pauses, resumes and runs every agent with a tag, answering per agent', async () => {
    const { api, conforms } = await taggedServer();
    const paused = await api('POST', '/api/tags/nightly/pause', {
      reason: 'warehouse migration',
      by: 'ana',
      until: '2031-03-02T08:00:00Z',
    });
    expect(paused.status).toBe(200);
    conforms(paused, 'TagActionResult');
    expect(paused.body).toMatchObject({
      tag: 'nightly',
      action: 'pause',
      agents: [
        { agent_id: 'loader', result: 'done', state: 'paused', error: null },
        { agent_id: 'reporter', result: 'done', state: 'paused', error: null },
      ],
    });
    const reporter = (await api('GET', '/api/agents/reporter')).body;
    expect(reporter).toMatchObject({
      pause_reason: 'warehouse migration',
      paused_by: 'ana',
      paused_until: '2031-03-02T08:00:00.000Z',
    });
    expect((await api('GET', '/api/agents/watcher')).body.state).toBe('active');

    const resumed = await api('POST', '/api/tags/reports/resume');
    conforms(resumed, 'TagActionResult');
    expect(resumed.body.agents).toEqual([
      { agent_id: 'reporter', result: 'done', state: 'active', run: null, error: null },
    ]);

    const ran = await api('POST', '/api/tags/nightly/run', { query: 'Once more.' });
    expect(ran.status).toBe(200);
    conforms(ran, 'TagActionResult');
    expect(
      ran.body.agents.map((agent: { agent_id: string; result: string; run: { query: string } }) => [
        agent.agent_id,
        agent.result,
        agent.run.query,
      ]),
    ).toEqual([
      ['loader', 'done', 'Once more.'],
      ['reporter', 'done', 'Once more.'],
    ]);

    const again = await api('POST', '/api/tags/nightly/resume', {});
    expect(again.body.agents.map((agent: { result: string }) => agent.result)).toEqual([
      'done',
      'unchanged',
    ]);
    expect((await api('POST', '/api/tags/nobody/pause')).body).toEqual({
      tag: 'nobody',
      action: 'pause',
      agents: [],
    });
  });

  it('refuses a bad tag or body, naming the field, and changes nothing', async () => {
    const { api } = await taggedServer();
    const badTag = await api('POST', `/api/tags/${encodeURIComponent('a b')}/pause`);
    expect(badTag.status).toBe(400);
    expect(fieldsOf(badTag)).toEqual(['tag']);
    const badNote = await api('POST', '/api/tags/nightly/pause', { until: 'later' });
    expect(badNote.status).toBe(400);
    expect(fieldsOf(badNote)).toEqual(['until']);
    const badRun = await api('POST', '/api/tags/nightly/run', { wait: true });
    expect(badRun.status).toBe(400);
    expect(fieldsOf(badRun)).toEqual(['wait']);
    const badResume = await api('POST', '/api/tags/nightly/resume', { force: true });
    expect(fieldsOf(badResume)).toEqual(['force']);
    const states = (await api('GET', '/api/agents')).body.agents.map(
      (agent: { state: string }) => agent.state,
    );
    expect(states).toEqual(['active', 'active', 'active']);
  });
});
