/**
 * A real HTTP server that speaks the OpenAI wire formats (Chat Completions and
 * Responses, JSON and SSE) with scripted replies, so tests and benchmarks can
 * drive `@ai-sdk/openai` and `@ai-sdk/openai-compatible` over a real socket.
 *
 * The payload shapes follow the zod schemas that `@ai-sdk/openai` 3.x parses
 * (`openaiChatResponseSchema`, `openaiChatChunkSchema`,
 * `openaiResponsesResponseSchema`, `openaiResponsesChunkSchema`).
 */
import { STATUS_CODES, createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Token counts a scripted reply reports, named as in the Responses API. */
export interface ScriptedUsage {
  input_tokens: number;
  output_tokens: number;
  /** Input tokens read from the prompt cache (part of `input_tokens`). Default 0. */
  cached_input_tokens?: number;
}

/** One tool call the fake model asks for; `id` is generated when absent. */
export interface ScriptedToolCall {
  name: string;
  args: Record<string, unknown>;
  id?: string;
}

/** An assistant text answer. */
export interface TextReply {
  text: string;
  usage?: ScriptedUsage;
  /** Wait this long before answering; a client that hangs up meanwhile gets nothing. */
  delay_ms?: number;
}

/** The model asks for tool calls, optionally with some text before them. */
export interface ToolCallsReply {
  tool_calls: ScriptedToolCall[];
  text?: string;
  usage?: ScriptedUsage;
  /** Wait this long before answering; a client that hangs up meanwhile gets nothing. */
  delay_ms?: number;
}

/** An HTTP error in OpenAI's JSON error shape, with `Retry-After` (seconds) when given. */
export interface ErrorReply {
  error: { status: number; message?: string; retry_after?: number };
  /** Wait this long before answering; a client that hangs up meanwhile gets nothing. */
  delay_ms?: number;
}

/** Accept the request and never answer, until the client disconnects. */
export interface HangReply {
  hang: true;
}

/** Everything the fake model can answer with. */
export type ScriptedReply = TextReply | ToolCallsReply | ErrorReply | HangReply;

/** Builds a reply from the request, for tests that inspect what was sent. */
export type ReplyFactory = (request: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>;

/** One entry in the reply queue: a fixed reply or a factory. */
export type ScriptedReplySource = ScriptedReply | ReplyFactory;

/** A request the server received; `aborted` flips to true if the client hangs up early. */
export interface RecordedRequest {
  method: string;
  /** URL path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; `{}` when there was none. */
  body: Record<string, unknown>;
  /** Whether the body asked for SSE (`stream: true`). */
  stream: boolean;
  /** The client closed the connection before the response finished. */
  aborted: boolean;
}

/** Options for {@link startFakeOpenAIServer}. */
export interface FakeOpenAIServerOptions {
  /** Served when the queue is empty. Default: `{ text: 'ok' }`. */
  defaultReply?: ScriptedReplySource;
  /** Default timeout of `waitForRequest` and `waitForAbort`. Default: 5000 ms. */
  waitTimeoutMs?: number;
}

/** A running fake OpenAI server; see {@link startFakeOpenAIServer}. */
export interface FakeOpenAIServer {
  /** `http://127.0.0.1:PORT/v1`, ready to pass as a provider's `baseURL`. */
  readonly baseURL: string;
  /** Every request received, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Queues replies; each request to either endpoint takes the next one. */
  enqueue(reply: ScriptedReplySource, ...more: ScriptedReplySource[]): void;
  /** Resolves with the `count`-th request (1-based) once it has arrived. */
  waitForRequest(count?: number, timeoutMs?: number): Promise<RecordedRequest>;
  /** Resolves with the first request whose client hung up before the response finished. */
  waitForAbort(timeoutMs?: number): Promise<RecordedRequest>;
  /** Drops every open connection and stops listening. */
  close(): Promise<void>;
}

/** Usage reported when a reply does not say, small so budgets in tests stay readable. */
const defaultUsage: ScriptedUsage = { input_tokens: 10, output_tokens: 5 };

const defaultWaitTimeoutMs = 5_000;

/** A reply reduced to what both wire formats need, with ids fixed once per request. */
interface Answer {
  text: string | undefined;
  toolCalls: { callId: string; itemId: string; name: string; arguments: string }[];
  usage: ScriptedUsage;
  responseId: string;
  messageId: string;
  model: string;
  createdSeconds: number;
}

/** Starts a fake OpenAI server on 127.0.0.1 at a random free port. */
export async function startFakeOpenAIServer(
  options: FakeOpenAIServerOptions = {},
): Promise<FakeOpenAIServer> {
  const defaultReply = options.defaultReply ?? { text: 'ok' };
  const waitTimeoutMs = options.waitTimeoutMs ?? defaultWaitTimeoutMs;
  const queue: ScriptedReplySource[] = [];
  const requests: RecordedRequest[] = [];
  const waiters = new Set<Waiter>();
  let closing = false;
  let closePromise: Promise<void> | undefined;
  let idCounter = 0;

  const nextId = (prefix: string): string => `${prefix}${(idCounter += 1)}`;

  const notifyWaiters = (): void => {
    for (const waiter of waiters) {
      if (waiter.check()) waiters.delete(waiter);
    }
  };

  const waitFor = (
    find: () => RecordedRequest | undefined,
    timeoutMs: number,
    description: string,
  ): Promise<RecordedRequest> =>
    new Promise((resolve, reject) => {
      if (closing) {
        reject(new Error(`Fake OpenAI server is closed; cannot wait for ${description}`));
        return;
      }
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${description} (received ${requests.length} request(s))`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        check: () => {
          const found = find();
          if (found === undefined) return false;
          clearTimeout(timer);
          resolve(found);
          return true;
        },
        cancel: (reason) => {
          clearTimeout(timer);
          reject(reason);
        },
      };
      if (!waiter.check()) waiters.add(waiter);
    });

  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> => {
    const rawBody = await readBody(incoming);
    // A client that left mid-upload sent no usable request; there is nothing to record.
    if (rawBody === undefined) return;
    const path = new URL(incoming.url ?? '/', 'http://127.0.0.1').pathname;
    const parsedBody = parseJsonObject(rawBody);
    const recorded: RecordedRequest = {
      method: incoming.method ?? 'GET',
      path,
      headers: incoming.headers,
      body: parsedBody ?? {},
      stream: parsedBody?.stream === true,
      aborted: false,
    };
    requests.push(recorded);
    let clientGone = false;
    const markAborted = (): void => {
      clientGone = true;
      recorded.aborted = true;
      notifyWaiters();
    };
    if (incoming.socket.destroyed) {
      markAborted();
      return;
    }
    // `close` also fires after a normal end; only an unfinished response means the client left.
    outgoing.on('close', () => {
      if (!outgoing.writableFinished && !closing) markAborted();
    });
    notifyWaiters();

    const format = path.endsWith('/chat/completions')
      ? 'chat'
      : path.endsWith('/responses')
        ? 'responses'
        : undefined;
    if (format === undefined || incoming.method !== 'POST') {
      writeError(outgoing, { status: 404, message: `Unknown endpoint ${incoming.method} ${path}` });
      return;
    }
    if (parsedBody === undefined) {
      writeError(outgoing, { status: 400, message: 'Request body is not a JSON object' });
      return;
    }

    const reply = await resolveReply(queue.shift() ?? defaultReply, recorded);
    if ('hang' in reply) return;
    if (reply.delay_ms !== undefined && reply.delay_ms > 0) {
      await waitUnlessClosed(outgoing, reply.delay_ms);
    }
    if (clientGone || outgoing.destroyed) return;
    if ('error' in reply) {
      writeError(outgoing, reply.error);
      return;
    }

    const answer = toAnswer(reply, format, parsedBody, nextId);
    if (!recorded.stream) {
      writeJson(
        outgoing,
        200,
        format === 'chat' ? chatCompletion(answer) : responsesResponse(answer),
      );
    } else if (format === 'chat') {
      writeEvents(outgoing, chatCompletionChunks(answer, includeUsageRequested(parsedBody)));
    } else {
      writeEvents(outgoing, responsesEvents(answer));
    }
  };

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch((error: unknown) => {
      // A bug in the fake should fail the test loudly, not leave the client hanging.
      if (!outgoing.headersSent && !outgoing.destroyed) {
        writeError(outgoing, {
          status: 500,
          message: `Fake OpenAI server failed: ${String(error)}`,
        });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (reply, ...more) => {
      queue.push(reply, ...more);
    },
    waitForRequest: (count = 1, timeoutMs = waitTimeoutMs) =>
      waitFor(() => requests[count - 1], timeoutMs, `request #${count}`),
    waitForAbort: (timeoutMs = waitTimeoutMs) =>
      waitFor(() => requests.find((request) => request.aborted), timeoutMs, 'a client to hang up'),
    close: () => {
      closePromise ??= new Promise<void>((resolve, reject) => {
        closing = true;
        for (const waiter of waiters) waiter.cancel(new Error('Fake OpenAI server closed'));
        waiters.clear();
        // Hanging and keep-alive connections would otherwise keep `close` waiting forever.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
      return closePromise;
    },
  };
}

/** A pending `waitFor…` call. */
interface Waiter {
  /** Resolves the waiter if its condition holds; returns whether it did. */
  check: () => boolean;
  cancel: (reason: Error) => void;
}

async function resolveReply(
  source: ScriptedReplySource,
  request: RecordedRequest,
): Promise<ScriptedReply> {
  if (typeof source !== 'function') return source;
  try {
    return await source(request);
  } catch (error) {
    // Surface a throwing factory to the client under test instead of crashing the server.
    return { error: { status: 500, message: `Reply factory threw: ${String(error)}` } };
  }
}

function toAnswer(
  reply: TextReply | ToolCallsReply,
  format: 'chat' | 'responses',
  body: Record<string, unknown>,
  nextId: (prefix: string) => string,
): Answer {
  return {
    // An empty `text` beside tool calls means "no message", as the real API omits it.
    text: 'tool_calls' in reply ? reply.text || undefined : reply.text,
    toolCalls: ('tool_calls' in reply ? reply.tool_calls : []).map((toolCall) => ({
      callId: toolCall.id ?? nextId('call_fake'),
      itemId: nextId('fc_fake'),
      name: toolCall.name,
      arguments: JSON.stringify(toolCall.args),
    })),
    usage: reply.usage ?? defaultUsage,
    responseId: nextId(format === 'chat' ? 'chatcmpl-fake' : 'resp_fake'),
    messageId: nextId('msg_fake'),
    model: typeof body.model === 'string' ? body.model : 'fake-model',
    createdSeconds: Math.floor(Date.now() / 1000),
  };
}

/** Reads the whole body; `undefined` when the client went away mid-upload. */
async function readBody(incoming: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
  } catch {
    return undefined;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (text.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function includeUsageRequested(body: Record<string, unknown>): boolean {
  const streamOptions = body.stream_options;
  return (
    typeof streamOptions === 'object' &&
    streamOptions !== null &&
    (streamOptions as { include_usage?: unknown }).include_usage === true
  );
}

/** Resolves after `milliseconds`, or early when the connection closes. */
function waitUnlessClosed(outgoing: ServerResponse, milliseconds: number): Promise<void> {
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      outgoing.off('close', onClose);
      resolve();
    }, milliseconds);
    outgoing.once('close', onClose);
  });
}

function writeJson(outgoing: ServerResponse, status: number, payload: unknown): void {
  outgoing.writeHead(status, { 'content-type': 'application/json' });
  outgoing.end(JSON.stringify(payload));
}

function writeError(outgoing: ServerResponse, error: ErrorReply['error']): void {
  if (error.retry_after !== undefined) outgoing.setHeader('retry-after', String(error.retry_after));
  writeJson(outgoing, error.status, {
    error: {
      message: error.message ?? STATUS_CODES[error.status] ?? `HTTP ${error.status}`,
      type: error.status >= 500 ? 'server_error' : 'invalid_request_error',
      param: null,
      code: error.status === 429 ? 'rate_limit_exceeded' : null,
    },
  });
}

/** One server-sent event; `name` becomes the `event:` line, as the Responses API sends it. */
interface ServerSentEvent {
  name?: string;
  data: string;
}

function writeEvents(outgoing: ServerResponse, events: ServerSentEvent[]): void {
  outgoing.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  for (const event of events) {
    outgoing.write(
      `${event.name === undefined ? '' : `event: ${event.name}\n`}data: ${event.data}\n\n`,
    );
  }
  outgoing.end();
}

/** Splits text into word-sized deltas so clients see a real multi-chunk stream. */
function splitText(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Splits tool arguments in two, so clients must concatenate argument deltas. */
function splitArguments(argumentsJson: string): string[] {
  const middle = Math.ceil(argumentsJson.length / 2);
  return [argumentsJson.slice(0, middle), argumentsJson.slice(middle)].filter(
    (part) => part.length > 0,
  );
}

function chatUsage(usage: ScriptedUsage): Record<string, unknown> {
  return {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.input_tokens + usage.output_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_input_tokens ?? 0 },
  };
}

function chatFinishReason(answer: Answer): string {
  return answer.toolCalls.length > 0 ? 'tool_calls' : 'stop';
}

function chatCompletion(answer: Answer): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: answer.text ?? null,
    refusal: null,
  };
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map((toolCall) => ({
      id: toolCall.callId,
      type: 'function',
      function: { name: toolCall.name, arguments: toolCall.arguments },
    }));
  }
  return {
    id: answer.responseId,
    object: 'chat.completion',
    created: answer.createdSeconds,
    model: answer.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: chatFinishReason(answer) }],
    usage: chatUsage(answer.usage),
  };
}

