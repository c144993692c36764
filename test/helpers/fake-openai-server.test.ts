import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import { APICallError, generateText, stepCountIs, streamText, tool } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startFakeOpenAIServer } from './fake-openai-server.js';
import type { FakeOpenAIServer } from './fake-openai-server.js';

/** A tool result as the client sent it back to the model on the next request. */
interface SentToolResult {
  callId: unknown;
  output: unknown;
}

/** One way of talking to the fake server: a provider and the wire format it uses. */
interface ProviderCase {
  name: string;
  path: string;
  createModel: (baseURL: string) => LanguageModel;
  findToolResult: (body: Record<string, unknown>) => SentToolResult | undefined;
}

function findChatToolResult(body: Record<string, unknown>): SentToolResult | undefined {
  const messages = body.messages as { role: string; tool_call_id?: string; content?: unknown }[];
  const message = messages.find((candidate) => candidate.role === 'tool');
  return message && { callId: message.tool_call_id, output: message.content };
}

function findResponsesToolResult(body: Record<string, unknown>): SentToolResult | undefined {
  const input = body.input as { type?: string; call_id?: string; output?: unknown }[];
  const item = input.find((candidate) => candidate.type === 'function_call_output');
  return item && { callId: item.call_id, output: item.output };
}

const providerCases: ProviderCase[] = [
  {
    name: 'openai (Responses API)',
    path: '/v1/responses',
    createModel: (baseURL) => createOpenAI({ baseURL, apiKey: 'test-key' })('gpt-4o-mini'),
    findToolResult: findResponsesToolResult,
  },
  {
    name: 'openai.chat (Chat Completions)',
    path: '/v1/chat/completions',
    createModel: (baseURL) => createOpenAI({ baseURL, apiKey: 'test-key' }).chat('gpt-4o-mini'),
    findToolResult: findChatToolResult,
  },
  {
    name: 'openai-compatible',
    path: '/v1/chat/completions',
    createModel: (baseURL) =>
      createOpenAICompatible({ baseURL, name: 'x', apiKey: 'test-key', includeUsage: true })(
        'fake-model',
      ),
    findToolResult: findChatToolResult,
  },
];

const addTool = tool({
  description: 'Adds two numbers',
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: async ({ a, b }) => a + b,
});

let server: FakeOpenAIServer;

beforeEach(async () => {
  server = await startFakeOpenAIServer();
});

afterEach(async () => {
  await server.close();
});

