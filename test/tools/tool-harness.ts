import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import type { ToolDefinition, ToolExecutionContext } from '../../src/tools/tool-definition.js';

/** A tool call context as the agent runtime builds it, with optional extra fields. */
export function toolContext(extra: Partial<ToolExecutionContext> = {}): ToolExecutionContext {
  return {
    abortSignal: new AbortController().signal,
    agent_id: 'test-agent',
    run_id: 'test-run',
    tool_call_id: 'call-1',
    ...extra,
  };
}

/** Validates `input` with the tool's own schema (defaults applied, as the AI SDK does), then runs it. */
export async function runTool<INPUT, OUTPUT>(
  tool: ToolDefinition<INPUT, OUTPUT>,
  input: unknown,
  context: ToolExecutionContext = toolContext(),
): Promise<OUTPUT> {
  const schema = tool.inputSchema as z.ZodType;
  const parsed = schema.parse(input) as INPUT;
  return tool.execute(parsed, context);
}

/** One request a {@link LocalServer} received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on a loopback address, for the network tools to talk to. */
export interface LocalServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  port: number;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts an HTTP server on `host` (default 127.0.0.1) and an ephemeral port. */
export async function startLocalServer(
  handler: (request: ReceivedRequest, response: ServerResponse) => void,
  host = '127.0.0.1',
): Promise<LocalServer> {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(entry);
      // The client may hang up early on purpose (byte caps): that is not a server failure.
      response.on('error', () => undefined);
      handler(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    origin: `http://${shown}:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was just released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
