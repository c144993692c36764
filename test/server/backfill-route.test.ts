/**
 * `POST /api/agents/{agent_id}/backfill` over a real server: a dry run's plan, the ticks that
 * fit started in the background (202), each bad body field named (400), and every answer as
 * `/openapi.json` describes it.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { schemaProblems, type Schema } from './json-schema-check.js';
import {
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

const HOUR = 3_600_000;
const PATH = '/api/agents/{agent_id}/backfill';

/**
 * A server whose agent `archiver` runs hourly, two model requests a run, with five requests a
 * day: after the run that prices the ticks, three are left, one run's worth.
 */
async function backfillServer(): Promise<TestServer & { created: number }> {
  const server = await startTestServer();
  const created = await server.api(
    'POST',
    '/api/agents',
    scriptedAgent('archiver', {
      budget_config: { per_day: { requests: 5 } },
      tools: ['system_stats'],
      model_config: {
        provider: 'scripted',
        script: [{ tool: 'system_stats' }, { answer: 'archived' }],
      },
    }),
  );
  expect(created.status).toBe(201);
  const run = await server.api('POST', '/api/agents/archiver/run', { wait: true });
  expect(run.body.status).toBe('completed');
  return { ...server, created: Date.parse(created.body.created_at) };
}

/** `hours` hours before `at` (negative: after), as an ISO instant. */
const hoursBefore = (at: number, hours: number) => new Date(at - hours * HOUR).toISOString();

/** The field paths a 400 names. */
const fieldsOf = (answer: ApiAnswer): string[] =>
  (answer.body.error.fields as { path: string }[]).map((field) => field.path);

describe('POST /api/agents/{agent_id}/backfill', () => {
  it('plans on a dry run, then starts the ticks that fit and answers 202', async () => {
    const { api, created } = await backfillServer();
    const range = { from: hoursBefore(created, 3.5), to: hoursBefore(created, 0.5) };

    const planned = await api('POST', '/api/agents/archiver/backfill', { ...range, dry_run: true });
    expect(planned.status).toBe(200);
    expect(planned.body.ticks.map((tick: { status: string }) => tick.status)).toEqual([
      'fits',
      'over_budget',
      'over_budget',
    ]);
    expect(planned.body.estimate).toEqual({
      runs: 1,
      per_run: { cost_usd: null, total_tokens: expect.any(Number), requests: 2, tool_calls: null },
    });
    expect(planned.body.budgets).toEqual([
      expect.objectContaining({
        scope: 'agent',
        name: 'archiver',
        left: { requests: 3 },
        runs_that_fit: 1,
      }),
    ]);
    expect((await api('GET', '/api/agents/archiver/runs')).body.runs).toHaveLength(1);

    const started = await api('POST', '/api/agents/archiver/backfill', range);
    expect(started.status).toBe(202);
    expect(started.body.counts).toEqual({ already_ran: 0, fits: 0, queued: 1, over_budget: 2 });
    const tick = started.body.ticks[0] as { run_id: string; scheduled_at: string };
    const ran = await waitFor(async () => {
      const answer = await api('GET', `/api/runs/${encodeURIComponent(tick.run_id)}`);
      return answer.status === 200 && answer.body.status === 'completed' ? answer.body : undefined;
    });
    expect(ran).toMatchObject({ trigger: 'backfill', scheduled_at: tick.scheduled_at });

    // Nothing left to start: the one that ran is marked, the budget takes no more.
    const after = await api('POST', '/api/agents/archiver/backfill', range);
    expect(after.status).toBe(200);
    expect(after.body.counts).toEqual({ already_ran: 1, fits: 0, queued: 0, over_budget: 2 });
  });

  it('names each bad field (400), and answers 404 for no agent and 409 for a paused one', async () => {
    const { api, created } = await backfillServer();
    const post = (body: unknown, agentId = 'archiver') =>
      api('POST', `/api/agents/${agentId}/backfill`, body);
    const range = { from: hoursBefore(created, 3.5), to: hoursBefore(created, 0.5) };

    const empty = await post({});
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('config_invalid');
    expect(fieldsOf(empty).sort()).toEqual(['from', 'to']);
    expect(fieldsOf(await post({ ...range, from: 'last week' }))).toEqual(['from']);
    expect(fieldsOf(await post({ ...range, from: range.to, to: range.from }))).toEqual(['from']);
    const future = await post({ ...range, to: hoursBefore(Date.now(), -1) });
    expect(fieldsOf(future)).toEqual(['to']);
    expect(future.body.error.message).toMatch(/in the future/);
    expect(fieldsOf(await post({ ...range, dry_run: 'yes' }))).toEqual(['dry_run']);
    expect(fieldsOf(await post({ ...range, colour: 'red' }))).toEqual(['colour']);
    expect(fieldsOf(await post('[1, 2'))).toEqual(['(body)']);

    const nobody = await post(range, 'nobody');
    expect(nobody.status).toBe(404);
    expect(nobody.body.error.code).toBe('agent_not_found');

    await api('POST', '/api/agents/archiver/start');
    await api('POST', '/api/agents/archiver/pause');
    const paused = await post(range);
    expect(paused.status).toBe(409);
    expect(paused.body.error.code).toBe('invalid_state');

    // Nothing was started by any of them.
    expect((await api('GET', '/api/agents/archiver/runs')).body.runs).toHaveLength(1);
  });

  it('answers as /openapi.json describes, under the agents tag', async () => {
    const { api, url, created } = await backfillServer();
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as Document;
    const operation = document.paths[PATH]?.post;
    expect(operation?.tags).toEqual(['agents']);
    const conforms = (answer: ApiAnswer) => {
      let response = operation?.responses[String(answer.status)];
      expect(response, `answered ${answer.status}`).toBeDefined();
      if (response?.$ref) {
        response = document.components.responses[response.$ref.split('/').pop()!];
      }
      const schema = response?.content?.['application/json']?.schema;
      expect(schema, `${answer.status}`).toBeDefined();
      expect(schemaProblems(answer.body, schema!, document)).toEqual([]);
    };
    const post = (body: unknown, agentId = 'archiver') =>
      api('POST', `/api/agents/${agentId}/backfill`, body);
    const range = { from: hoursBefore(created, 3.5), to: hoursBefore(created, 0.5) };
    conforms(await post({ ...range, dry_run: true }));
    conforms(await post(range));
    conforms(await post({ ...range, dry_run: true }));
    conforms(await post({}));
    conforms(await post(range, 'nobody'));

    // The body the document describes is what the route takes, and no more.
    const body = operation?.requestBody?.content['application/json']?.schema as Schema;
    expect(schemaProblems({ ...range, dry_run: true }, body, document)).toEqual([]);
    expect(schemaProblems({ ...range, colour: 'red' }, body, document)).not.toEqual([]);
    expect(schemaProblems({ from: range.from }, body, document)).not.toEqual([]);
    // The check bites: a tick with a field the document does not name fails it.
    const plan = (await post({ ...range, dry_run: true })).body;
    expect(
      schemaProblems(
        { ...plan, ticks: [{ ...plan.ticks[0], colour: 'red' }] },
        { $ref: '#/components/schemas/BackfillPlan' },
        document,
      ),
    ).toEqual(['$.ticks[0]: unexpected property colour']);
  });
});
