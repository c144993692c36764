/**
 * The operator inbox over HTTP: `/inbox` is a public shell like the other pages, every page's
 * header links to it, and `GET /api/inbox` (what the inbox lists, and the header's count) is
 * token-guarded and answers as the OpenAPI document says, with real waiting runs behind it.
 */
import { describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  type ToolDefinition,
} from '../../src/index.js';
import { grantTargetOf } from '../../src/server/dashboard/inbox.js';
import { schemaProblems, type Schema } from './json-schema-check.js';
import { onCleanup, scriptedAgent, startTestServer, TEST_TOKEN } from './server-fixtures.js';

const writeNote: ToolDefinition<{ path: string }> = {
  description: 'Writes a note to a file.',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  execute: ({ path }) => ({ written: path }),
};

/** A managing service on in-memory stores with the `write_note` tool. */
async function serviceWithNotes(): Promise<BackgroundAgentService> {
  const service = new BackgroundAgentService(
    new MemoryRouter('in_memory'),
    new EventRouter('in_memory'),
    { tools: { write_note: writeNote as ToolDefinition<never> } },
  );
  await service.startManager();
  onCleanup(() => service.shutdown({ timeout: 1000 }));
  return service;
}

const writesNote = (path: string) => ({
  tools: ['write_note'],
  model_config: {
    provider: 'scripted',
    script: [{ tool: 'write_note', args: { path } }, { answer: 'done' }],
  },
});

describe('the operator inbox over HTTP', () => {
  it('serves /inbox as a public shell, and every page links to it from its header', async () => {
    const { url } = await startTestServer();
    const inbox = await fetch(`${url}/inbox`);
    expect(inbox.status).toBe(200);
    expect(inbox.headers.get('content-type')).toMatch(/text\/html/);
    expect(inbox.headers.get('content-security-policy')).toMatch(/'nonce-/);
    const text = await inbox.text();
    for (const id of ['approvals', 'budget-waits', 'paused-agents', 'operator-name']) {
      expect(text).toContain(`id="${id}"`);
    }
    expect(text).not.toContain(TEST_TOKEN);
    for (const path of ['/', '/inbox', '/agents/disk_check', '/runs/disk_check.manual-1']) {
      const page = await (await fetch(url + path)).text();
      expect(page, path).toMatch(/<a id="inbox-link" href="\/inbox"/);
      expect(page, path).toContain('id="inbox-count"');
    }
  });

  it('guards GET /api/inbox with the token', async () => {
    const { api } = await startTestServer();
    const refused = await api('GET', '/api/inbox', undefined, { Authorization: '' });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'unauthorized' } });
    const wrong = await api('GET', '/api/inbox', undefined, { Authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const empty = await api('GET', '/api/inbox');
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({
      counts: { approvals: 0, budget_waits: 0, paused_agents: 0, total: 0 },
      approvals: [],
      budget_waits: [],
      paused_agents: [],
    });
  });

  it('lists pending approvals, runs waiting for budget and auto-paused agents, as documented', async () => {
    const service = await serviceWithNotes();
    const { api, url } = await startTestServer({}, service);
    await service.create(
      scriptedAgent('scribe', {
        ...writesNote('notes.txt'),
        agent_config: { approvals: [{ tools: ['write_note'], timeout: 600 }] },
      }),
    );
    await service.create(
      scriptedAgent('spender', {
        ...writesNote('spend.txt'),
        budget_config: { per_day: { requests: 1 }, on_exhausted: 'wait' },
      }),
    );
    await service.create(
      scriptedAgent('flaky', {
        auto_pause_after_failures: 1,
        model_config: { provider: 'scripted', script: [{ fail: 'upstream returned 503' }] },
        task_config: { query: 'Check.', max_retries: 0 },
      }),
    );
    // A person's pause is theirs to lift: not in the inbox.
    await service.create(scriptedAgent('resting'));
    await service.startAgent('resting');
    await service.pauseAgent('resting', { reason: 'maintenance' });
    await service.startAgent('flaky');
    const approving = await service.runNow('scribe', { wait: true });
    const spending = await service.runNow('spender', { wait: true });
    expect([approving.status, spending.status]).toEqual(['awaiting_approval', 'awaiting_budget']);
    expect((await service.runNow('flaky', { wait: true })).status).toBe('failed');

    const answer = await api('GET', '/api/inbox');
    expect(answer.status).toBe(200);
    const inbox = answer.body;
    expect(inbox.counts).toEqual({ approvals: 1, budget_waits: 1, paused_agents: 1, total: 3 });
    expect(inbox.approvals).toMatchObject([
      {
        run_id: approving.run_id,
        agent_id: 'scribe',
        tool_name: 'write_note',
        arguments: { path: 'notes.txt' },
        state: 'pending',
      },
    ]);
    expect(inbox.budget_waits).toMatchObject([
      {
        run_id: spending.run_id,
        agent_id: 'spender',
        error: {
          code: 'budget.agent.per_day.requests',
          budget: { window: 'per_day', dimension: 'requests' },
        },
        grant: { scope: { agent_id: 'spender' }, window: 'per_day' },
      },
    ]);
    expect(inbox.paused_agents).toMatchObject([
      {
        agent_id: 'flaky',
        consecutive_failures: 1,
        last_run_status: 'failed',
        last_error: { code: 'model_error', message: 'upstream returned 503' },
      },
    ]);
    expect(inbox.paused_agents[0].pause_reason).toMatch(/^auto-paused after 1 /);

    const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, Schema> };
    };
    const response = document.paths['/api/inbox']?.get?.responses['200'] as {
      content: { 'application/json': { schema: Schema } };
    };
    expect(schemaProblems(inbox, response.content['application/json'].schema, document)).toEqual(
      [],
    );

    // The grant the inbox names wakes the run; deciding the approval ends that wait too.
    expect(
      (
        await api('POST', '/api/budgets/grants', {
          ...inbox.budget_waits[0].grant,
          requests: 1,
          by: 'ana',
          note: 'one more',
        })
      ).status,
    ).toBe(201);
    await api(
      'POST',
      `/api/approvals/${encodeURIComponent(inbox.approvals[0].approval_id)}/approve`,
      {
        by: 'ana',
      },
    );
    await api('POST', '/api/agents/flaky/resume');
    await expect
      .poll(async () => (await api('GET', '/api/inbox')).body.counts.total, { timeout: 10_000 })
      .toBe(0);
  });

  it('names the grant that raises the budget a run waits on, from its counter', () => {
    const stop = (budget: string, window: 'per_run' | 'per_day' | 'per_month' = 'per_day') => ({
      budget,
      window,
      dimension: 'usd' as const,
      asked: 0.5,
      resets_at: '2026-12-04T00:00:00.000Z',
    });
    expect(grantTargetOf(stop('agent:archiver:per_day:2026-12-03'))).toEqual({
      scope: { agent_id: 'archiver' },
      window: 'per_day',
    });
    expect(grantTargetOf(stop('tag:nightly:per_month:2026-12', 'per_month'))).toEqual({
      scope: { tag: 'nightly' },
      window: 'per_month',
    });
    expect(grantTargetOf(stop('fleet:per_day:2026-12-03'))).toEqual({
      scope: { fleet: true },
      window: 'per_day',
    });
    expect(grantTargetOf(stop('run:archiver.manual-1', 'per_run'))).toBeNull();
    expect(grantTargetOf(undefined)).toBeNull();
  });
});