describe.each(providerCases)('$name', ({ path, createModel, findToolResult }) => {
  it('answers with text and the scripted usage', async () => {
    server.enqueue({ text: 'Hello from the fake', usage: { input_tokens: 7, output_tokens: 3 } });

    const result = await generateText({ model: createModel(server.baseURL), prompt: 'Hi' });

    expect(result.text).toBe('Hello from the fake');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 7, outputTokens: 3, totalTokens: 10 });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ path, stream: false, aborted: false });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer test-key');
  });

  it('streams text in several deltas with default usage', async () => {
    server.enqueue({ text: 'Streaming works over real HTTP' });

    const result = streamText({ model: createModel(server.baseURL), prompt: 'Hi' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);

    expect(deltas.join('')).toBe('Streaming works over real HTTP');
    expect(deltas.length).toBeGreaterThan(1);
    expect(await result.usage).toMatchObject({ inputTokens: 10, outputTokens: 5, totalTokens: 15 });
    expect(await result.finishReason).toBe('stop');
    expect(server.requests[0]).toMatchObject({ path, stream: true });
  });

  it('round-trips a tool call with generateText', async () => {
    server.enqueue(
      { tool_calls: [{ id: 'call_add', name: 'add', args: { a: 2, b: 3 } }] },
      { text: 'The sum is 5' },
    );

    const result = await generateText({
      model: createModel(server.baseURL),
      prompt: 'What is 2 + 3?',
      tools: { add: addTool },
      stopWhen: stepCountIs(3),
    });

    expect(result.text).toBe('The sum is 5');
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.finishReason).toBe('tool-calls');
    expect(result.steps[0]?.toolCalls[0]).toMatchObject({
      toolCallId: 'call_add',
      toolName: 'add',
      input: { a: 2, b: 3 },
    });
    expect(result.steps[0]?.toolResults[0]?.output).toBe(5);
    expect(server.requests).toHaveLength(2);
    expect(findToolResult(server.requests[1]!.body)).toEqual({ callId: 'call_add', output: '5' });
  });

  it('round-trips a tool call with streamText and a generated call id', async () => {
    server.enqueue(
      { tool_calls: [{ name: 'add', args: { a: 20, b: 22 } }], text: 'Let me add that.' },
      { text: 'It is 42' },
    );

    const result = streamText({
      model: createModel(server.baseURL),
      prompt: 'What is 20 + 22?',
      tools: { add: addTool },
      stopWhen: stepCountIs(3),
    });

    expect(await result.text).toBe('It is 42');
    const steps = await result.steps;
    expect(steps).toHaveLength(2);
    expect(steps[0]?.text).toBe('Let me add that.');
    const toolCall = steps[0]?.toolCalls[0];
    expect(toolCall).toMatchObject({ toolName: 'add', input: { a: 20, b: 22 } });
    expect(toolCall?.toolCallId).toMatch(/\S/);
    expect(server.requests.map((request) => request.stream)).toEqual([true, true]);
    expect(findToolResult(server.requests[1]!.body)).toEqual({
      callId: toolCall?.toolCallId,
      output: '42',
    });
  });

  it('lets the SDK retry a 429 that carries Retry-After', async () => {
    server.enqueue(
      { error: { status: 429, message: 'Slow down', retry_after: 0 } },
      { text: 'after the retry' },
    );

    const result = await generateText({
      model: createModel(server.baseURL),
      prompt: 'Hi',
      maxRetries: 1,
    });

    expect(result.text).toBe('after the retry');
    expect(server.requests).toHaveLength(2);
  });

  it('sees the client hang up on a request that never gets an answer', async () => {
    server.enqueue({ hang: true });

    await expect(
      generateText({
        model: createModel(server.baseURL),
        prompt: 'Hi',
        maxRetries: 0,
        abortSignal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();

    const aborted = await server.waitForAbort();
    expect(aborted).toBe(server.requests[0]);
    expect(aborted.aborted).toBe(true);
  });
});

describe('fake OpenAI server', () => {
  const chatModel = (): LanguageModel =>
    createOpenAI({ baseURL: server.baseURL, apiKey: 'test-key' }).chat('gpt-4o-mini');

  it('serves the default "ok" reply when the queue is empty', async () => {
    const result = await generateText({ model: chatModel(), prompt: 'Hi' });

    expect(result.text).toBe('ok');
  });

  it('serves a configurable default reply', async () => {
    const custom = await startFakeOpenAIServer({ defaultReply: { text: 'always this' } });
    try {
      const model = createOpenAI({ baseURL: custom.baseURL, apiKey: 'test-key' })('gpt-4o-mini');
      const first = await generateText({ model, prompt: 'Hi' });
      const second = await generateText({ model, prompt: 'Hi again' });

      expect([first.text, second.text]).toEqual(['always this', 'always this']);
    } finally {
      await custom.close();
    }
  });

  it('builds a reply from the request when given a function', async () => {
    server.enqueue((request) => {
      const messages = request.body.messages as { role: string; content: string }[];
      return { text: `you said: ${messages.at(-1)?.content}` };
    });

    const result = await generateText({ model: chatModel(), prompt: 'ping' });

    expect(result.text).toBe('you said: ping');
  });

  it('fails a non-retryable error with the provider message and status', async () => {
    server.enqueue({ error: { status: 400, message: 'Bad prompt' } });

    const failure = await generateText({ model: chatModel(), prompt: 'Hi' }).catch(
      (error: unknown) => error,
    );

    expect(APICallError.isInstance(failure)).toBe(true);
    expect(failure).toMatchObject({ statusCode: 400, message: 'Bad prompt' });
    expect(server.requests).toHaveLength(1);
  });

  it('answers after a delay', async () => {
    server.enqueue({ delay_ms: 20, text: 'worth the wait' });

    const result = await generateText({ model: chatModel(), prompt: 'Hi' });

    expect(result.text).toBe('worth the wait');
  });

  it('records an abort during a delay and keeps serving afterwards', async () => {
    server.enqueue({ delay_ms: 10_000, text: 'too late' }, { text: 'next one' });
    const controller = new AbortController();

    const pending = generateText({
      model: chatModel(),
      prompt: 'Hi',
      maxRetries: 0,
      abortSignal: controller.signal,
    });
    await server.waitForRequest(1);
    controller.abort();

    await expect(pending).rejects.toThrow();
    expect((await server.waitForAbort()).aborted).toBe(true);
    const next = await generateText({ model: chatModel(), prompt: 'Hi' });
    expect(next.text).toBe('next one');
  });

  it('sends the OpenAI error shape with a Retry-After header', async () => {
    server.enqueue({ error: { status: 503, retry_after: 2 } });

    const response = await fetch(`${server.baseURL}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', input: 'Hi' }),
    });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(await response.json()).toMatchObject({
      error: { message: 'Service Unavailable', type: 'server_error' },
    });
  });

  it('streams chat chunks without usage unless the client asks for it', async () => {
    server.enqueue({ text: 'plain stream' });

    const response = await fetch(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [] }),
    });
    const payloads = (await response.text())
      .split('\n\n')
      .filter((event) => event.startsWith('data: '))
      .map((event) => event.slice('data: '.length));

    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(payloads.at(-1)).toBe('[DONE]');
    const chunks = payloads.slice(0, -1).map((payload) => JSON.parse(payload) as object);
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
  });

  it('answers unknown endpoints with a 404 and still records them', async () => {
    const response = await fetch(`${server.baseURL}/embeddings`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(404);
    expect(server.requests[0]).toMatchObject({ path: '/v1/embeddings', method: 'POST' });
  });

  it('rejects waitForRequest with a clear error when nothing arrives', async () => {
    await expect(server.waitForRequest(1, 50)).rejects.toThrow(/request #1/);
  });
});
