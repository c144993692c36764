import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import { startServer } from '../../src/server/index.js';
import {
  EventRouter,
  MemoryRouter,
  type NightshiftEvent,
  type RunRecord,
  type RunStep,
  type Store,
} from '../../src/storage/index.js';
import {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
  type RecordedRequest,
} from '../helpers/fake-openai-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { FrozenStore } from './frozen-store.js';
import { collectEvents, makeService, onCleanup, temporaryDatabase } from './service-fixtures.js';

/**
 * Structured answers (`task_config.output_schema`) over real HTTP: the fake OpenAI server
 * speaks Responses (the `openai` provider, which takes the schema natively) and Chat
 * Completions (`openai_compatible`, prompted with the schema), and every answer is validated
 * by the run the same way.
 */

const SECRET = 'sk-structured-test-0123456789';
const env = { TEST_OPENAI_KEY: SECRET };

const SCHEMA = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'down'] },
    rows: { type: 'integer', minimum: 0 },
  },
  required: ['status', 'rows'],
  additionalProperties: false,
};

let server: FakeOpenAIServer;
beforeEach(async () => {
  server = await startFakeOpenAIServer();
});
afterEach(async () => {
  await server.close();
});

function agent(
  provider: 'openai' | 'openai_compatible',
  task: Record<string, unknown> = {},
  overrides: Partial<AgentDefinitionInput> = {},
): AgentDefinitionInput {
  return {
    agent_id: 'verdict',
    interval: 3600,
    model_config: {
      provider,
      model: 'gpt-test',
      base_url: server.baseURL,
      api_key_env: 'TEST_OPENAI_KEY',
    },
    task_config: { query: 'Count the rows.', output_schema: SCHEMA, ...task },
    ...overrides,
  };
}

/** Every text the request sends the model, whatever the wire format. */
const sent = (request: RecordedRequest | undefined) => JSON.stringify(request?.body ?? {});

async function started(definition: AgentDefinitionInput, url?: string) {
  const service = makeService({ env, ...(url ? { url } : {}) });
  await service.startManager();
  await service.create(definition);
  return service;
}

describe.each(['openai', 'openai_compatible'] as const)(
  'structured answers over real HTTP (%s)',
  (provider) => {
    it('completes with a valid answer: output and output_json on the record and in the events', async () => {
      server.enqueue({ text: '{"status":"ok","rows":42}' });
      const url = temporaryDatabase();
      const service = await started(agent(provider), url);
      const events = collectEvents(service);
      const run = await service.runNow('verdict', { wait: true });
      expect(run).toMatchObject({
        status: 'completed',
        output: '{"status":"ok","rows":42}',
        output_json: { status: 'ok', rows: 42 },
        error: null,
      });
      // Stored (SQLite, schema version 7) as it was returned.
      expect((await service.getRun(run.run_id))?.output_json).toEqual({ status: 'ok', rows: 42 });
      await waitFor(() => events.some((event) => event.type === 'background_task_completed'));
      const completed = events.find((event) => event.type === 'background_task_completed');
      expect(completed?.payload).toMatchObject({ output_json: { status: 'ok', rows: 42 } });
      const answer = events.find((event) => event.type === 'final_answer');
      expect(answer?.payload).toEqual({
        message: '{"status":"ok","rows":42}',
        output_json: { status: 'ok', rows: 42 },
      });
      const request = server.requests[0]!;
      // Every provider is told the schema; the Responses API also takes it as the text format.
      expect(sent(request)).toContain('valid against this JSON Schema');
      if (provider === 'openai') {
        expect(request.path).toBe('/v1/responses');
        expect(request.body.text).toMatchObject({
          format: { type: 'json_schema', name: 'answer', strict: false, schema: SCHEMA },
        });
      } else {
        expect(request.path).toBe('/v1/chat/completions');
        expect(request.body.response_format).toBeUndefined();
      }
    });

    it('repairs an invalid answer on the second turn: the repair request names the failing paths', async () => {
      server.enqueue({ text: '{"status":"fine","rows":-3}' }, { text: '{"status":"ok","rows":3}' });
      const service = await started(agent(provider));
      const run = await service.runNow('verdict', { wait: true });
      expect(run).toMatchObject({ status: 'completed', output_json: { status: 'ok', rows: 3 } });
      expect(run.usage.requests).toBe(2);
      expect(server.requests).toHaveLength(2);
      const repair = sent(server.requests[1]);
      expect(repair).toContain('Your answer is not valid against the required JSON Schema');
      expect(repair).toContain('status: ');
      expect(repair).toContain('rows: ');
      // The invalid answer is part of the conversation the repair is asked on: quoted in Chat
      // Completions, referred to by its id in Responses (which keeps it on the server).
      expect(repair).toContain(provider === 'openai' ? '"item_reference"' : 'fine');
    });

    it('fails output_invalid, naming the failing paths, when the repairs do not help', async () => {
      server.enqueue(
        { text: 'Forty-two rows.' },
        { text: '{"status":"ok"}' },
        { text: '{"status":"ok","rows":"many"}' },
      );
      const service = await started(agent(provider, { output_repairs: 2 }));
      const run = await service.runNow('verdict', { wait: true });
      expect(run.status).toBe('failed');
      expect(run.output).toBeNull();
      expect(run.output_json).toBeNull();
      expect(run.error?.code).toBe('output_invalid');
      expect(run.error?.message).toContain('task_config.output_schema (after 2 repairs)');
      expect(run.error?.message).toMatch(/rows: /);
      expect(server.requests).toHaveLength(3);
    });

    it('a repair that would cross request_limit ends the run with that limit', async () => {
      server.enqueue({ text: '{"status":"ok"}' });
      const service = await started(
        agent(provider, { output_repairs: 3 }, { agent_config: { request_limit: 1 } }),
      );
      const run = await service.runNow('verdict', { wait: true });
      expect(run.status).toBe('budget_exceeded');
      expect(run.error?.code).toBe('request_limit');
      expect(run.error?.message).toContain('the answer was invalid: rows: ');
      expect(server.requests).toHaveLength(1);
    });
  },
);

