import { describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { schemaProblems, type Schema } from './json-schema-check.js';
import {
  onCleanup,
  scriptedAgent,
  startTestServer,
  type ApiAnswer,
  type TestServer,
} from './server-fixtures.js';

interface Document {
  paths: Record<
    string,
    Record<
      string,
      {
        tags: string[];
        requestBody?: { content: Record<string, { schema: Schema }> };
        responses: Record<string, { $ref?: string; content?: Record<string, { schema: Schema }> }>;
      }
    >
  >;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  };
}

/** A managing service on in-memory stores with a tag's and the fleet's budgets, and its server. */
async function budgetedServer(
  options: { token?: string; now?: () => Date } = {},
): Promise<TestServer> {
  const { now, ...serverOptions } = options;
  const service = new BackgroundAgentService(
    new MemoryRouter('in_memory'),
    new EventRouter('in_memory'),
    {
      budgets: {
        fleet: { per_month: { tokens: 1_000_000 } },
        tags: { nightly: { per_day: { usd: 5 } } },
      },
      ...(now ? { now } : {}),
    },
  );
  await service.startManager();
  onCleanup(() => service.shutdown({ timeout: 1000 }));
  const server = await startTestServer(serverOptions, service);
  const created = await server.api(
    'POST',
    '/api/agents',
    scriptedAgent('archiver', { budget_config: { per_day: { requests: 10 } } }),
  );
  expect(created.status).toBe(201);
  return server;
}

const grantBody = (overrides: Record<string, unknown> = {}) => ({
  scope: { agent_id: 'archiver' },
  window: 'per_day',
  requests: 5,
  by: 'alice',
  note: 'the quarterly archive is big',
  ...overrides,
});

/** The field paths a 400 names. */
const fieldsOf = (answer: ApiAnswer): string[] =>
  (answer.body.error.fields as { path: string }[]).map((field) => field.path);