function chatCompletionChunks(answer: Answer, includeUsage: boolean): ServerSentEvent[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): ServerSentEvent => ({
    data: JSON.stringify({
      id: answer.responseId,
      object: 'chat.completion.chunk',
      created: answer.createdSeconds,
      model: answer.model,
      choices,
      ...extra,
    }),
  });
  const delta = (fields: Record<string, unknown>, finishReason: string | null = null): unknown => ({
    index: 0,
    delta: fields,
    logprobs: null,
    finish_reason: finishReason,
  });

  const events = [
    chunk([delta({ role: 'assistant', content: answer.text === undefined ? null : '' })]),
  ];
  for (const piece of splitText(answer.text ?? '')) events.push(chunk([delta({ content: piece })]));
  answer.toolCalls.forEach((toolCall, index) => {
    // Like OpenAI: the first delta carries id and name, later ones only argument pieces.
    events.push(
      chunk([
        delta({
          tool_calls: [
            {
              index,
              id: toolCall.callId,
              type: 'function',
              function: { name: toolCall.name, arguments: '' },
            },
          ],
        }),
      ]),
    );
    for (const piece of splitArguments(toolCall.arguments)) {
      events.push(chunk([delta({ tool_calls: [{ index, function: { arguments: piece } }] })]));
    }
  });
  events.push(chunk([delta({}, chatFinishReason(answer))]));
  if (includeUsage) events.push(chunk([], { usage: chatUsage(answer.usage) }));
  events.push({ data: '[DONE]' });
  return events;
}