describe('a structured answer carrying a secret', () => {
  it('is stored and published with the secret redacted, in output and output_json', async () => {
    server.enqueue({ text: `{"note":"the key is ${SECRET}"}` });
    const service = await started(
      agent('openai_compatible', {
        output_schema: { type: 'object', properties: { note: { type: 'string' } } },
      }),
    );
    const events = collectEvents(service);
    const run = await service.runNow('verdict', { wait: true });
    expect(run.status).toBe('completed');
    const stored = await service.getRun(run.run_id);
    expect(stored.output_json).toEqual({ note: 'the key is [redacted]' });
    expect(JSON.stringify(stored)).not.toContain(SECRET);
    await waitFor(() => events.some((event) => event.type === 'background_task_completed'));
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });
});

describe('structured answers and the journal', () => {
  it('a run resumed after its process died does not ask again for the answer it recorded', async () => {
    // The recorded invalid answer is answered from the journal; only the repair is requested.
    server.enqueue({ text: '{"status":"down"}' }, { text: '{"status":"down","rows":0}' });
    const url = temporaryDatabase();
    const definition = agent('openai_compatible');
    const options = { leaseTtlMs: 300, syncIntervalMs: 100, env };
    const setup = new BackgroundAgentService(
      new MemoryRouter('database', { url }),
      new EventRouter('in_memory'),
      options,
    );
    await setup.create(definition);
    await setup.shutdown({ timeout: 1000 });

    const reader = new MemoryRouter('database', { url });
    onCleanup(() => reader.close());
    const store: Store = await reader.connect();
    const doomedRouter = new MemoryRouter('database', { url });
    onCleanup(() => doomedRouter.close().catch(() => undefined));
    const frozen = new FrozenStore(await doomedRouter.connect());
    const doomedMemory = new MemoryRouter('database', { url });
    doomedMemory.connect = () => Promise.resolve(frozen.store);
    const doomed = new BackgroundAgentService(doomedMemory, new EventRouter('in_memory'), {
      ...options,
      instanceId: 'doomed',
    });
    onCleanup(async () => {
      frozen.bury();
      await doomed.shutdown({ timeout: 500 }).catch(() => undefined);
    });
    // The process dies as it records the start of its second model call: the repair.
    let modelCalls = 0;
    frozen.arm(
      (method, args) =>
        method === 'appendStep' &&
        (args[0] as RunStep).kind === 'model_call' &&
        (modelCalls += 1) === 2,
    );
    await doomed.startManager();
    const run = await doomed.runNow('verdict');
    await waitFor(() => frozen.frozen, { what: 'the doomed process froze' });
    expect(server.requests).toHaveLength(1);

    const survivor = new BackgroundAgentService(
      new MemoryRouter('database', { url }),
      new EventRouter('in_memory'),
      { ...options, instanceId: 'survivor' },
    );
    onCleanup(() => survivor.shutdown({ timeout: 500 }).catch(() => undefined));
    const events: NightshiftEvent[] = [];
    await survivor.startManager();
    const controller = new AbortController();
    onCleanup(() => controller.abort());
    void (async () => {
      for await (const event of survivor.streamAgentEvents(undefined, {
        since: '0',
        signal: controller.signal,
      }))
        events.push(event);
    })().catch(() => undefined);

    const done = await waitFor(
      async () => {
        const current = await store.runs.get(run.run_id);
        return current && current.status !== 'running' && current.status !== 'pending'
          ? current
          : undefined;
      },
      { timeoutMs: 15_000, what: `run ${run.run_id} ended` },
    );
    expect(done).toMatchObject<Partial<RunRecord>>({
      status: 'completed',
      output_json: { status: 'down', rows: 0 },
    });
    // The first answer came from the journal: one request more, and it is the repair.
    expect(server.requests).toHaveLength(2);
    expect(sent(server.requests[1])).toContain('not valid against the required JSON Schema');
    expect(events.find((event) => event.type === 'background_task_resumed')?.payload).toMatchObject(
      { skipped_model_calls: 1 },
    );
  });
});