describe('budgets over the API', () => {
  it("lists each agent's, tag's and the fleet's budget, and what a run spent of it", async () => {
    const { api } = await budgetedServer();
    const before = await api('GET', '/api/budgets');
    expect(before.status).toBe(200);
    expect(before.body.grants).toEqual([]);
    const summary = (answer: ApiAnswer) =>
      (answer.body.budgets as { scope: string; name: string | null; window: string }[]).map(
        ({ scope, name, window }) => `${scope} ${name} ${window}`,
      );
    expect(summary(before).sort()).toEqual([
      'agent archiver per_day',
      'fleet null per_month',
      'tag nightly per_day',
    ]);
    const zero = { usd: 0, tokens: 0, requests: 0, tool_calls: 0 };
    const archiverBudget = (answer: ApiAnswer) =>
      (answer.body.budgets as { scope: string; resets_at: string }[]).find(
        (budget) => budget.scope === 'agent',
      );
    expect(archiverBudget(before)).toEqual({
      scope: 'agent',
      name: 'archiver',
      window: 'per_day',
      budget: expect.stringMatching(/^agent:archiver:per_day:\d{4}-\d\d-\d\d$/),
      resets_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT00:00:00\.000Z$/),
      limits: { requests: 10 },
      spent: zero,
      held: zero,
      granted: zero,
    });
    expect(Date.parse(archiverBudget(before)!.resets_at)).toBeGreaterThan(Date.now());

    const run = await api('POST', '/api/agents/archiver/run', { wait: true });
    expect(run.body.status).toBe('completed');
    const after = await api('GET', '/api/budgets');
    expect(archiverBudget(after)).toMatchObject({
      spent: { requests: 1, tool_calls: 0 },
      held: zero,
      granted: zero,
    });
    // The fleet's budget counts every agent's runs; the tag's only its agents'.
    const fleet = (after.body.budgets as { scope: string; spent: { tokens: number } }[]).find(
      (budget) => budget.scope === 'fleet',
    );
    expect(fleet?.spent.tokens).toBe(run.body.usage.total_tokens);
  });

  it('grants more with the token, keeps the grant in the ledger, and refuses without the token', async () => {
    const { api, url } = await budgetedServer();
    const refused = await fetch(`${url}/api/budgets/grants`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(grantBody()),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await api('POST', '/api/budgets/grants', grantBody(), {
      Authorization: 'Bearer wrong',
    });
    expect(wrong.status).toBe(401);
    expect((await api('GET', '/api/budgets')).body.grants).toEqual([]);
    expect((await fetch(`${url}/api/budgets`, { headers: { Authorization: '' } })).status).toBe(
      401,
    );

    const granted = await api('POST', '/api/budgets/grants', grantBody());
    expect(granted.status).toBe(201);
    expect(granted.body.grant).toMatchObject({
      grant_id: expect.any(String),
      budget: expect.stringMatching(/^agent:archiver:per_day:/),
      scope: 'agent',
      name: 'archiver',
      window: 'per_day',
      usd: 0,
      tokens: 0,
      requests: 5,
      tool_calls: 0,
      by: 'alice',
      note: 'the quarterly archive is big',
    });
    expect(granted.body.budget).toMatchObject({
      budget: granted.body.grant.budget,
      limits: { requests: 10 },
      granted: { requests: 5 },
      resets_at: granted.body.grant.resets_at,
    });

    const fleetGrant = await api(
      'POST',
      '/api/budgets/grants',
      grantBody({ scope: { fleet: true }, window: 'per_month', requests: undefined, tokens: 500 }),
    );
    expect(fleetGrant.status).toBe(201);
    expect(fleetGrant.body.grant).toMatchObject({ scope: 'fleet', name: null, tokens: 500 });
    const tagGrant = await api(
      'POST',
      '/api/budgets/grants',
      grantBody({ scope: { tag: 'nightly' }, requests: undefined, usd: 2.5 }),
    );
    expect(tagGrant.status).toBe(201);
    expect(tagGrant.body.budget).toMatchObject({
      scope: 'tag',
      name: 'nightly',
      limits: { usd: 5 },
      granted: { usd: 2.5 },
    });

    const listed = await api('GET', '/api/budgets');
    // Newest first.
    expect(listed.body.grants.map((grant: { grant_id: string }) => grant.grant_id)).toEqual([
      tagGrant.body.grant.grant_id,
      fleetGrant.body.grant.grant_id,
      granted.body.grant.grant_id,
    ]);
    const archiver = listed.body.budgets.find(
      (budget: { scope: string }) => budget.scope === 'agent',
    );
    expect(archiver.granted.requests).toBe(5);
  });

  it('takes grants on a server without a token on loopback, as the other changes', async () => {
    const { api } = await budgetedServer({ token: '' });
    const granted = await api('POST', '/api/budgets/grants', grantBody());
    expect(granted.status).toBe(201);
  });

  it('names each bad field of a grant, and refuses a grant of a budget that is not there', async () => {
    const { api } = await budgetedServer();
    const post = (body: unknown) => api('POST', '/api/budgets/grants', body);

    const empty = await post({});
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('config_invalid');
    expect(fieldsOf(empty)).toEqual(expect.arrayContaining(['scope', 'window', 'by', 'note']));

    const cases: Array<[Record<string, unknown>, string]> = [
      [grantBody({ scope: { agent: 'archiver' } }), 'scope'],
      [grantBody({ scope: 'archiver' }), 'scope'],
      [grantBody({ window: 'per_week' }), 'window'],
      [grantBody({ window: 'per_run' }), 'window'],
      [grantBody({ usd: -1 }), 'usd'],
      [grantBody({ requests: 1.5 }), 'requests'],
      [grantBody({ tokens: 'many' }), 'tokens'],
      [grantBody({ by: '' }), 'by'],
      [grantBody({ note: '  ' }), 'note'],
      [grantBody({ requests: undefined }), 'usd'],
      [grantBody({ colour: 'red' }), 'colour'],
    ];
    for (const [body, field] of cases) {
      const answer = await post(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('config_invalid');
      expect(fieldsOf(answer), JSON.stringify(body)).toContain(field);
      expect(answer.body.error.message).toContain(field);
    }
    const notObject = await post('[1, 2]');
    expect(notObject.status).toBe(400);
    expect(fieldsOf(notObject)).toEqual(['(body)']);
    const notJson = await post('{"scope":');
    expect(notJson.status).toBe(400);
    expect(fieldsOf(notJson)).toEqual(['(body)']);
    const asText = await api('POST', '/api/budgets/grants', JSON.stringify(grantBody()), {
      'Content-Type': 'text/plain',
    });
    expect(asText.status).toBe(415);

    const nobody = await post(grantBody({ scope: { agent_id: 'nobody' } }));
    expect(nobody.status).toBe(404);
    expect(nobody.body.error.code).toBe('agent_not_found');

    // The agent has a day's budget only; no tag "weekly" has one at all.
    const noMonth = await post(grantBody({ window: 'per_month' }));
    expect(noMonth.status).toBe(409);
    expect(noMonth.body.error).toMatchObject({ code: 'invalid_state' });
    expect(noMonth.body.error.message).toContain('per_month');
    const noTag = await post(grantBody({ scope: { tag: 'weekly' } }));
    expect(noTag.status).toBe(409);
    expect((await api('GET', '/api/budgets')).body.grants).toEqual([]);
  });

  it('answers as /openapi.json describes, under the budgets tag', async () => {
    const { api, url } = await budgetedServer();
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as Document;
    const conforms = (method: string, path: string, answer: ApiAnswer) => {
      const operation = document.paths[path]?.[method];
      expect(operation?.tags, `${method} ${path}`).toEqual(['budgets']);
      let response = operation?.responses[String(answer.status)];
      expect(response, `${method} ${path} answered ${answer.status}`).toBeDefined();
      if (response?.$ref) {
        response = document.components.responses[response.$ref.split('/').pop()!];
      }
      const schema = response?.content?.['application/json']?.schema;
      expect(schema, `${method} ${path} ${answer.status}`).toBeDefined();
      expect(schemaProblems(answer.body, schema!, document), `${method} ${path}`).toEqual([]);
    };
    await api('POST', '/api/agents/archiver/run', { wait: true });
    conforms('get', '/api/budgets', await api('GET', '/api/budgets'));
    const post = (body: unknown, headers?: Record<string, string>) =>
      api('POST', '/api/budgets/grants', body, headers);
    conforms('post', '/api/budgets/grants', await post(grantBody()));
    conforms(
      'post',
      '/api/budgets/grants',
      await post(grantBody({ scope: { fleet: true }, window: 'per_month', tokens: 10 })),
    );
    conforms('get', '/api/budgets', await api('GET', '/api/budgets'));
    conforms('post', '/api/budgets/grants', await post({}));
    conforms('post', '/api/budgets/grants', await post(grantBody({ scope: { agent_id: 'x' } })));
    conforms('post', '/api/budgets/grants', await post(grantBody({ window: 'per_month' })));
    conforms(
      'post',
      '/api/budgets/grants',
      await post(grantBody(), { Authorization: 'Bearer wrong' }),
    );

    // The body the document describes is what the service takes, and no more.
    const body = document.paths['/api/budgets/grants']?.post?.requestBody?.content[
      'application/json'
    ]?.schema as Schema;
    expect(schemaProblems(grantBody(), body, document)).toEqual([]);
    expect(schemaProblems(grantBody({ scope: { tag: 'nightly' } }), body, document)).toEqual([]);
    expect(schemaProblems(grantBody({ colour: 'red' }), body, document)).not.toEqual([]);
    expect(schemaProblems(grantBody({ window: 'per_week' }), body, document)).not.toEqual([]);
    // The check bites: a budget with a field the document does not name fails it.
    const listed = (await api('GET', '/api/budgets')).body;
    expect(
      schemaProblems(
        { ...listed, budgets: [{ ...listed.budgets[0], colour: 'red' }] },
        { $ref: '#/components/schemas/Budgets' },
        document,
      ),
    ).toEqual(['$.budgets[0]: unexpected property colour']);
  });

  it('takes expires_at: the grant counts until then, the listing says when it expired, and budget_granted is in the log', async () => {
    let now = new Date('2026-12-03T10:00:00.000Z');
    const { api, url } = await budgetedServer({ now: () => now });
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as Document;
    const conforms = (value: unknown, component: string) =>
      expect(
        schemaProblems(value, { $ref: `#/components/schemas/${component}` }, document),
        component,
      ).toEqual([]);
    const body = document.paths['/api/budgets/grants']?.post?.requestBody?.content[
      'application/json'
    ]?.schema as Schema;
    const expiring = grantBody({ expires_at: '2026-12-03T12:30:00+02:00' });
    expect(schemaProblems(expiring, body, document)).toEqual([]);

    const granted = await api('POST', '/api/budgets/grants', expiring);
    expect(granted.status).toBe(201);
    conforms(granted.body, 'BudgetGrant');
    expect(granted.body.grant).toMatchObject({
      budget: 'agent:archiver:per_day:2026-12-03',
      requests: 5,
      expires_at: '2026-12-03T10:30:00.000Z',
      expired_at: null,
      resets_at: '2026-12-04T00:00:00.000Z',
    });
    expect(granted.body.budget.granted.requests).toBe(5);
    const before = await api('GET', '/api/budgets');
    conforms(before.body, 'Budgets');
    expect(before.body.grants[0]).toMatchObject({ expires_at: '2026-12-03T10:30:00.000Z' });

    now = new Date('2026-12-03T10:30:00.000Z');
    const after = await api('GET', '/api/budgets');
    conforms(after.body, 'Budgets');
    expect(after.body.grants).toEqual([
      { ...granted.body.grant, expired_at: '2026-12-03T10:30:00.000Z' },
    ]);
    const archiver = after.body.budgets.find(
      (budget: { scope: string }) => budget.scope === 'agent',
    );
    expect(archiver.granted.requests).toBe(0);

    const events = await api('GET', '/api/events?since=0', undefined, {
      Accept: 'application/json',
    });
    const announced = (events.body.events as { type: string }[]).filter(
      (event) => event.type === 'budget_granted',
    );
    expect(announced).toEqual([
      expect.objectContaining({
        agent_id: 'archiver',
        run_id: null,
        payload: expect.objectContaining({
          grant_id: granted.body.grant.grant_id,
          budget: 'agent:archiver:per_day:2026-12-03',
          expires_at: '2026-12-03T10:30:00.000Z',
          by: 'alice',
        }),
      }),
    ]);
    conforms(announced[0], 'Event');

    for (const bad of ['soon', '2026-12-03T11:00:00', '2026-12-03T10:30:00Z', 42]) {
      const answer = await api('POST', '/api/budgets/grants', grantBody({ expires_at: bad }));
      expect(answer.status, String(bad)).toBe(400);
      expect(answer.body.error.code).toBe('config_invalid');
      expect(fieldsOf(answer), String(bad)).toEqual(['expires_at']);
      expect(answer.body.error.message).toContain('expires_at');
    }
    expect((await api('GET', '/api/budgets')).body.grants).toHaveLength(1);
  });
});