function responsesUsage(usage: ScriptedUsage): Record<string, unknown> {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.cached_input_tokens ?? 0 },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

function responsesMessageItem(answer: Answer, text: string): Record<string, unknown> {
  return {
    id: answer.messageId,
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

function responsesOutput(answer: Answer): Record<string, unknown>[] {
  const functionCalls = answer.toolCalls.map((toolCall) => ({
    id: toolCall.itemId,
    type: 'function_call',
    status: 'completed',
    call_id: toolCall.callId,
    name: toolCall.name,
    arguments: toolCall.arguments,
  }));
  return answer.text === undefined
    ? functionCalls
    : [responsesMessageItem(answer, answer.text), ...functionCalls];
}

function responsesResponse(
  answer: Answer,
  status: 'in_progress' | 'completed' = 'completed',
): Record<string, unknown> {
  return {
    id: answer.responseId,
    object: 'response',
    created_at: answer.createdSeconds,
    status,
    error: null,
    incomplete_details: null,
    model: answer.model,
    output: status === 'completed' ? responsesOutput(answer) : [],
    parallel_tool_calls: true,
    usage: status === 'completed' ? responsesUsage(answer.usage) : null,
  };
}

function responsesEvents(answer: Answer): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const emit = (type: string, fields: Record<string, unknown>): void => {
    events.push({
      name: type,
      data: JSON.stringify({ type, sequence_number: events.length, ...fields }),
    });
  };

  emit('response.created', { response: responsesResponse(answer, 'in_progress') });
  let outputIndex = 0;
  if (answer.text !== undefined) {
    const itemId = answer.messageId;
    const location = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    emit('response.output_item.added', {
      output_index: outputIndex,
      item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    });
    emit('response.content_part.added', {
      ...location,
      part: { type: 'output_text', text: '', annotations: [] },
    });
    for (const piece of splitText(answer.text)) {
      emit('response.output_text.delta', { ...location, delta: piece, logprobs: [] });
    }
    emit('response.output_text.done', { ...location, text: answer.text, logprobs: [] });
    emit('response.content_part.done', {
      ...location,
      part: { type: 'output_text', text: answer.text, annotations: [] },
    });
    emit('response.output_item.done', {
      output_index: outputIndex,
      item: responsesMessageItem(answer, answer.text),
    });
    outputIndex += 1;
  }
  for (const toolCall of answer.toolCalls) {
    const item = {
      id: toolCall.itemId,
      type: 'function_call',
      call_id: toolCall.callId,
      name: toolCall.name,
    };
    emit('response.output_item.added', {
      output_index: outputIndex,
      item: { ...item, status: 'in_progress', arguments: '' },
    });
    for (const piece of splitArguments(toolCall.arguments)) {
      emit('response.function_call_arguments.delta', {
        item_id: toolCall.itemId,
        output_index: outputIndex,
        delta: piece,
      });
    }
    emit('response.function_call_arguments.done', {
      item_id: toolCall.itemId,
      output_index: outputIndex,
      arguments: toolCall.arguments,
    });
    emit('response.output_item.done', {
      output_index: outputIndex,
      item: { ...item, status: 'completed', arguments: toolCall.arguments },
    });
    outputIndex += 1;
  }
  emit('response.completed', { response: responsesResponse(answer) });
  return events;
}