describe('a zod output_schema in code', () => {
  it('is stored as its JSON Schema, by create and by updateAgent', async () => {
    const service = makeService({ env });
    await service.create({
      ...agent('openai_compatible'),
      task_config: { query: 'Count the rows.', output_schema: z.object({ rows: z.number() }) },
    });
    expect((await service.getAgentDefinition('verdict')).task_config.output_schema).toMatchObject({
      type: 'object',
      properties: { rows: { type: 'number' } },
      required: ['rows'],
    });
    await service.updateAgent('verdict', {
      task_config: { output_schema: z.object({ status: z.enum(['ok', 'down']) }) },
    });
    const stored = await service.getAgentDefinition('verdict');
    expect(stored.task_config).toMatchObject({
      query: 'Count the rows.',
      output_schema: { properties: { status: { enum: ['ok', 'down'] } }, required: ['status'] },
    });
    expect(JSON.parse(JSON.stringify(stored))).toEqual(stored);
  });
});

describe('a bad output_schema is refused by its field', () => {
  it('in code and over HTTP: config_invalid naming task_config.output_schema', async () => {
    const service = makeService({ env });
    const bad = agent('openai', { output_schema: { type: 'object', properties: 'rows' } });
    const refused = await service.create(bad).then(
      () => undefined,
      (reason: unknown) => reason as { code?: string; fields?: { path: string }[] },
    );
    expect(refused?.code).toBe('config_invalid');
    expect(refused?.fields?.map((field) => field.path)).toEqual([
      'task_config.output_schema.properties',
    ]);

    const http = await startServer(service, { port: 0 });
    onCleanup(() => http.close());
    const response = await fetch(`${http.url}/api/agents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Scripted: a definition sent over HTTP may not name the key's variable unless allowed.
      body: JSON.stringify({
        agent_id: 'over_http',
        interval: 3600,
        model_config: { provider: 'scripted', script: [{ answer: '{}' }] },
        task_config: { query: 'Count the rows.', output_schema: 'rows' },
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { code: string; fields?: { path: string }[] };
    };
    expect(body.error.code).toBe('config_invalid');
    expect(body.error.fields).toEqual([
      { path: 'task_config.output_schema', message: 'must be a JSON Schema object' },
    ]);
  });
});
