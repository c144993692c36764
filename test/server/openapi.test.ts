import { describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { createApp } from '../../src/server/index.js';
import { API_ERROR_CODES } from '../../src/server/api-error.js';
import {
  EVENT_TYPES,
  REPORTED_AGENT_STATES,
  RUN_STATUSES,
} from '../../src/storage/contracts/index.js';
import { schemaProblems, type Schema } from './json-schema-check.js';
import { resumedRun, writeResumedRun } from './resumed-run-fixture.js';
import {
  onCleanup,
  scriptedAgent,
  startService,
  startTestServer,
  type ApiAnswer,
} from './server-fixtures.js';

interface Operation {
  parameters?: { name: string; in: string; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: Schema }> }>;
}

interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, unknown> };
}

async function servedDocument(): Promise<{
  document: Document;
  server: Awaited<ReturnType<typeof startTestServer>>;
}> {
  const server = await startTestServer();
  const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as Document;
  return { document, server };
}

/** Every `$ref` in the document, with where it is. */
function references(value: unknown, path = '$'): { path: string; ref: string }[] {
  if (Array.isArray(value))
    return value.flatMap((item, index) => references(item, `${path}[${index}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === '$ref' && typeof item === 'string'
      ? [{ path, ref: item }]
      : references(item, `${path}.${key}`),
  );
}

function resolve(document: Document, ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
}

describe('/openapi.json', () => {
  it('describes every route the app serves, and nothing it does not', async () => {
    const service = await startService();
    const controller = new AbortController();
    const app = createApp(service, { signal: controller.signal });
    controller.abort();
    const served = new Set(
      app.routes
        .filter((route) => route.method !== 'ALL')
        .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
    );

    const { document } = await servedDocument();
    expect(document.openapi).toBe('3.1.0');
    const described = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method} ${path}`),
      ),
    );
    expect([...described].sort()).toEqual([...served].sort());
    expect(served.size).toBeGreaterThanOrEqual(22);
    for (const [path, operations] of Object.entries(document.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      for (const [method, operation] of Object.entries(operations)) {
        expect(Object.keys(operation.responses), `${method} ${path}`).not.toHaveLength(0);
        const inPath = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
        expect(
          inPath.map((parameter) => parameter.name),
          `${method} ${path}`,
        ).toEqual(templated);
      }
    }
  });

  it('is one self-contained document: every $ref resolves, no schema carries its own dialect', async () => {
    const { document } = await servedDocument();
    for (const { path, ref } of references(document)) {
      expect(ref, path).toMatch(/^#\/components\/(schemas|responses)\//);
      expect(resolve(document, ref), `${path} → ${ref}`).toBeDefined();
    }
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      expect(schema.$schema, name).toBeUndefined();
      expect(schema.$id, name).toBeUndefined();
    }
  });

  it('describes the agent definition field by field, from its zod schema', async () => {
    const { document } = await servedDocument();
    const { schemas } = document.components;
    for (const name of ['AgentDefinitionInput', 'AgentDefinition', 'AgentPatch']) {
      const properties = schemas[name]?.properties as Record<string, Schema>;
      expect(Object.keys(properties), name).toEqual(
        expect.arrayContaining([
          'agent_id',
          'model_config',
          'task_config',
          'agent_config',
          'mcp_tools',
        ]),
      );
      const agentConfig = properties.agent_config?.properties as Record<string, Schema>;
      expect(Object.keys(agentConfig), name).toEqual(
        expect.arrayContaining([
          'max_steps',
          'request_limit',
          'total_tokens_limit',
          'memory_config',
        ]),
      );
    }
    // What recovery does with a run whose process died, and how often.
    const taskConfig = (schemas.AgentDefinition?.properties as Record<string, Schema>).task_config
      ?.properties as Record<string, Schema>;
    expect(taskConfig.on_interrupt).toMatchObject({
      enum: ['resume', 'restart', 'fail'],
      default: 'resume',
    });
    expect(taskConfig.max_resumes).toMatchObject({ type: 'integer', minimum: 0, default: 3 });
    expect(schemas.AgentDefinitionInput?.required).toEqual([
      'agent_id',
      'model_config',
      'task_config',
    ]);
    // A patch may leave anything out, and `null` removes a key.
    expect(schemas.AgentPatch?.required).toBeUndefined();
    const definitionBody =
      document.paths['/api/agents']?.post?.requestBody?.content['application/json'];
    const agent = scriptedAgent('conforming');
    expect(schemaProblems(agent, definitionBody!.schema, document)).toEqual([]);
    expect(
      schemaProblems({ ...agent, colour: 'red' }, definitionBody!.schema, document),
    ).not.toEqual([]);
  });

  it("describes each agent's spend and the fleet's spend today", async () => {
    const { document } = await servedDocument();
    const { schemas } = document.components;
    const status = schemas.AgentStatus as Schema & { required?: string[] };
    const properties = status.properties as Record<string, Schema>;
    for (const field of ['cost_today_usd', 'cost_month_usd', 'cost_total_usd']) {
      expect(properties[field], field).toMatchObject({ type: 'number', minimum: 0 });
      expect(properties[field]?.description, field).toMatch(/US dollars/);
      expect(status.required).toContain(field);
    }
    expect(properties.cost_today_usd?.description).toContain('timezone');
    const overview = schemas.FleetOverview?.properties as Record<string, Schema>;
    const usageToday = overview.usage_today?.properties as Record<string, Schema>;
    expect(usageToday.cost_usd).toMatchObject({ type: 'number', minimum: 0 });
    const usage = schemas.Usage?.properties as Record<string, Schema>;
    expect(usage.cost_usd).toMatchObject({ type: 'number', minimum: 0 });
  });

  it('takes every enum from the one vocabulary', async () => {
    const { document } = await servedDocument();
    const { schemas } = document.components;
    const property = (schema: string, name: string) =>
      (schemas[schema]?.properties as Record<string, Schema>)[name];
    expect(property('RunRecord', 'status')?.enum).toEqual([...RUN_STATUSES]);
    expect(property('AgentStatus', 'state')?.enum).toEqual([...REPORTED_AGENT_STATES]);
    const error = property('Error', 'error')?.properties as Record<string, Schema>;
    expect(error.code?.enum).toEqual([...API_ERROR_CODES]);
    const eventTypes = (schemas.Event?.oneOf as Schema[]).map(
      (member) => (member.properties as Record<string, Schema>).type?.const,
    );
    expect(eventTypes).toEqual([...EVENT_TYPES]);
    const runList = document.paths['/api/agents/{agent_id}/runs']?.get?.parameters ?? [];
    const statusFilter = runList.find((parameter) => parameter.name === 'status');
    expect((statusFilter?.schema.items as Schema).enum).toEqual([...RUN_STATUSES]);
    const agentList = document.paths['/api/agents']?.get?.parameters ?? [];
    expect(agentList.find((parameter) => parameter.name === 'state')?.schema.enum).toEqual([
      ...REPORTED_AGENT_STATES,
    ]);
  });

  it('describes a resumed run as the server answers it: its journal, the resume, its events', async () => {
    const memory = new MemoryRouter('in_memory');
    const log = new EventRouter('in_memory');
    const service = new BackgroundAgentService(memory, log);
    await service.startManager();
    onCleanup(() => service.shutdown({ timeout: 1000 }));
    const fixture = resumedRun('mailer', Date.now() - 120_000);
    await writeResumedRun(fixture, (await memory.connect()).runs, await log.connect());
    const server = await startTestServer({}, service);
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as Document;
    const runId = encodeURIComponent(fixture.run.run_id);
    const checks: Array<[string, string]> = [
      ['/api/runs/{run_id}', `/api/runs/${runId}`],
      ['/api/runs/{run_id}/report', `/api/runs/${runId}/report`],
      ['/api/runs/{run_id}/events', `/api/runs/${runId}/events`],
    ];
    for (const [template, path] of checks) {
      const answer = await server.api('GET', path);
      expect(answer.status, path).toBe(200);
      const schema = document.paths[template]?.get?.responses['200']?.content?.['application/json']
        ?.schema as Schema;
      expect(schemaProblems(answer.body, schema, document), path).toEqual([]);
    }
    const report = (await server.api('GET', `/api/runs/${runId}/report`)).body;
    expect(report.events.map((event: { type: string }) => event.type)).toContain(
      'background_task_resumed',
    );
    // The check bites: a step kind or an outcome the document does not name fails it.
    const drifted = structuredClone(document);
    const step = drifted.components.schemas.RunStep as { properties: Record<string, Schema> };
    step.properties.outcome = { type: 'string', enum: ['success', 'error', 'timeout'] };
    step.properties.kind = { type: 'string', enum: ['model_call', 'tool_call'] };
    const problems = schemaProblems(
      report.steps,
      { type: 'array', items: { $ref: '#/components/schemas/RunStep' } },
      drifted,
    );
    expect(problems.length).toBe(2);
  });

  it('matches what a running server answers, route by route', async () => {
    const { document, server } = await servedDocument();
    const { api } = server;
    const conforms = (method: string, path: string, answer: ApiAnswer) => {
      const responses = document.paths[path]?.[method]?.responses;
      expect(responses, `${method} ${path}`).toBeDefined();
      let response = responses?.[String(answer.status)];
      expect(response, `${method} ${path} answered ${answer.status}`).toBeDefined();
      if (response?.$ref) response = resolve(document, response.$ref) as typeof response;
      const schema = response?.content?.['application/json']?.schema;
      expect(schema, `${method} ${path} ${answer.status} has a JSON schema`).toBeDefined();
      expect(schemaProblems(answer.body, schema!, document), `${method} ${path}`).toEqual([]);
    };

    conforms('post', '/api/agents', await api('POST', '/api/agents', scriptedAgent('alpha')));
    conforms('get', '/api/agents', await api('GET', '/api/agents'));
    conforms('get', '/api/agents', await api('GET', '/api/agents?state=sleeping'));
    conforms('get', '/api/agents/{agent_id}', await api('GET', '/api/agents/alpha'));
    conforms('get', '/api/agents/{agent_id}', await api('GET', '/api/agents/nobody'));
    conforms(
      'get',
      '/api/agents/{agent_id}/definition',
      await api('GET', '/api/agents/alpha/definition'),
    );
    conforms(
      'patch',
      '/api/agents/{agent_id}',
      await api('PATCH', '/api/agents/alpha', { interval: 1800 }),
    );
    conforms(
      'patch',
      '/api/agents/{agent_id}',
      await api('PATCH', '/api/agents/alpha', { interval: 0 }),
    );
    conforms('post', '/api/agents/{agent_id}/start', await api('POST', '/api/agents/alpha/start'));
    conforms(
      'post',
      '/api/agents/{agent_id}/pause',
      await api('POST', '/api/agents/alpha/pause', { reason: 'maintenance' }),
    );
    conforms(
      'post',
      '/api/agents/{agent_id}/resume',
      await api('POST', '/api/agents/alpha/resume'),
    );
    conforms(
      'get',
      '/api/agents/{agent_id}/next-runs',
      await api('GET', '/api/agents/alpha/next-runs?n=2'),
    );

    const run = await api('POST', '/api/agents/alpha/run', { wait: true });
    expect(run.body.status).toBe('completed');
    conforms('post', '/api/agents/{agent_id}/run', run);
    const runId = run.body.run_id as string;
    conforms('get', '/api/agents/{agent_id}/runs', await api('GET', '/api/agents/alpha/runs'));
    conforms(
      'get',
      '/api/agents/{agent_id}/runs',
      await api('GET', '/api/agents/alpha/runs?status=done'),
    );
    conforms('get', '/api/runs/{run_id}', await api('GET', `/api/runs/${runId}`));
    conforms('get', '/api/runs/{run_id}', await api('GET', '/api/runs/missing'));
    conforms('get', '/api/runs/{run_id}/events', await api('GET', `/api/runs/${runId}/events`));
    conforms('get', '/api/runs/{run_id}/report', await api('GET', `/api/runs/${runId}/report`));
    const json = { Accept: 'application/json' };
    const events = await api('GET', '/api/events?since=0', undefined, json);
    expect(events.body.events.length).toBeGreaterThan(3);
    conforms('get', '/api/events', events);
    conforms(
      'get',
      '/api/agents/{agent_id}/events',
      await api('GET', '/api/agents/alpha/events', undefined, json),
    );
    conforms('get', '/api/events/recent', await api('GET', '/api/events/recent?agent_id=alpha'));
    conforms('get', '/api/overview', await api('GET', '/api/overview'));
    conforms('get', '/api/workers', await api('GET', '/api/workers'));
    conforms(
      'post',
      '/api/agents/{agent_id}/stop',
      await api('POST', '/api/agents/alpha/stop', { cancel: true }),
    );
    conforms(
      'get',
      '/api/agents',
      await api('GET', '/api/agents', undefined, { Authorization: 'Bearer wrong' }),
    );
    conforms('get', '/readyz', await api('GET', '/readyz'));
    expect((await api('DELETE', '/api/agents/alpha')).status).toBe(204);

    // The check itself bites: a document missing a field the server sends, or naming a status
    // it does not, fails it.
    const drifted = structuredClone(document);
    const runRecord = drifted.components.schemas.RunRecord as {
      properties: Record<string, Schema>;
    };
    delete runRecord.properties.lease_owner;
    expect(schemaProblems(run.body, { $ref: '#/components/schemas/RunRecord' }, drifted)).toEqual([
      '$: unexpected property lease_owner',
    ]);
    runRecord.properties.status = { type: 'string', enum: ['pending'] };
    expect(
      schemaProblems(run.body, { $ref: '#/components/schemas/RunRecord' }, drifted).length,
    ).toBe(2);
  });
});
