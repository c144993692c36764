import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import { request as httpRequest } from 'node:http';
import { afterEach } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  type NightshiftEvent,
} from '../../src/index.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Registers a cleanup to run after the current test. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/** The token test servers use unless told otherwise. */
export const TEST_TOKEN = 'test-token-8f2a6c';

/** A scripted agent definition (answers at once, offline); override any key. */
export function scriptedAgent(
  agentId: string,
  overrides: Partial<AgentDefinitionInput> = {},
): AgentDefinitionInput {
  return {
    agent_id: agentId,
    interval: 3600,
    model_config: { provider: 'scripted', script: [{ answer: `${agentId} says ok` }] },
    task_config: { query: 'Check the disk.' },
    ...overrides,
  };
}

/** A managing service on in-memory stores, shut down after the test. */
export async function startService(): Promise<BackgroundAgentService> {
  const service = new BackgroundAgentService(
    new MemoryRouter('in_memory'),
    new EventRouter('in_memory'),
  );
  await service.startManager();
  onCleanup(() => service.shutdown({ timeout: 1000 }));
  return service;
}

/** A JSON answer of the test server. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** The JSON body (typed as `JSON.parse` types it, for loose reading in tests), or the text. */
  body: ReturnType<typeof JSON.parse>;
}

/** A service and a real HTTP server on a random port, with a client that sends the token. */
export interface TestServer {
  service: BackgroundAgentService;
  server: RunningServer;
  url: string;
  /** Calls the API with the token (unless `headers` replaces the Authorization header). */
  api: (
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<ApiAnswer>;
}

/** Starts a service and a server on port 0 (with {@link TEST_TOKEN} unless options say otherwise). */
export async function startTestServer(
  options: ServerOptions = {},
  service?: BackgroundAgentService,
): Promise<TestServer> {
  const started = service ?? (await startService());
  const server = await startServer(started, { port: 0, token: TEST_TOKEN, ...options });
  onCleanup(() => server.close());
  const token = 'token' in options ? options.token : TEST_TOKEN;
  return {
    service: started,
    server,
    url: server.url,
    api: async (method, path, body, headers = {}) => {
      const response = await fetch(server.url + path, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        // Not JSON (metrics, HTML): the text itself.
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
  };
}

/**
 * A request through `node:http`, which (unlike fetch) lets a test send any `Host` header.
 * Resolves with the status and body text.
 */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname,
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers ?? {},
      },
      (incoming) => {
        let body = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk: string) => (body += chunk));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** A server-sent event stream read through fetch, message by message. */
export interface EventStreamClient {
  status: number;
  /** The next event (parsed `data:`), with its `id:`; fails after `timeoutMs`. */
  next: (timeoutMs?: number) => Promise<{ id: string; event: NightshiftEvent }>;
  /** Raw text received so far (comments included). */
  readonly raw: string;
  /** Disconnects, as a browser tab closing would. */
  close: () => void;
}

/** Opens an event stream; resolves once the server has subscribed (or refused, see `status`). */
export async function openEventStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<EventStreamClient> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  onCleanup(() => controller.abort());
  const messages: { id: string; event: NightshiftEvent }[] = [];
  const waiters: (() => void)[] = [];
  let raw = '';
  let buffer = '';
  let ended = false;
  if (response.body && response.ok) {
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          const text = decoder.decode(chunk, { stream: true });
          raw += text;
          buffer += text;
          for (
            let boundary = buffer.indexOf('\n\n');
            boundary >= 0;
            boundary = buffer.indexOf('\n\n')
          ) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            const id = /^id: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (id !== undefined && data !== undefined) {
              messages.push({ id, event: JSON.parse(data) as NightshiftEvent });
            }
          }
          waiters.splice(0).forEach((wake) => wake());
        }
      } catch {
        // Aborted by close().
      } finally {
        ended = true;
        waiters.splice(0).forEach((wake) => wake());
      }
    })();
  }
  const client: EventStreamClient = {
    status: response.status,
    get raw() {
      return raw;
    },
    next: async (timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const message = messages.shift();
        if (message) return message;
        if (ended) throw new Error('the event stream ended');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('timed out waiting for an event');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () => controller.abort(),
  };
  // The server says `: connected` once it has subscribed: from then on no event is missed.
  while (response.ok && !raw.includes(': connected') && !ended) {
    await new Promise<void>((resolve) => waiters.push(resolve));
  }
  return client;
}
