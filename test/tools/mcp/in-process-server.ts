import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/** An MCP server in this process, spoken to over real streamable HTTP on 127.0.0.1. */
export interface InProcessServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the tools `register` adds, for one client session, over streamable HTTP. In-process so
 * a test can watch what the server side sees (cancellations) and pay no process start-up.
 */
export async function startInProcessServer(
  register: (server: McpServer) => void,
): Promise<InProcessServer> {
  const server = new McpServer({ name: 'in-process', version: '1.0.0' });
  register(server);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
  await server.connect(transport);
  const http = createServer((request, response) => {
    void transport.handleRequest(request, response);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      await server.close();
      http.closeAllConnections();
      http.close();
      await once(http, 'close');
    },
  };
}
